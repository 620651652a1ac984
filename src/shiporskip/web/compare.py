"""Compare pages: which of two tools should you ship with? One context, as HTML or JSON.

Also home of the pricing-read schemas, which the tool page shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from shiporskip.domain.compare import CONCLUSION_RULE, conclude
from shiporskip.domain.pairwise import PairwiseTally
from shiporskip.domain.pricing import ENTRY_LABELS
from shiporskip.domain.pricing_read import (
    USAGE_EXAMPLE,
    ToolPricing,
    describe_usage,
    read_pair,
    read_tool,
    reader_usage,
)
from shiporskip.domain.reviews import VERDICT_LABELS, PanelSummary, ReviewRecord, Verdict
from shiporskip.domain.tools import Tool
from shiporskip.domain.votes import Community
from shiporskip.errors import NotFoundError
from shiporskip.panel.critics import Critic
from shiporskip.runtime import Runtime
from shiporskip.storage.page_versions import PageScope
from shiporskip.storage.votes import VoteStore
from shiporskip.web.common import compare_path
from shiporskip.web.openapi import errors
from shiporskip.web.pairwise import PairwiseOut, pairwise_out
from shiporskip.web.schemas import (
    CommunityOut,
    PanelOut,
    ToolDetail,
    community_out,
    panel_out,
    tool_detail,
)
from shiporskip.web.site import Meta, Page, SiteDep, not_found, runtime_of
from shiporskip.web.votes import vote_box

router = APIRouter()

RULE_URL = "/methodology#compare"
Side = Literal["a", "b", "even"]
SEPARATOR = "-vs-"
UsageParam = Annotated[
    str | None,
    Query(description=f"A month of use, e.g. '{USAGE_EXAMPLE}'. Blank: each tool's default."),
]


class UsageForm(BaseModel):
    """The usage form: what the reader typed (or the default) and the error, if any."""

    value: str
    error: str | None = None
    example: str = USAGE_EXAMPLE


class PlanReadOut(BaseModel):
    name: str
    currency: str
    cost: str | None
    cost_text: str
    reason: str | None
    cheapest: bool
    covers: bool = True
    limits: list[str] = []


class PricingReadOut(BaseModel):
    headline: str
    units: list[str]
    usage: dict[str, str]
    usage_input: str
    usage_text: str
    default_usage: bool
    plans: list[PlanReadOut]
    cheapest: PlanReadOut | None
    cost_text: str
    summary: str
    note: str | None


class ToolPricingRead(BaseModel):
    """The tool page's pricing read: the form and the read."""

    form: UsageForm
    read: PricingReadOut


class Take(BaseModel):
    verdict: str
    verdict_label: str
    score: int
    one_liner: str


class ScorecardRow(BaseModel):
    critic: str
    critic_name: str
    role: str
    url: str
    a: Take | None
    b: Take | None
    higher: Side | None
    split: str


class Scorecard(BaseModel):
    rows: list[ScorecardRow]
    a_higher: int
    b_higher: int
    even: int
    summary: str


class CompareSide(BaseModel):
    tool: ToolDetail
    panel: PanelOut
    verdict_line: str
    community: CommunityOut
    best_for: str
    awaiting_review: bool  # no critic has reported yet: the side cannot win or lose
    pricing: PricingReadOut


class PairPricingOut(BaseModel):
    form: UsageForm
    comparable: bool
    same_usage: bool
    sentence: str


class ConclusionOut(BaseModel):
    winner: str | None
    winner_name: str | None
    strength: str
    text: str
    rule: str
    rule_url: str


class ComparePage(Page):
    title: str
    url: str
    canonical_url: str
    swapped_url: str
    a: CompareSide
    b: CompareSide
    conclusion: ConclusionOut
    pricing: PairPricingOut
    scorecard: Scorecard
    pairwise: PairwiseOut


def pricing_read_out(read: ToolPricing) -> PricingReadOut:
    """The API shape of one tool's pricing read."""
    plans = [
        PlanReadOut(
            name=p.name,
            currency=p.currency,
            cost=None if p.cost is None else f"{p.cost:.2f}",
            cost_text=p.cost_text,
            reason=p.reason,
            cheapest=p.cheapest,
            covers=p.covers,
            limits=list(p.limits),
        )
        for p in read.plans
    ]
    cheapest = next((p for p in plans if p.cheapest), None)
    return PricingReadOut(
        headline=read.headline,
        units=[u.value for u in read.units],
        usage={u.value: str(q) for u, q in read.usage.items()},
        usage_input=read.usage_text,
        usage_text=describe_usage(read.usage, prose=True),
        default_usage=read.default_usage,
        plans=plans,
        cheapest=cheapest,
        cost_text=cheapest.cost_text if cheapest else "—",
        summary=read.summary,
        note=read.note,
    )


def tool_pricing_read(tool: Tool, usage_text: str | None) -> ToolPricingRead:
    """The pricing read of one tool at the reader's usage, or its default and the error."""
    usage, error = reader_usage(usage_text)
    read = pricing_read_out(read_tool(tool, usage))
    value = usage_text.strip() if usage_text and usage_text.strip() else read.usage_input
    return ToolPricingRead(form=UsageForm(value=value, error=error), read=read)


def split_pair(pair: str) -> tuple[str, str]:
    """'a-vs-b' -> ('a', 'b'); a malformed pair is a 404, the same tool twice a 400."""
    first, sep, second = pair.partition(SEPARATOR)
    if not sep or not first or not second:
        raise HTTPException(
            404, f"{pair!r} is not a comparison; compare two tools as /compare/A-vs-B"
        )
    if first == second:
        raise HTTPException(
            400, f"Both sides are {first!r}; pick two different tools, e.g. /compare/{first}-vs-B"
        )
    return first, second


def compare_page(runtime: Runtime, a_slug: str, b_slug: str, usage_text: str | None) -> ComparePage:
    """Build the comparison of two tools, in the order asked."""
    a, b = runtime.catalog.get_all([a_slug, b_slug])
    critics = runtime.critics()
    panels = runtime.reviews.current_panels([a_slug, b_slug], [c.id for c in critics])
    panel_a, panel_b = panels[a_slug], panels[b_slug]
    cur_a, cur_b = panel_a.current, panel_b.current
    sum_a, sum_b = panel_a.summary, panel_b.summary
    usage, error = reader_usage(usage_text)
    pair = read_pair(a, b, usage)
    read_a, read_b = pricing_read_out(pair.a), pricing_read_out(pair.b)
    value = usage_text.strip() if usage_text and usage_text.strip() else ""
    if not value and pair.same_usage and a.pricing.plans and b.pricing.plans:
        value = read_a.usage_input
    minimum = runtime.settings.vote_min_count
    communities = VoteStore(runtime.engine).communities(minimum, [a_slug, b_slug])
    pairwise, picks = pairwise_out(runtime, critics, a, b)
    if a.slug != pairwise.first_shown:
        picks = picks.swapped_sides()  # the tally in the page's order
    no_votes = Community(0, 0, 0, minimum)
    return ComparePage(
        title=f"{a.name} vs {b.name}",
        url=f"/compare/{a_slug}{SEPARATOR}{b_slug}",
        canonical_url=compare_path(a_slug, b_slug),
        swapped_url=f"/compare/{b_slug}{SEPARATOR}{a_slug}",
        a=_side(a, critics, cur_a, sum_a, read_a, communities.get(a_slug, no_votes)),
        b=_side(b, critics, cur_b, sum_b, read_b, communities.get(b_slug, no_votes)),
        conclusion=_conclusion(a, b, sum_a, sum_b, picks),
        pricing=PairPricingOut(
            form=UsageForm(value=value, error=error),
            comparable=pair.comparable,
            same_usage=pair.same_usage,
            sentence=pair.sentence,
        ),
        scorecard=_scorecard(critics, a.name, b.name, cur_a, cur_b),
        pairwise=pairwise,
    )


def verdict_line(summary: PanelSummary) -> str:
    """'Ship · 5 ship / 2 skip', or 'Not reviewed yet'."""
    if summary.verdict is None:
        return "Not reviewed yet"
    label = VERDICT_LABELS[summary.verdict]
    return f"{label} · {summary.ships} ship / {summary.skips} skip"


def best_for(tool: Tool, critics: Sequence[Critic], current: Mapping[str, ReviewRecord]) -> str:
    """Who it suits, from this tool's own data and its critics' reviews: category, entry
    tier, which lenses shipped it, and the take of the critic that scored it highest."""
    where = f"{tool.category_info.name} ({ENTRY_LABELS[tool.pricing.entry].lower()}" + (
        ", open weights)" if tool.open_weights else ")"
    )
    reviewed = [c for c in critics if c.id in current and current[c.id].draft is not None]
    if not reviewed:
        return f"{where}; no panel yet"
    shipped = [c for c in reviewed if _verdict(current[c.id]) is Verdict.ship]
    pool = shipped or reviewed
    top = max(pool, key=lambda c: _score(current[c.id]))  # first in panel order on a tie
    draft = current[top.id].draft
    assert draft is not None
    case = f"the {top.label.lower()} ({draft.score}): “{draft.one_liner}”"
    if not shipped:
        return f"{where}; no critic shipped it; highest score from {case}"
    if len(shipped) == len(critics):
        who = f"shipped by all {len(critics)} critics"
    else:
        lenses = [c.label.lower() for c in shipped]
        body = ", ".join(lenses[:-1]) + " and " + lenses[-1] if len(lenses) > 1 else lenses[0]
        who = f"shipped by the {body}"
    return f"{where}; {who}; strongest case from {case}"


def _score(record: ReviewRecord) -> int:
    return record.draft.score if record.draft else -1


def _side(
    tool: Tool,
    critics: Sequence[Critic],
    current: Mapping[str, ReviewRecord],
    summary: PanelSummary,
    read: PricingReadOut,
    community: Community,
) -> CompareSide:
    return CompareSide(
        tool=tool_detail(tool),
        panel=panel_out(summary),
        verdict_line=verdict_line(summary),
        community=community_out(community, summary),
        best_for=best_for(tool, critics, current),
        awaiting_review=not summary.reported,
        pricing=read,
    )


def _verdict(record: ReviewRecord) -> Verdict | None:
    return record.draft.verdict if record.draft else None


def _conclusion(
    a: Tool,
    b: Tool,
    sum_a: PanelSummary,
    sum_b: PanelSummary,
    picks: PairwiseTally,
) -> ConclusionOut:
    call = conclude(
        a.name,
        b.name,
        sum_a,
        sum_b,
        a_category=a.category_info.name,
        b_category=b.category_info.name,
        pairwise=picks,
    )
    winner = {"a": a, "b": b}.get(call.winner or "")
    return ConclusionOut(
        winner=winner.slug if winner else None,
        winner_name=winner.name if winner else None,
        strength=call.strength,
        text=call.reason,
        rule=CONCLUSION_RULE,
        rule_url=RULE_URL,
    )


def _take(record: ReviewRecord | None) -> Take | None:
    if record is None or record.draft is None:
        return None
    d = record.draft
    label = "Ship" if d.verdict is Verdict.ship else "Skip"
    return Take(verdict=d.verdict.value, verdict_label=label, score=d.score, one_liner=d.one_liner)


def _split(a_name: str, b_name: str, a: Take | None, b: Take | None) -> tuple[Side | None, str]:
    if a is None or b is None:
        return None, "—"
    if a.score == b.score:
        return "even", "Even"
    diff = abs(a.score - b.score)
    return ("a", f"{a_name} +{diff}") if a.score > b.score else ("b", f"{b_name} +{diff}")


def _scorecard(
    critics: Sequence[Critic],
    a_name: str,
    b_name: str,
    cur_a: Mapping[str, ReviewRecord],
    cur_b: Mapping[str, ReviewRecord],
) -> Scorecard:
    rows = []
    for critic in critics:
        take_a, take_b = _take(cur_a.get(critic.id)), _take(cur_b.get(critic.id))
        higher, split = _split(a_name, b_name, take_a, take_b)
        rows.append(
            ScorecardRow(
                critic=critic.id,
                critic_name=critic.name,
                role=critic.role,
                url=f"/critics/{critic.id}",
                a=take_a,
                b=take_b,
                higher=higher,
                split=split,
            )
        )
    counts = {side: sum(r.higher == side for r in rows) for side in ("a", "b", "even")}
    both = sum(counts.values())
    summary = (
        f"Of {both} critics who reviewed both, {counts['a']} scored {a_name} higher, "
        f"{counts['b']} scored {b_name} higher and {counts['even']} gave equal scores."
        if both
        else "No critic has reviewed both tools yet, so there is no split to show."
    )
    return Scorecard(
        rows=rows, a_higher=counts["a"], b_higher=counts["b"], even=counts["even"], summary=summary
    )


def _page(runtime: Runtime, pair: str, usage: str | None) -> ComparePage:
    a_slug, b_slug = split_pair(pair)
    try:
        return compare_page(runtime, a_slug, b_slug, usage)
    except NotFoundError as exc:
        raise not_found(exc) from None


@router.get("/compare/{pair}", response_class=HTMLResponse, include_in_schema=False)
def compare(request: Request, pair: str, s: SiteDep, usage: UsageParam = None) -> Response:
    page = _page(s.runtime, pair, usage)
    a, b = page.a, page.b
    meta = Meta(
        title=f"{page.title} — which one should you ship with? · shiporskip",
        description=(
            f"{a.tool.name} ({a.verdict_line}) against {b.tool.name} ({b.verdict_line}): "
            "panel votes, cost at your usage and how each critic scored the pair."
        ),
        path=page.canonical_url,
        og_type="article",
    )
    boxes = {
        side.tool.slug: vote_box(request, side.tool.slug, _community(side.community))
        for side in (a, b)
    }
    shows = PageScope.of([a.tool.slug, b.tool.slug])
    return s.render(
        request, "compare.html", page, meta, extra={"votes": boxes}, shared=True, scope=shows
    )


def _community(out: CommunityOut) -> Community:
    return Community(out.ships, out.skips, out.verified, out.minimum)


@router.get(
    "/api/v1/compare/{pair}",
    response_model=ComparePage,
    tags=["compare"],
    responses=errors(404, 422),
)
def api_compare(request: Request, pair: str, usage: UsageParam = None) -> ComparePage:
    """A comparison page's data (pair is 'a-vs-b'): the same context the HTML page renders."""
    page = _page(runtime_of(request), pair, usage)
    if page.pricing.form.error:
        raise HTTPException(422, page.pricing.form.error)
    return page
