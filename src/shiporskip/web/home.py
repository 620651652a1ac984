"""The home page: today's tool, latest verdicts, biggest splits, the panel, categories."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shiporskip.domain.categories import CATEGORIES
from shiporskip.runtime import Runtime
from shiporskip.web.common import CriticStats, critic_stats, panel_summaries
from shiporskip.web.schemas import CategoryOut, ToolSummary, category_out, tool_summary
from shiporskip.web.site import Meta, Page, SiteDep, runtime_of

router = APIRouter()


class CategoryCount(CategoryOut):
    tools: int
    url: str


class HomePage(Page):
    count: int
    sample_count: int
    reviewed_count: int
    todays_tool: ToolSummary | None
    latest: list[ToolSummary]
    splits: list[ToolSummary]
    critics: list[CriticStats]
    categories: list[CategoryCount]
    tools: list[ToolSummary]


def home_page(runtime: Runtime) -> HomePage:
    tools = runtime.catalog.list()
    critics = runtime.critics()
    panels, summaries = panel_summaries(runtime, critics)
    by_slug = {t.slug: t for t in tools}
    cards = {t.slug: tool_summary(t, summaries.get(t.slug)) for t in tools}
    reviewed = sorted(
        (p for p in panels.values() if p.votes and p.slug in by_slug),
        key=lambda p: (p.reviewed_at, p.slug),
        reverse=True,
    )
    latest = [cards[p.slug] for p in reviewed[:8]]
    # The biggest splits: the closest votes among panels where most critics reported.
    contested = [
        p
        for p in reviewed
        if summaries[p.slug].reported >= max(3, len(critics) - 2)
        and abs(summaries[p.slug].ships - summaries[p.slug].skips) <= 1
    ]
    contested.sort(key=lambda p: (abs(summaries[p.slug].ships - summaries[p.slug].skips), p.slug))
    counts = Counter(t.category for t in tools)
    return HomePage(
        count=len(tools),
        sample_count=sum(t.sample for t in tools),
        reviewed_count=len(reviewed),
        todays_tool=latest[0] if latest else None,
        latest=latest,
        splits=[cards[p.slug] for p in contested[:6]],
        critics=[critic_stats(c, panels) for c in critics],
        categories=[
            CategoryCount(
                **category_out(c.slug).model_dump(),
                tools=counts[c.slug],
                url=f"/categories/{c.slug}",
            )
            for c in CATEGORIES
        ],
        tools=sorted(cards.values(), key=lambda t: t.name.lower()),
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, s: SiteDep) -> Response:
    page = home_page(s.runtime)
    meta = Meta(
        title="shiporskip — which AI tool should you ship with?",
        description=(
            f"{page.count} AI tools reviewed by a panel of {len(page.critics)} AI critics, "
            "each voting Ship or Skip, with pricing at your usage and a community vote."
        ),
        path="/",
    )
    return s.render(request, "home.html", page, meta)


@router.get("/api/v1/home", response_model=HomePage, tags=["pages"])
def api_home(request: Request) -> HomePage:
    """The home page's data."""
    return home_page(runtime_of(request))
