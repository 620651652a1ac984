"""The home page: today's tool, latest verdicts, biggest splits, the panel, categories."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shiporskip.domain.categories import CATEGORIES
from shiporskip.runtime import Runtime
from shiporskip.storage.queries import (
    catalog_counts,
    critic_tallies,
    first_by_name,
    panel_heads,
    tools_by_slug,
)
from shiporskip.web.common import CriticStats, counted_critic_stats, panel_summaries
from shiporskip.web.openapi import errors
from shiporskip.web.schemas import CategoryOut, ToolSummary, category_out, tool_summary
from shiporskip.web.site import Meta, Page, SiteDep, runtime_of

router = APIRouter()

FLAG_NOTE = "Flagged: the maker's text tries to instruct the critics; see the tool's page."

HOME_TOOLS = 60


class CategoryCount(CategoryOut):
    tools: int
    url: str


class HomePage(Page):
    count: int
    sample_count: int
    reviewed_count: int
    todays_tool: ToolSummary | None
    todays_tool_flag: str | None = None  # the featured tool's maker text is flagged
    latest: list[ToolSummary]
    splits: list[ToolSummary]
    critics: list[CriticStats]
    categories: list[CategoryCount]
    tools: list[ToolSummary]


def home_page(runtime: Runtime) -> HomePage:
    critics = runtime.critics()
    count, sample_count, counts = catalog_counts(runtime.engine)
    latest_slugs, split_slugs, reviewed_count = panel_heads(
        runtime.engine, latest=8, splits=6, min_reported=max(3, len(critics) - 2)
    )
    # "All tools" is the first page by name; the categories page every tool, ranked.
    first = first_by_name(runtime.engine, HOME_TOOLS)
    wanted = {*latest_slugs, *split_slugs} - {t.slug for t in first}
    tools = [*first, *tools_by_slug(runtime.engine, wanted).values()]
    _, summaries = panel_summaries(runtime, critics, [t.slug for t in tools])
    cards = {t.slug: tool_summary(t, summaries.get(t.slug)) for t in tools}
    by_slug = {t.slug: t for t in tools}
    latest = [cards[s] for s in latest_slugs if s in cards]
    # The biggest splits: the closest votes among panels where most critics reported.
    splits = [cards[s] for s in split_slugs if s in cards]
    tallies = critic_tallies(runtime.engine)
    return HomePage(
        count=count,
        sample_count=sample_count,
        reviewed_count=reviewed_count,
        todays_tool=latest[0] if latest else None,
        todays_tool_flag=FLAG_NOTE
        if latest and by_slug[latest[0].slug].injection_flags()
        else None,
        latest=latest,
        splits=splits,
        critics=[counted_critic_stats(c, *tallies.get(c.id, (0, 0))) for c in critics],
        categories=[
            CategoryCount(
                **category_out(c.slug).model_dump(),
                tools=counts.get(c.slug, 0),
                url=f"/categories/{c.slug}",
            )
            for c in CATEGORIES
        ],
        tools=sorted((cards[t.slug] for t in first), key=lambda t: t.name.lower()),
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
    return s.render(request, "home.html", page, meta, shared=True, shows_votes=False)


@router.get("/api/v1/home", response_model=HomePage, tags=["pages"], responses=errors())
def api_home(request: Request) -> HomePage:
    """The home page's data."""
    return home_page(runtime_of(request))
