"""The panel page and one page per critic: profile, ship rate, agreement, tallies, reviews."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from shiporskip.domain.categories import BY_SLUG, CATEGORIES, resolve_category
from shiporskip.domain.predictions import TrackRecord
from shiporskip.domain.reviews import VERDICT_LABELS, PanelSummary, PanelVerdict, ReviewRecord
from shiporskip.domain.stats import Proportion
from shiporskip.errors import NotFoundError, UserError
from shiporskip.llm.labels import public_model_label
from shiporskip.panel.critics import Critic, find_critic
from shiporskip.runtime import Runtime
from shiporskip.storage.predictions import PredictionStore
from shiporskip.storage.queries import ToolHead, tool_heads
from shiporskip.storage.reviews import ToolPanel, reviews_by_critic
from shiporskip.web.common import CriticStats, critic_stats, panel_summaries
from shiporskip.web.openapi import errors
from shiporskip.web.schemas import CategoryOut, PredictionOut, category_out
from shiporskip.web.site import Meta, Page, SiteDep, not_found, runtime_of

router = APIRouter()

PAGE_SIZE = 25


class Agreement(BaseModel):
    """How often a critic's verdict matches the panel's, splits left out."""

    agreed: int
    compared: int
    splits: int
    pct: float | None
    pct_text: str
    interval_text: str


class TrackRecordOut(BaseModel):
    """How the critic's predictions turned out: `right_pct` is the share right of those
    settled right or wrong (unclear ones are counted apart), with its 95% Wilson interval.
    `sample` when the numbers come from bundled sample reviews (they count only for a
    critic with no resolved prediction from a model's review)."""

    right: int
    wrong: int
    unclear: int
    unresolved: int
    right_pct: float | None
    right_pct_text: str
    right_pct_interval: tuple[float, float] | None
    interval_text: str
    text: str
    sample: bool
    url: str


def track_record_out(critic_id: str, record: TrackRecord) -> TrackRecordOut:
    share = record.share
    interval = share.interval
    return TrackRecordOut(
        right=record.right,
        wrong=record.wrong,
        unclear=record.unclear,
        unresolved=record.unresolved,
        right_pct=None if share.value is None else 100 * share.value,
        right_pct_text=share.percent(),
        right_pct_interval=(100 * interval[0], 100 * interval[1]) if interval else None,
        interval_text=share.interval_text(),
        text=record.text,
        sample=record.sample,
        url=f"/predictions?{urlencode({'critic': critic_id})}",
    )


class CriticCard(CriticStats):
    lens: str
    retired: bool
    agreement: Agreement
    track_record: TrackRecordOut


class CriticsPage(Page):
    count: int
    critics: list[CriticCard]
    retired: list[CriticCard]
    tools_reviewed: int


class CategoryTally(BaseModel):
    slug: str
    name: str
    tools: int
    shipped: int
    shipped_pct_text: str
    text: str
    url: str
    selected: bool


class CriticReview(BaseModel):
    tool_slug: str
    tool_name: str
    tool_url: str
    category: CategoryOut
    verdict: str
    score: int
    one_liner: str
    body: str
    competitors: list[str]
    prediction: PredictionOut | None
    sample: bool
    model: str
    reviewed_at: datetime | None
    panel_verdict_label: str
    panel_tally: str
    agrees: bool | None


class CriticProfile(BaseModel):
    id: str
    name: str
    role: str
    motto: str
    lens: str
    excited_about: list[str]
    tired_of: list[str]
    review_shape: list[str]
    rules: list[str]
    prediction: str
    retired: bool


class CriticPage(Page):
    critic: CriticProfile
    stats: CriticStats
    agreement: Agreement
    track_record: TrackRecordOut
    categories: list[CategoryTally]
    all_categories: list[CategoryOut]
    category: CategoryOut | None
    filter_error: str | None
    count: int
    page: int
    pages: int
    prev_url: str | None
    next_url: str | None
    reviews: list[CriticReview]
    panel_url: str


def agreement(
    critic_id: str, panels: dict[str, ToolPanel], summaries: dict[str, PanelSummary]
) -> Agreement:
    """Share of a critic's verdicts that match the panel verdict (its own vote included)."""
    agreed = compared = splits = 0
    for slug, panel in panels.items():
        vote = panel.votes.get(critic_id)
        verdict = summaries[slug].verdict
        if vote is None or verdict is None:
            continue
        if verdict is PanelVerdict.tied:
            splits += 1
            continue
        compared += 1
        agreed += vote.verdict.value == verdict.value
    rate = Proportion(agreed, compared)
    return Agreement(
        agreed=agreed,
        compared=compared,
        splits=splits,
        pct=None if rate.value is None else 100 * rate.value,
        pct_text=rate.percent(),
        interval_text=rate.interval_text(),
    )


def _card(
    critic: Critic,
    panels: dict[str, ToolPanel],
    summaries: dict[str, PanelSummary],
    record: TrackRecord,
) -> CriticCard:
    return CriticCard(
        **critic_stats(critic, panels).model_dump(),
        lens=critic.lens,
        retired=critic.retired,
        agreement=agreement(critic.id, panels, summaries),
        track_record=track_record_out(critic.id, record),
    )


def critics_page(runtime: Runtime) -> CriticsPage:
    """The whole panel with each critic's numbers."""
    everyone = runtime.critics(include_retired=True)
    active = [c for c in everyone if not c.retired]
    panels, summaries = panel_summaries(runtime, active)
    records = PredictionStore(runtime.engine).track_records([c.id for c in everyone])
    cards = [_card(c, panels, summaries, records[c.id]) for c in everyone]
    return CriticsPage(
        count=len(active),
        critics=[c for c in cards if not c.retired],
        retired=[c for c in cards if c.retired],
        tools_reviewed=sum(1 for s in summaries.values() if s.reported),
    )


def _profile(critic: Critic) -> CriticProfile:
    return CriticProfile(
        id=critic.id,
        name=critic.name,
        role=critic.role,
        motto=critic.motto,
        lens=critic.lens,
        excited_about=list(critic.excited_about),
        tired_of=list(critic.tired_of),
        review_shape=list(critic.review_shape),
        rules=list(critic.rules),
        prediction=critic.prediction,
        retired=critic.retired,
    )


def _tallies(
    critic_id: str, records: Sequence[ReviewRecord], heads: dict[str, ToolHead], selected: str
) -> list[CategoryTally]:
    counts: dict[str, list[int]] = {}
    for record in records:
        tally = counts.setdefault(heads[record.tool_slug].category, [0, 0])
        tally[0] += 1
        tally[1] += record.draft is not None and record.draft.verdict.value == "ship"
    order = {c.slug: i for i, c in enumerate(CATEGORIES)}
    return [
        CategoryTally(
            slug=slug,
            name=BY_SLUG[slug].name,
            tools=n,
            shipped=m,
            shipped_pct_text=Proportion(m, n).percent(),
            text=f"{n} {'tool' if n == 1 else 'tools'}, {m} shipped",
            url=f"/critics/{critic_id}?{urlencode({'category': slug})}",
            selected=slug == selected,
        )
        for slug, (n, m) in sorted(counts.items(), key=lambda kv: order.get(kv[0], 99))
    ]


def _review(
    record: ReviewRecord, head: ToolHead, summary: PanelSummary | None
) -> CriticReview | None:
    draft = record.draft
    if draft is None:
        return None
    verdict = summary.verdict if summary else None
    agrees = None if verdict in (None, PanelVerdict.tied) else draft.verdict.value == verdict
    return CriticReview(
        tool_slug=head.slug,
        tool_name=head.name,
        tool_url=f"/tools/{head.slug}",
        category=category_out(head.category),
        verdict=draft.verdict.value,
        score=draft.score,
        one_liner=draft.one_liner,
        body=draft.body,
        competitors=list(draft.competitors),
        prediction=PredictionOut(**draft.prediction.model_dump()) if draft.prediction else None,
        sample=record.is_sample,
        model=public_model_label(record.model, record.provider),
        reviewed_at=record.created_at,
        panel_verdict_label=VERDICT_LABELS[verdict] if verdict else "No panel verdict",
        panel_tally=summary.tally if summary and summary.reported else "",
        agrees=agrees,
    )


def _filter(category: str | None) -> tuple[CategoryOut | None, str | None]:
    if not category:
        return None, None
    try:
        return category_out(resolve_category(category[:80]).slug), None
    except UserError as exc:
        return None, f"Cannot filter by category: {exc}."


def page_number(text: str) -> int:
    """A page number from the query string; anything that is not one means page 1."""
    return int(text) if text.isdigit() and len(text) < 7 else 1


def _page_url(critic_id: str, category: CategoryOut | None, page: int) -> str:
    params: dict[str, str | int] = {}
    if category:
        params["category"] = category.slug
    if page > 1:
        params["page"] = page
    return f"/critics/{critic_id}" + (f"?{urlencode(params)}" if params else "")


def _counts(panel: ToolPanel | None, critic_id: str, review_id: int | None) -> bool:
    vote = panel.votes.get(critic_id) if panel is not None else None
    return vote is not None and vote.review_id == review_id


def critic_page(
    runtime: Runtime, critic_id: str, category: str | None = None, page: int = 1
) -> CriticPage:
    """One critic's profile, numbers and reviews, optionally in one category."""
    everyone = runtime.critics(include_retired=True)
    critic = find_critic(everyone, critic_id)
    active = [c for c in everyone if not c.retired]
    panels, summaries = panel_summaries(runtime, active)
    heads = {h.slug: h for h in tool_heads(runtime.engine)}
    # The reviews that count (`domain/panel.py`): not a sample review set aside in a panel
    # of model reviews.
    records = [
        r
        for r in reviews_by_critic(runtime.engine, critic.id)
        if r.tool_slug in heads and _counts(panels.get(r.tool_slug), critic.id, r.id)
    ]
    chosen, error = _filter(category)
    shown = [r for r in records if chosen is None or heads[r.tool_slug].category == chosen.slug]
    pages = max(1, math.ceil(len(shown) / PAGE_SIZE))
    page = min(max(page, 1), pages)
    window = shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    reviews = [_review(r, heads[r.tool_slug], summaries.get(r.tool_slug)) for r in window]
    return CriticPage(
        critic=_profile(critic),
        stats=critic_stats(critic, panels),
        agreement=agreement(critic.id, panels, summaries),
        track_record=track_record_out(
            critic.id, PredictionStore(runtime.engine).track_records([critic.id])[critic.id]
        ),
        categories=_tallies(critic.id, records, heads, chosen.slug if chosen else ""),
        all_categories=[category_out(c.slug) for c in CATEGORIES],
        category=chosen,
        filter_error=error,
        count=len(shown),
        page=page,
        pages=pages,
        prev_url=_page_url(critic.id, chosen, page - 1) if page > 1 else None,
        next_url=_page_url(critic.id, chosen, page + 1) if page < pages else None,
        reviews=[r for r in reviews if r is not None],
        panel_url="/critics",
    )


@router.get("/critics", response_class=HTMLResponse, include_in_schema=False)
def critics(request: Request, s: SiteDep) -> Response:
    page = critics_page(s.runtime)
    meta = Meta(
        title=f"The panel: {page.count} AI critics · shiporskip",
        description=(
            f"The {page.count} critics who review every tool, each with its own lens, "
            "with their ship rates, 95% intervals and how often they agree with the panel."
        ),
        path="/critics",
    )
    return s.render(request, "critics.html", page, meta, shared=True, shows_votes=False)


@router.get("/critics/{critic_id}", response_class=HTMLResponse, include_in_schema=False)
def critic(
    request: Request, critic_id: str, s: SiteDep, category: str | None = None, page: str = "1"
) -> Response:
    try:
        context = critic_page(s.runtime, critic_id, category, page_number(page))
    except NotFoundError as exc:
        raise not_found(exc) from None
    c = context.critic
    meta = Meta(
        title=f"{c.name}, the {c.role.split('·')[0].strip().lower()} · shiporskip",
        description=(
            f"{c.motto} {c.name} has reviewed {context.stats.reviews} tools and ships "
            f"{context.stats.ship_pct_text} of them."
        ),
        path=_page_url(c.id, context.category, context.page),
        og_type="profile",
    )
    status = 422 if context.filter_error else 200
    return s.render(
        request, "critic.html", context, meta, status=status, shared=True, shows_votes=False
    )


@router.get("/api/v1/critics", response_model=CriticsPage, tags=["critics"], responses=errors())
def api_critics(request: Request) -> CriticsPage:
    """The whole panel: each critic's ship rate with its 95% interval and agreement."""
    return critics_page(runtime_of(request))


@router.get(
    "/api/v1/critics/{critic_id}",
    response_model=CriticPage,
    tags=["critics"],
    responses=errors(404, 422),
)
def api_critic(
    request: Request, critic_id: str, category: str | None = None, page: str = "1"
) -> CriticPage:
    """One critic's page: profile, numbers, per-category tallies and reviews."""
    try:
        context = critic_page(runtime_of(request), critic_id, category, page_number(page))
    except NotFoundError as exc:
        raise not_found(exc) from None
    if context.filter_error:
        raise HTTPException(422, context.filter_error)
    return context
