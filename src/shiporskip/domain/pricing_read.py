"""The pricing read: what a tool costs at a monthly usage, and whether two tools compare.

Pure functions over `Tool` and `Pricing`. A reader types a usage ("50000 requests; 2M input
tokens"); when they do not, each tool gets a default derived from the units its plans meter,
and the page says which usage it priced. Two tools are compared at one usage only when their
paid plans meter the same units; otherwise the read says why in one sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from shiporskip.domain.pricing import (
    CURRENCIES,
    ENTRY_LABELS,
    UNIT_LABELS,
    Plan,
    PlanCost,
    Pricing,
    Unit,
    Usage,
    count,
    format_money,
    parse_usage,
    plan_cost,
)
from shiporskip.domain.tools import Tool

USAGE_EXAMPLE = "50000 requests; 2M input tokens"
MAX_USAGE_CHARS = 200
MAX_QUANTITY = Decimal(10) ** 12

# A realistic month for one team, per metered unit: shown to the reader as "default usage".
DEFAULT_QUANTITIES: dict[Unit, Decimal] = {
    Unit.seat: Decimal(1),
    Unit.request: Decimal(50_000),
    Unit.input_token: Decimal(10_000_000),
    Unit.output_token: Decimal(2_000_000),
    Unit.token: Decimal(10_000_000),
    Unit.character: Decimal(1_000_000),
    Unit.image: Decimal(1_000),
    Unit.minute: Decimal(1_000),
    Unit.page: Decimal(1_000),
    Unit.credit: Decimal(1_000),
}

_TOKENS = frozenset({Unit.input_token, Unit.output_token, Unit.token})
_SEAT = frozenset({Unit.seat})
_CENT = Decimal("0.01")


class UsageError(ValueError):
    """A usage a reader typed that cannot be read; the message names the problem and the fix."""


NOT_COVERED = "Doesn't cover this usage"


@dataclass(frozen=True, slots=True)
class PlanRead:
    """One plan at the usage: its monthly cost, or the reason it cannot be priced.

    `covers` is False when the plan's limits rule the usage out; `limits` are its caps
    ('1 seat', '2,000 requests a month'), shown whether or not this usage reaches them.
    """

    name: str
    currency: str
    cost: Decimal | None
    cost_text: str
    reason: str | None
    cheapest: bool = False
    covers: bool = True
    limits: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolPricing:
    """One tool's pricing read at one usage."""

    name: str
    headline: str
    units: tuple[Unit, ...]
    usage: dict[Unit, Decimal]
    usage_text: str
    default_usage: bool
    plans: tuple[PlanRead, ...]
    cheapest: PlanRead | None
    summary: str
    note: str | None


@dataclass(frozen=True, slots=True)
class PairPricing:
    """Two tools' pricing reads and the sentence that says whether they compare."""

    a: ToolPricing
    b: ToolPricing
    comparable: bool
    same_usage: bool
    sentence: str


def read_usage(text: str) -> dict[Unit, Decimal]:
    """Read a reader's usage, or raise UsageError naming the problem and the fix."""
    text = text.strip()
    if len(text) > MAX_USAGE_CHARS:
        raise UsageError(
            f"The usage is {len(text)} characters long; keep it under {MAX_USAGE_CHARS}, "
            f"e.g. '{USAGE_EXAMPLE}'."
        )
    try:
        usage = parse_usage(text)
    except ValueError as exc:
        raise UsageError(f"Could not read the usage: {exc}.") from None
    except ArithmeticError:  # e.g. 'NaN requests' cannot even be compared with zero
        raise UsageError(
            f"Could not read the usage {text!r}: write a number then a unit, "
            f"e.g. '{USAGE_EXAMPLE}'."
        ) from None
    _check_usage(usage)
    return usage


def _check_usage(usage: Usage) -> None:
    if not usage:
        raise UsageError(f"The usage is empty; write a number then a unit, e.g. '{USAGE_EXAMPLE}'.")
    if Unit.flat in usage:
        raise UsageError(
            "A subscription is not metered usage; give seats, requests, tokens or another "
            f"unit, e.g. '{USAGE_EXAMPLE}'."
        )
    for unit, quantity in usage.items():
        if quantity > MAX_QUANTITY:
            raise UsageError(
                f"The usage of {UNIT_LABELS[unit][1]} is more than this page prices; "
                f"use at most {MAX_QUANTITY:,} a month."
            )


def reader_usage(text: str | None) -> tuple[dict[Unit, Decimal] | None, str | None]:
    """A query parameter as (usage, error): blank means the default usage (None, None)."""
    if text is None or not text.strip():
        return None, None
    try:
        return read_usage(text), None
    except UsageError as exc:
        return None, str(exc)


def priced_units(pricing: Pricing) -> tuple[Unit, ...]:
    """The units a usage must give to price the paid plans (all plans when none is paid)."""
    plans = [p for p in pricing.plans if not p.is_free] or list(pricing.plans)
    return _ordered(c.unit for p in plans for c in p.charges if c.unit is not Unit.flat)


def default_usage(units: Iterable[Unit]) -> dict[Unit, Decimal]:
    """A month of typical use in those units; one seat when the plans are flat fees."""
    usage = {u: DEFAULT_QUANTITIES[u] for u in _ordered(units) if u in DEFAULT_QUANTITIES}
    return usage or {Unit.seat: Decimal(1)}


def describe_usage(usage: Usage, *, prose: bool = False) -> str:
    """'1 seat; 50,000 requests' (read_usage reads it back), or '1 seat and 50,000 requests'."""
    parts = [count(usage[unit], unit) for unit in Unit if unit in usage]
    return _join(parts) if prose else "; ".join(parts)


def format_cost(amount: Decimal, currency: str) -> str:
    """A monthly cost to the cent: '$250', '$22.50', 'less than $0.01'."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    if amount > 0 and cents == 0:
        return "less than " + format_money(_CENT, currency)
    if cents == cents.to_integral_value():
        return format_money(cents, currency)
    return f"{CURRENCIES.get(currency, currency + ' ')}{cents:,.2f}"


def read_tool(tool: Tool, usage: Usage | None = None) -> ToolPricing:
    """Every plan of a tool at a usage (its default usage when None), and the cheapest."""
    if usage is None:
        return _read(tool, default_usage(priced_units(tool.pricing)), default=True)
    return _read(tool, usage, default=False)


def _read(tool: Tool, usage: Usage, *, default: bool) -> ToolPricing:
    units = priced_units(tool.pricing)
    chosen = dict(usage)
    metered = set(units) - _SEAT
    missing = _ordered(metered - chosen.keys())
    blind = bool(metered) and not metered & chosen.keys()
    if blind:
        reason = f"this usage gives no {_labels(missing)}"
        plans = [_plan_read(PlanCost(p, None, reason)) for p in tool.pricing.plans]
    else:
        plans = [_plan_read(plan_cost(p, chosen)) for p in tool.pricing.plans]
    plans, cheapest = _mark_cheapest(plans)
    return ToolPricing(
        name=tool.name,
        headline=tool.pricing.headline(),
        units=units,
        usage=chosen,
        usage_text=describe_usage(chosen),
        default_usage=default,
        plans=tuple(plans),
        cheapest=cheapest,
        summary=_summary(tool, plans, cheapest),
        note=_note(tool.name, missing, blind),
    )


def read_pair(a: Tool, b: Tool, usage: Usage | None = None) -> PairPricing:
    """Both tools at one usage when their plans meter the same units; say why not otherwise."""
    units_a, units_b = priced_units(a.pricing), priced_units(b.pricing)
    comparable = (
        bool(a.pricing.plans)
        and bool(b.pricing.plans)
        and set(units_a) - _SEAT == set(units_b) - _SEAT
    )
    if usage is not None:
        read_a, read_b = _read(a, usage, default=False), _read(b, usage, default=False)
    elif comparable:
        common = default_usage((*units_a, *units_b))
        read_a, read_b = _read(a, common, default=True), _read(b, common, default=True)
    else:
        read_a, read_b = read_tool(a), read_tool(b)
    if comparable:
        sentence = _cost_sentence(read_a, read_b)
    else:
        sentence = _mismatch_sentence(a, b, units_a, units_b)
    return PairPricing(
        a=read_a,
        b=read_b,
        comparable=comparable,
        same_usage=read_a.usage == read_b.usage,
        sentence=sentence,
    )


def _plan_read(priced: PlanCost) -> PlanRead:
    plan: Plan = priced.plan
    if priced.cost is not None:
        text = f"{format_cost(priced.cost, plan.currency)} a month"
    else:
        text = "—" if priced.covers else NOT_COVERED
    return PlanRead(
        plan.name,
        plan.currency,
        priced.cost,
        text,
        priced.reason,
        covers=priced.covers,
        limits=plan.limits(),
    )


def _mark_cheapest(plans: Sequence[PlanRead]) -> tuple[list[PlanRead], PlanRead | None]:
    priced = [p for p in plans if p.cost is not None]
    if not priced:
        return list(plans), None
    # Costs in different currencies are not ranked against each other: the first one sets it.
    same = [p for p in priced if p.currency == priced[0].currency]
    best = min(same, key=lambda p: p.cost if p.cost is not None else Decimal(0))
    marked = replace(best, reason=None, cheapest=True)
    return [marked if p is best else p for p in plans], marked


def _can_serve(plans: Sequence[PlanRead]) -> str:
    """'covers' when limits rule plans out, 'can price' when no plan meters the usage."""
    return "covers" if any(not p.covers for p in plans) else "can price"


def _summary(tool: Tool, plans: Sequence[PlanRead], cheapest: PlanRead | None) -> str:
    if not tool.pricing.plans:
        return f"No plans to price: {tool.name} is {ENTRY_LABELS[tool.pricing.entry].lower()}."
    if cheapest is None:
        return f"No plan of {tool.name} {_can_serve(plans)} this usage."
    return f"Cheapest at this usage: {cheapest.name} at {cheapest.cost_text}."


def _note(name: str, missing: Sequence[Unit], blind: bool) -> str | None:
    if blind:
        return f"This usage gives no {_labels(missing)}, which {name} charges for; add them."
    if missing:
        return (
            f"This usage leaves out {_labels(missing)}, which {name} also charges for; "
            "they count as zero."
        )
    return None


def _cost_sentence(a: ToolPricing, b: ToolPricing) -> str:
    ca, cb = a.cheapest, b.cheapest
    at = f"At {describe_usage(a.usage, prose=True)} a month"
    if ca is None or cb is None or ca.cost is None or cb.cost is None:
        # A tool whose plans cannot serve the usage is never "as cheap" as one that can.
        served = [r for r in (a, b) if r.cheapest is not None]
        unserved = [r for r in (a, b) if r.cheapest is None]
        verb = _can_serve([p for r in unserved for p in r.plans])
        if served and served[0].cheapest is not None:
            ok, plan, missing = served[0], served[0].cheapest, unserved[0]
            return (
                f"{at}, only {ok.name} has a plan that {verb} it: {plan.cost_text} "
                f"({plan.name}); no {missing.name} plan {verb} this usage."
            )
        return (
            f"At this usage {_join([r.name for r in unserved])} have no plan that {verb} it, "
            "so the costs cannot be ranked."
        )
    if ca.currency != cb.currency:
        return (
            f"{a.name} bills in {ca.currency} and {b.name} in {cb.currency}, so the costs "
            "are shown side by side but not ranked."
        )
    if ca.cost == cb.cost:
        return f"{at}, both cost {ca.cost_text}: {a.name} on {ca.name}, {b.name} on {cb.name}."
    (low, low_plan), (high, high_plan) = sorted(
        ((a.name, ca), (b.name, cb)), key=lambda side: side[1].cost or Decimal(0)
    )
    return (
        f"{at}, {low} costs less: {low_plan.cost_text} ({low_plan.name}) against "
        f"{high_plan.cost_text} for {high} ({high_plan.name})."
    )


def _mismatch_sentence(a: Tool, b: Tool, units_a: Sequence[Unit], units_b: Sequence[Unit]) -> str:
    if not a.pricing.plans and not b.pricing.plans:
        return (
            f"Neither {a.name} nor {b.name} lists plans to price, so there is no cost to compare."
        )
    if not a.pricing.plans or not b.pricing.plans:
        empty, other = (a, b) if not a.pricing.plans else (b, a)
        return f"{empty.name} lists no plans to price, so only {other.name} has a cost at a usage."
    said_a, said_b = _prices(units_a), _prices(units_b)
    if said_a == said_b:  # 'tokens' hides a difference: spell the units out
        said_a, said_b = _prices(units_a, exact=True), _prices(units_b, exact=True)
    return f"{a.name} {said_a}, {b.name} {said_b}: there is no common usage to compare them at."


def _prices(units: Sequence[Unit], *, exact: bool = False) -> str:
    if not units:
        return "sells flat subscriptions"
    words: list[str] = []
    for unit in units:
        word = "tokens" if unit in _TOKENS and not exact else UNIT_LABELS[unit][1]
        if word not in words:
            words.append(word)
    return "prices " + _join(words)


def _labels(units: Sequence[Unit]) -> str:
    return _join([UNIT_LABELS[u][1] for u in units])


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _ordered(units: Iterable[Unit]) -> tuple[Unit, ...]:
    wanted = set(units)
    return tuple(u for u in Unit if u in wanted)
