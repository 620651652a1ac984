"""The panel page and one page per critic: profile, ship rate, agreement, tallies, reviews."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from shiporskip.domain.categories import CATEGORIES, resolve_category
from shiporskip.domain.predictions import TrackRecord
from shiporskip.domain.reviews import VERDICT_LABELS, PanelVerdict, ReviewRecord
from shiporskip.domain.stats import Proportion
from shiporskip.errors import NotFoundError, UserError
from shiporskip.llm.labels import public_model_label
from shiporskip.panel.critics import Critic, find_critic
from shiporskip.runtime import Runtime
from shiporskip.storage.predictions import PredictionStore
from shiporskip.storage.queries import PanelCard, panel_cards
from shiporskip.storage.reviews import reviews_by_id
from shiporskip.storage.summaries import (
    CriticTotals,
    Seat,
    critic_category_totals,
    critic_seats,
    read_catalog_counts,
    summed,
)
from shiporskip.web.common import CriticStats, counted_critic_stats
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
    shown: int
    first_url: str | None
    prev_url: str | None
    next_url: str | None
    reviews: list[CriticReview]
    panel_url: str


def agreement(total: CriticTotals) -> Agreement:
    """Share of a critic's verdicts that match the panel verdict (its own vote included)."""
    rate = Proportion(total.agreed, total.compared)
    return Agreement(
        agreed=total.agreed,
        compared=total.compared,
        splits=total.splits,
        pct=None if rate.value is None else 100 * rate.value,
        pct_text=rate.percent(),
        interval_text=rate.interval_text(),
    )


def _card(critic: Critic, total: CriticTotals, record: TrackRecord) -> CriticCard:
    return CriticCard(
        **counted_critic_stats(critic, total.reviews, total.ships).model_dump(),
        lens=critic.lens,
        retired=critic.retired,
        agreement=agreement(total),
        track_record=track_record_out(critic.id, record),
    )


def critics_page(runtime: Runtime) -> CriticsPage:
    """The whole panel with each critic's numbers, from the catalog summaries."""
    everyone = runtime.critics(include_retired=True)
    totals = critic_category_totals(runtime.engine)
    records = PredictionStore(runtime.engine).track_records([c.id for c in everyone])
    cards = [_card(c, summed(totals.get(c.id, {})), records[c.id]) for c in everyone]
    return CriticsPage(
        count=sum(not c.retired for c in everyone),
        critics=[c for c in cards if not c.retired],
        retired=[c for c in cards if c.retired],
        tools_reviewed=read_catalog_counts(runtime.engine).reviewed(),
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


def _tallies(critic_id: str, totals: dict[str, CriticTotals], selected: str) -> list[CategoryTally]:
    return [
        CategoryTally(
            slug=c.slug,
            name=c.name,
            tools=t.reviews,
            shipped=t.ships,
            shipped_pct_text=Proportion(t.ships, t.reviews).percent(),
            text=f"{t.reviews} {'tool' if t.reviews == 1 else 'tools'}, {t.ships} shipped",
            url=f"/critics/{critic_id}?{urlencode({'category': c.slug})}",
            selected=c.slug == selected,
        )
        for c in CATEGORIES
        if (t := totals.get(c.slug)) is not None
    ]


def _review(record: ReviewRecord, seat: Seat, card: PanelCard) -> CriticReview | None:
    draft = record.draft
    if draft is None:
        return None
    verdict = PanelVerdict(seat.panel_verdict)
    agrees = None if verdict is PanelVerdict.tied else seat.verdict == verdict.value
    return CriticReview(
        tool_slug=card.head.slug,
        tool_name=card.head.name,
        tool_url=f"/tools/{card.head.slug}",
        category=category_out(card.head.category),
        verdict=draft.verdict.value,
        score=draft.score,
        one_liner=draft.one_liner,
        body=draft.body,
        competitors=list(draft.competitors),
        prediction=PredictionOut(**draft.prediction.model_dump()) if draft.prediction else None,
        sample=record.is_sample,
        model=public_model_label(record.model, record.provider),
        reviewed_at=record.created_at,
        panel_verdict_label=VERDICT_LABELS[verdict],
        panel_tally=f"{card.ships}-{card.skips}",
        agrees=agrees,
    )


def _filter(category: str | None) -> tuple[CategoryOut | None, str | None]:
    if not category:
        return None, None
    try:
        return category_out(resolve_category(category[:80]).slug), None
    except UserError as exc:
        return None, f"Cannot filter by category: {exc}."


def review_id(text: str | None) -> int | None:
    """A review id from the query string; anything that is not one means none."""
    return int(text) if text and text.isdigit() and len(text) < 12 else None


def _page_url(
    critic_id: str,
    category: CategoryOut | None,
    after: int | None = None,
    before: int | None = None,
) -> str:
    params: dict[str, str | int] = {}
    if category:
        params["category"] = category.slug
    if after is not None:
        params["after"] = after
    if before is not None:
        params["before"] = before
    return f"/critics/{critic_id}" + (f"?{urlencode(params)}" if params else "")


def critic_page(
    runtime: Runtime,
    critic_id: str,
    category: str | None = None,
    after: int | None = None,
    before: int | None = None,
) -> CriticPage:
    """One critic's profile, numbers and reviews, optionally in one category.

    The numbers come from the catalog summaries; the reviews are the counted ones
    (`domain/panel.py`), newest first, a page at a time after (or before) a review id, so
    a page costs its own rows at any catalog size.
    """
    everyone = runtime.critics(include_retired=True)
    critic = find_critic(everyone, critic_id)
    totals = critic_category_totals(runtime.engine, [critic.id]).get(critic.id, {})
    total = summed(totals)
    chosen, error = _filter(category)
    count = totals.get(chosen.slug, CriticTotals()).reviews if chosen else total.reviews
    if before is not None:
        after = None
    seats = critic_seats(
        runtime.engine,
        critic.id,
        chosen.slug if chosen else None,
        PAGE_SIZE + 1,
        after=after,
        before=before,
    )
    more = len(seats) > PAGE_SIZE
    if before is not None:
        seats, more_before, more_after = seats[-PAGE_SIZE:], more, True
    else:
        seats, more_before, more_after = seats[:PAGE_SIZE], after is not None, more
    records = reviews_by_id(runtime.engine, [s.review_id for s in seats])
    cards = panel_cards(runtime.engine, [s.tool_id for s in seats])
    reviews = [
        _review(records[s.review_id], s, cards[s.tool_id])
        for s in seats
        if s.review_id in records and s.tool_id in cards
    ]
    shown = [r for r in reviews if r is not None]
    return CriticPage(
        critic=_profile(critic),
        stats=counted_critic_stats(critic, total.reviews, total.ships),
        agreement=agreement(total),
        track_record=track_record_out(
            critic.id, PredictionStore(runtime.engine).track_records([critic.id])[critic.id]
        ),
        categories=_tallies(critic.id, totals, chosen.slug if chosen else ""),
        all_categories=[category_out(c.slug) for c in CATEGORIES],
        category=chosen,
        filter_error=error,
        count=count,
        shown=len(shown),
        first_url=_page_url(critic.id, chosen) if more_before else None,
        prev_url=_page_url(critic.id, chosen, before=seats[0].review_id)
        if more_before and seats
        else None,
        next_url=_page_url(critic.id, chosen, after=seats[-1].review_id)
        if more_after and seats
        else None,
        reviews=shown,
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
    request: Request,
    critic_id: str,
    s: SiteDep,
    category: str | None = None,
    after: str | None = None,
    before: str | None = None,
) -> Response:
    try:
        context = critic_page(s.runtime, critic_id, category, review_id(after), review_id(before))
    except NotFoundError as exc:
        raise not_found(exc) from None
    c = context.critic
    meta = Meta(
        title=f"{c.name}, the {c.role.split('·')[0].strip().lower()} · shiporskip",
        description=(
            f"{c.motto} {c.name} has reviewed {context.stats.reviews} tools and ships "
            f"{context.stats.ship_pct_text} of them."
        ),
        path=_page_url(c.id, context.category, review_id(after), review_id(before)),
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
    request: Request,
    critic_id: str,
    category: str | None = None,
    after: str | None = None,
    before: str | None = None,
) -> CriticPage:
    """One critic's page: profile, numbers, per-category tallies and reviews.

    `count` reviews in all; `reviews` holds a page of them, newest first: follow
    `next_url` (older reviews, `after` a review id) until it is null; `prev_url` (`before`
    a review id) goes back.
    """
    try:
        context = critic_page(
            runtime_of(request), critic_id, category, review_id(after), review_id(before)
        )
    except NotFoundError as exc:
        raise not_found(exc) from None
    if context.filter_error:
        raise HTTPException(422, context.filter_error)
    return context
