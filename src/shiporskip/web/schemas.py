"""API schemas: what pages and /api/v1 expose, separate from stored rows."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from shiporskip.domain.categories import BY_SLUG
from shiporskip.domain.pricing import ENTRY_LABELS
from shiporskip.domain.reviews import VERDICT_LABELS, PanelSummary
from shiporskip.domain.stats import wilson_interval
from shiporskip.domain.tools import Tool
from shiporskip.domain.votes import Community


class CategoryOut(BaseModel):
    slug: str
    name: str
    description: str


class ChargeOut(BaseModel):
    amount: str
    unit: str
    per: int
    included: int
    limit: int | None
    minimum: int | None = None
    text: str


class PlanOut(BaseModel):
    name: str
    currency: str
    period: str
    free: bool
    text: str
    charges: list[ChargeOut]
    note: str | None


class PricingOut(BaseModel):
    entry: str
    entry_label: str
    headline: str
    plans: list[PlanOut]
    note: str | None
    source: str | None
    checked: date | None


class PanelOut(BaseModel):
    verdict: str | None
    verdict_label: str
    tally: str
    ship_pct: float | None
    ship_pct_interval: tuple[float, float] | None
    score10: float | None
    reported: int
    expected: int
    failed: int
    complete: bool
    status: str


class CommunityOut(BaseModel):
    """The community vote. Until votes exist (and below the minimum) it shows '—'."""

    votes: int = 0
    ships: int = 0
    skips: int = 0
    verified: int = 0
    minimum: int = 0
    ship_pct: float | None = None
    ship_pct_interval: tuple[float, float] | None = None
    shown: str = "—"
    note: str = "No community votes yet"
    disagreement: str | None = None


def community_out(community: Community, panel: PanelSummary | None = None) -> CommunityOut:
    return CommunityOut(
        votes=community.total,
        ships=community.ships,
        skips=community.skips,
        verified=community.verified,
        minimum=community.minimum,
        ship_pct=community.ship_pct,
        ship_pct_interval=community.interval,
        shown=community.text,
        note=community.note,
        disagreement=community.disagreement(panel) if panel is not None else None,
    )


class PredictionOut(BaseModel):
    claim: str
    horizon_months: int


class ReviewOut(BaseModel):
    critic: str
    critic_name: str
    role: str
    motto: str
    verdict: str
    score: int
    one_liner: str
    body: str
    competitors: list[str]
    prediction: PredictionOut | None
    model: str  # the public label (llm/labels.py); the full spec is in the admin audit
    sample: bool
    notes: list[str]
    reviewed_at: datetime | None = None
    earlier_run: bool = False  # a newer attempt of this critic failed; this review counts
    earlier_run_note: str | None = None


class FailureOut(BaseModel):
    """A critic whose latest attempt failed: why, in a few words, never the stored error."""

    critic: str
    critic_name: str
    reason: str
    text: str


class FlagOut(BaseModel):
    field: str
    reason: str
    excerpt: str


class ToolSummary(BaseModel):
    slug: str
    name: str
    vendor: str
    category: CategoryOut
    tagline: str
    entry: str
    entry_label: str
    price_line: str
    sample: bool
    url: str
    panel: PanelOut | None = None


class ToolDetail(ToolSummary):
    aliases: list[str]
    homepage: str
    description: str
    licence: str | None
    open_weights: bool
    links: dict[str, str]
    launch_date: date | None
    pricing: PricingOut


def panel_out(summary: PanelSummary) -> PanelOut:
    interval = wilson_interval(summary.ships, summary.reported)
    return PanelOut(
        verdict=summary.verdict.value if summary.verdict else None,
        verdict_label=VERDICT_LABELS[summary.verdict] if summary.verdict else "Not reviewed yet",
        tally=summary.tally,
        ship_pct=summary.ship_pct,
        ship_pct_interval=(100 * interval[0], 100 * interval[1]) if interval else None,
        score10=summary.score10,
        reported=summary.reported,
        expected=summary.expected,
        failed=summary.failed,
        complete=summary.complete,
        status=summary.status,
    )


def category_out(slug: str) -> CategoryOut:
    c = BY_SLUG[slug]
    return CategoryOut(slug=c.slug, name=c.name, description=c.description)


def tool_summary(tool: Tool, summary: PanelSummary | None = None) -> ToolSummary:
    return ToolSummary(
        panel=panel_out(summary) if summary is not None else None,
        slug=tool.slug,
        name=tool.name,
        vendor=tool.vendor,
        category=category_out(tool.category),
        tagline=tool.tagline,
        entry=tool.pricing.entry.value,
        entry_label=ENTRY_LABELS[tool.pricing.entry],
        price_line=tool.pricing.headline(),
        sample=tool.sample,
        url=f"/tools/{tool.slug}",
    )


def tool_detail(tool: Tool) -> ToolDetail:
    pricing = tool.pricing
    plans = [
        PlanOut(
            name=p.name,
            currency=p.currency,
            period=p.period.value,
            free=p.is_free,
            text=p.describe(),
            charges=[
                ChargeOut(
                    amount=str(c.amount),
                    unit=c.unit.value,
                    per=c.per,
                    included=c.included,
                    limit=c.limit,
                    minimum=c.minimum,
                    text=c.describe(p.currency),
                )
                for c in p.charges
            ],
            note=p.note,
        )
        for p in pricing.plans
    ]
    return ToolDetail(
        **tool_summary(tool).model_dump(),
        aliases=list(tool.aliases),
        homepage=tool.homepage,
        description=tool.description,
        licence=tool.licence,
        open_weights=tool.open_weights,
        links=tool.links.model_dump(exclude_none=True),
        launch_date=tool.launch_date,
        pricing=PricingOut(
            entry=pricing.entry.value,
            entry_label=ENTRY_LABELS[pricing.entry],
            headline=pricing.headline(),
            plans=plans,
            note=pricing.note,
            source=pricing.source,
            checked=pricing.checked,
        ),
    )
