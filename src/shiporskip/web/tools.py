"""Tool pages (the index of all tools is `web/tools_index.py`)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from shiporskip.domain.text import name_key
from shiporskip.domain.votes import Community
from shiporskip.errors import NotFoundError
from shiporskip.llm.labels import failure_reason, failure_text
from shiporskip.runtime import Runtime
from shiporskip.storage.history import tool_history
from shiporskip.storage.page_versions import PageScope
from shiporskip.storage.peers import similar_peers, tools_named
from shiporskip.storage.votes import VoteStore
from shiporskip.web.common import compare_path, panel_summaries
from shiporskip.web.compare import ToolPricingRead, UsageParam, tool_pricing_read
from shiporskip.web.openapi import errors
from shiporskip.web.provenance import (
    HistoryEntryOut,
    HistoryLineOut,
    ProvenanceOut,
    history_entry,
    history_lines,
    provenance_out,
)
from shiporskip.web.schemas import (
    CommunityOut,
    FailureOut,
    FlagOut,
    PanelOut,
    PredictionOut,
    ReviewOut,
    ToolDetail,
    ToolSummary,
    community_out,
    panel_out,
    tool_detail,
    tool_summary,
)
from shiporskip.web.site import Meta, Page, SiteDep, not_found, runtime_of
from shiporskip.web.votes import vote_box

router = APIRouter()

SIMILAR = 6
COMPARE = 8


class CompareLink(BaseModel):
    slug: str
    name: str
    url: str
    reason: str


class Embed(BaseModel):
    badge_url: str
    embed_url: str
    html: str
    markdown: str
    iframe: str


class ToolPage(Page):
    tool: ToolDetail
    panel: PanelOut
    community: CommunityOut
    reviewed_at: datetime | None
    provenance: ProvenanceOut
    history: list[HistoryLineOut]
    reviews: list[ReviewOut]
    failures: list[FailureOut]
    flags: list[FlagOut]
    similar: list[ToolSummary]
    compare_with: list[CompareLink]
    share_text: str
    embed: Embed
    pricing_read: ToolPricingRead


def tool_page(runtime: Runtime, slug: str, usage: str | None = None) -> ToolPage:
    tool, flags = runtime.catalog.get_flagged(slug)
    critics = runtime.critics()
    current = runtime.reviews.panel(slug, [c.id for c in critics])
    summary = current.summary
    reviews = []
    for critic in critics:
        seat = current.read.seat(critic.id)
        record = current.review(critic.id)
        if seat is None or seat.counted is None or record is None or record.draft is None:
            continue
        d = record.draft
        failure = current.failure(critic.id)
        reviews.append(
            ReviewOut(
                critic=critic.id,
                critic_name=critic.name,
                role=critic.role,
                motto=critic.motto,
                verdict=d.verdict.value,
                score=d.score,
                one_liner=d.one_liner,
                body=d.body,
                competitors=list(d.competitors),
                prediction=PredictionOut(**d.prediction.model_dump()) if d.prediction else None,
                model=seat.counted.model,
                sample=record.is_sample,
                notes=list(record.notes),
                reviewed_at=seat.counted.created_at,
                earlier_run=seat.earlier_run,
                earlier_run_note=(
                    f"From an earlier run: the re-review on "
                    f"{failure.created_at.date().isoformat()} failed "
                    f"({failure_reason(failure.error)})."
                    if failure is not None and failure.created_at is not None
                    else None
                ),
            )
        )
    failures = []
    for c in critics:
        seat = current.read.seat(c.id)
        record = current.failure(c.id)
        if seat is not None and seat.failed and record is not None:
            failures.append(
                FailureOut(
                    critic=c.id,
                    critic_name=c.name,
                    reason=failure_reason(record.error),
                    text=failure_text(c.name, record.error),
                )
            )
    links: dict[str, CompareLink] = {}
    named = [(review, c) for review in reviews for c in review.competitors]
    index = tools_named(runtime.engine, (name_key(c) for _, c in named))
    for review, competitor in named:
        found = index.get(name_key(competitor))
        if found and found[0] != slug and found[0] not in links:
            links[found[0]] = CompareLink(
                slug=found[0],
                name=found[1],
                url=compare_path(slug, found[0]),
                reason=f"named by the {review.role.split('·')[0].strip().lower()}",
            )
    # Enough of the best-ranked peers to fill the similar list and the compare links.
    peers = similar_peers(runtime.engine, tool.category, slug, max(SIMILAR, COMPARE + len(links)))
    for peer in peers:
        if len(links) >= COMPARE:
            break
        links.setdefault(
            peer.slug,
            CompareLink(
                slug=peer.slug,
                name=peer.name,
                url=compare_path(slug, peer.slug),
                reason=f"also in {tool.category_info.name}",
            ),
        )
    similar = peers[:SIMILAR]
    _, summaries = panel_summaries(runtime, critics, [p.slug for p in similar])
    detail = tool_detail(tool)
    panel = panel_out(summary)
    reviewed_at = current.read.reviewed_at
    base = runtime.settings.base_url.rstrip("/")
    url = f"{base}/tools/{slug}"
    verdict = f"{panel.verdict_label} {panel.tally}" if summary.reported else "not reviewed yet"
    badge = f"{base}/badge/{slug}.svg"
    embed_url = f"{base}/embed/{slug}"
    go = f"{base}/go/{slug}"
    alt = f"{tool.name}: {verdict} on shiporskip"
    return ToolPage(
        tool=detail,
        panel=panel,
        community=community_out(
            VoteStore(runtime.engine).community(slug, runtime.settings.vote_min_count), summary
        ),
        reviewed_at=reviewed_at,
        provenance=provenance_out(current, critics),
        history=history_lines(tool_history(runtime.engine, slug)),
        reviews=reviews,
        failures=failures,
        flags=[FlagOut(**f) for f in flags],
        similar=[tool_summary(p.tool(), summaries.get(p.slug)) for p in similar],
        compare_with=list(links.values())[:COMPARE],
        share_text=f"{tool.name} — the shiporskip panel says {verdict}: {url}",
        embed=Embed(
            badge_url=badge,
            embed_url=embed_url,
            html=f'<a href="{go}?ref=badge"><img src="{badge}" alt="{_attr(alt)}"></a>',
            markdown=f"[![{alt}]({badge})]({go}?ref=badge)",
            iframe=(
                f'<iframe src="{embed_url}" title="{_attr(alt)}" width="320" height="180" '
                'style="border:0"></iframe>'
            ),
        ),
        pricing_read=tool_pricing_read(tool, usage),
    )


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


@router.get("/tools/{slug}", response_class=HTMLResponse, include_in_schema=False)
def tool(request: Request, slug: str, s: SiteDep, usage: UsageParam = None) -> Response:
    try:
        page = tool_page(s.runtime, slug, usage)
    except NotFoundError as exc:
        raise not_found(exc) from None
    t = page.tool
    verdict = f"{page.panel.verdict_label} {page.panel.tally}" if page.panel.reported else ""
    meta = Meta(
        title=f"{t.name} — Ship or Skip? {verdict}".strip() + " · shiporskip",
        description=f"{t.tagline} Panel verdict: {verdict or 'not reviewed yet'}.",
        path=f"/tools/{slug}",
        og_type="article",
    )
    c = page.community
    box = vote_box(request, slug, Community(c.ships, c.skips, c.verified, c.minimum))
    # Beyond its own tool, the page shows its category's best-ranked panels.
    shows = PageScope.of([slug], [t.category.slug])
    return s.render(request, "tool.html", page, meta, extra={"vote": box}, shared=True, scope=shows)


@router.get(
    "/api/v1/tools/{slug}", response_model=ToolPage, tags=["tools"], responses=errors(404, 422)
)
def api_tool(request: Request, slug: str, usage: UsageParam = None) -> ToolPage:
    """One tool page's data: the same context the HTML page renders."""
    try:
        page = tool_page(runtime_of(request), slug, usage)
    except NotFoundError as exc:
        raise not_found(exc) from None
    if page.pricing_read.form.error:
        raise HTTPException(422, page.pricing_read.form.error)
    return page


class HistoryToolOut(BaseModel):
    slug: str
    name: str
    url: str


class ToolHistory(BaseModel):
    """A tool's verdict history: every change of its panel, oldest first."""

    tool: HistoryToolOut
    history: list[HistoryEntryOut]


@router.get(
    "/api/v1/tools/{slug}/history",
    response_model=ToolHistory,
    tags=["tools"],
    responses=errors(404),
)
def api_tool_history(request: Request, slug: str) -> ToolHistory:
    """Every change of a tool's panel verdict, tally and ship %, oldest first."""
    runtime = runtime_of(request)
    try:
        tool = runtime.catalog.get(slug)
    except NotFoundError as exc:
        raise not_found(exc) from None
    return ToolHistory(
        tool=HistoryToolOut(slug=tool.slug, name=tool.name, url=f"/tools/{tool.slug}"),
        history=[history_entry(p) for p in tool_history(runtime.engine, slug)],
    )
