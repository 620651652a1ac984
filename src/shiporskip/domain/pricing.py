"""Structured pricing: plans made of metered charges, and the cost of a plan at a usage.

Prices are data the site computes with, not prose. A plan has a currency, a billing
period and one or more charges; each charge prices one unit ("$5 per 1,000 requests",
"$20 per seat"). The cost of a plan at a monthly usage is the sum of its charges.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shiporskip.domain.text import CLEAN_TEXT, MakerLine, WebUrl, excerpt


class Unit(StrEnum):
    request = "request"
    input_token = "input_token"
    output_token = "output_token"
    token = "token"
    character = "character"
    seat = "seat"
    image = "image"
    minute = "minute"
    page = "page"
    credit = "credit"
    flat = "flat"


UNIT_LABELS: dict[Unit, tuple[str, str]] = {
    Unit.request: ("request", "requests"),
    Unit.input_token: ("input token", "input tokens"),
    Unit.output_token: ("output token", "output tokens"),
    Unit.token: ("token", "tokens"),
    Unit.character: ("character", "characters"),
    Unit.seat: ("seat", "seats"),
    Unit.image: ("image", "images"),
    Unit.minute: ("minute", "minutes"),
    Unit.page: ("page", "pages"),
    Unit.credit: ("credit", "credits"),
    Unit.flat: ("subscription", "subscriptions"),
}

_UNIT_WORDS: dict[str, Unit] = {}
for _unit, (_one, _many) in UNIT_LABELS.items():
    for _word in (_unit.value, _one, _many, _one.replace(" ", "_"), _many.replace(" ", "_")):
        _UNIT_WORDS[_word] = _unit


class Period(StrEnum):
    month = "month"
    year = "year"
    usage = "usage"


class Entry(StrEnum):
    """How a reader gets in: the entry tier."""

    free = "free"
    freemium = "freemium"
    paid = "paid"
    open_source = "open-source"


CURRENCIES: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "CN¥",
    "CAD": "CA$",
    "AUD": "A$",
    "INR": "₹",
    "CHF": "CHF ",
}

_MAX_AMOUNT = Decimal("1000000")


def format_quantity(quantity: Decimal | int) -> str:
    """'50,000', '2M', '1B', '1.5': how a quantity of a unit is written."""
    quantity = Decimal(quantity)
    if quantity != quantity.to_integral_value():
        return f"{quantity.normalize():f}"
    whole = int(quantity)
    for suffix, size in (("B", 1_000_000_000), ("M", 1_000_000)):
        if whole >= size and whole % size == 0:
            return f"{whole // size:,}{suffix}"
    return f"{whole:,}"


def unit_label(unit: Unit, quantity: Decimal | int) -> str:
    """The unit's name agreeing in number with the quantity: 'seat' for 1, 'seats' otherwise."""
    one, many = UNIT_LABELS[unit]
    return one if quantity == 1 else many


def count(quantity: Decimal | int, unit: Unit) -> str:
    """'1 seat', '3 seats', '1 request', '50,000 requests', '2M input tokens'."""
    return f"{format_quantity(quantity)} {unit_label(unit, quantity)}"


def describe_limit(unit: Unit, limit: int) -> str:
    """A cap as a reader sees it: '1 seat' (seats are people), '2,000 requests a month'."""
    return count(limit, unit) + ("" if unit is Unit.seat else " a month")


def parse_unit(value: object) -> Unit:
    """Read a unit from its id or its singular/plural label."""
    if isinstance(value, Unit):
        return value
    word = str(value).strip().lower()
    unit = _UNIT_WORDS.get(word)
    if unit is None:
        valid = ", ".join(u.value for u in Unit)
        raise ValueError(f"unknown unit {excerpt(str(value))!r}; use one of: {valid}")
    return unit


class Charge(BaseModel):
    """One metered price: `amount` per `per` units, after `included` free units.

    `limit` is the most the plan allows (a one-person free tier: seat limit 1); `minimum`
    is the least it bills (a team plan sold for five seats or more).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: Decimal = Field(ge=0, le=_MAX_AMOUNT)
    unit: Unit
    per: int = Field(default=1, ge=1, le=1_000_000_000)
    included: int = Field(default=0, ge=0)
    limit: int | None = Field(default=None, ge=1)
    minimum: int | None = Field(default=None, ge=1)

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: object) -> Unit:
        return parse_unit(value)

    @model_validator(mode="after")
    def _limit_fits(self) -> Self:
        if self.limit is not None and self.unit is Unit.flat:
            raise ValueError(
                "a flat fee cannot have a limit; put the limit on the unit it caps, "
                "e.g. {amount: 0, unit: seat, limit: 1} for a one-person plan"
            )
        if self.minimum is not None and self.unit is Unit.flat:
            raise ValueError(
                "a flat fee cannot have a minimum; put it on the unit it counts, "
                "e.g. {amount: 25, unit: seat, minimum: 5}"
            )
        if self.minimum is not None and self.limit is not None and self.minimum > self.limit:
            raise ValueError(
                f"minimum {self.minimum:,} is above the limit {self.limit:,}; "
                "no usage could buy this plan"
            )
        if self.limit is not None and self.limit < self.included:
            raise ValueError(
                f"limit {self.limit:,} is below the {self.included:,} included free; "
                "the limit is the most the plan allows, so make it at least the included quota"
            )
        return self

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("must be a number such as 5 or 0.25")
        if isinstance(value, float):
            return Decimal(str(value))
        return value

    def describe(self, currency: str) -> str:
        """'$5 per 1,000 requests', '$20 per seat'."""
        price = format_money(self.amount, currency)
        if self.unit is Unit.flat:
            text = price
        else:
            one, many = UNIT_LABELS[self.unit]
            text = f"{price} per {one}" if self.per == 1 else f"{price} per {_qty(self.per)} {many}"
        if self.included:
            label = unit_label(self.unit, self.included)
            text += f" after {format_quantity(self.included)} free {label}"
        if self.minimum:
            text += f" (at least {count(self.minimum, self.unit)})"
        if self.limit:
            text += f" (up to {count(self.limit, self.unit)})"
        return text


class Plan(BaseModel):
    """A named plan. A one-charge plan may be written flat: amount/unit/per/included."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: MakerLine = Field(min_length=1, max_length=80)
    currency: str = "USD"
    period: Period = Period.month
    charges: tuple[Charge, ...] = ()
    note: Annotated[Annotated[str, Field(max_length=300)], CLEAN_TEXT] | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat_form(cls, data: Any) -> Any:
        flat = ("amount", "unit", "per", "included", "limit", "minimum")
        if isinstance(data, dict) and any(k in data for k in flat):
            if "charges" in data:
                raise ValueError("give either amount/unit or charges, not both")
            charge = {k: data[k] for k in flat if k in data}
            data = {k: v for k, v in data.items() if k not in flat}
            data["charges"] = [charge]
        return data

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> str:
        code = str(value).strip().upper()
        if code not in CURRENCIES:
            raise ValueError(
                f"unknown currency {excerpt(str(value))!r}; use one of: {', '.join(CURRENCIES)}"
            )
        return code

    @property
    def is_free(self) -> bool:
        return all(c.amount == 0 for c in self.charges)

    def limits(self) -> tuple[str, ...]:
        """Caps and minimums as a reader sees them: ('at most 1 seat', 'at least 5 seats')."""
        texts = []
        for charge in self.charges:
            if charge.minimum is not None:
                texts.append(f"at least {count(charge.minimum, charge.unit)}")
            if charge.limit is not None:
                texts.append(f"at most {describe_limit(charge.unit, charge.limit)}")
        return tuple(texts)

    def describe(self) -> str:
        if self.is_free:  # a free tier's caps are what decides whether it serves a reader
            limits = self.limits()
            return f"Free ({'; '.join(limits)})" if limits else "Free"
        parts = [c.describe(self.currency) for c in self.charges if c.amount or c.included]
        suffix = {Period.month: " a month", Period.year: " a year", Period.usage: ""}[self.period]
        flat_only = all(c.unit in (Unit.flat, Unit.seat) for c in self.charges if c.amount)
        return " + ".join(parts) + (suffix if flat_only else "")

    def to_data(self) -> dict[str, Any]:
        """The plan as import-ready data, flat when it has one charge."""
        data: dict[str, Any] = {"name": self.name, "currency": self.currency}
        data["period"] = self.period.value
        charges = [_charge_data(c) for c in self.charges]
        if len(charges) == 1:
            data.update(charges[0])
        else:
            data["charges"] = charges
        if self.note:
            data["note"] = self.note
        return data


def _charge_data(charge: Charge) -> dict[str, Any]:
    data: dict[str, Any] = {"amount": _plain_number(charge.amount), "unit": charge.unit.value}
    if charge.per != 1:
        data["per"] = charge.per
    if charge.included:
        data["included"] = charge.included
    if charge.limit is not None:
        data["limit"] = charge.limit
    if charge.minimum is not None:
        data["minimum"] = charge.minimum
    return data


def _plain_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class Pricing(BaseModel):
    """A tool's pricing: entry tier, plans, a free-text note, its source and check date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry: Entry
    plans: tuple[Plan, ...] = ()
    note: Annotated[Annotated[str, Field(max_length=1000)], CLEAN_TEXT] | None = None
    source: WebUrl | None = None
    checked: date | None = None

    @model_validator(mode="after")
    def _entry_matches_plans(self) -> Self:
        # The reference site's Free/Paid flag was often wrong; here it must agree with the plans.
        free = [p for p in self.plans if p.is_free]
        paid = [p for p in self.plans if not p.is_free]
        if self.entry is Entry.paid and free:
            raise ValueError(
                f"entry is 'paid' but plan {free[0].name!r} is free; use entry 'freemium'"
            )
        if self.entry is Entry.freemium and not (free and paid):
            raise ValueError("entry 'freemium' needs at least one free plan and one paid plan")
        if self.entry is Entry.free and paid:
            raise ValueError(
                f"entry is 'free' but plan {paid[0].name!r} costs money; use entry 'freemium'"
            )
        if self.entry is Entry.paid and not paid:
            raise ValueError("entry 'paid' needs at least one priced plan")
        return self

    def headline(self) -> str:
        """One line for cards: the entry tier and the cheapest way in."""
        label = ENTRY_LABELS[self.entry]
        paid = [p for p in self.plans if not p.is_free]
        if not paid:
            return label
        return f"{label} · from {paid[0].describe()}"


ENTRY_LABELS: dict[Entry, str] = {
    Entry.free: "Free",
    Entry.freemium: "Free tier + paid plans",
    Entry.paid: "Paid",
    Entry.open_source: "Open source",
}


Usage = Mapping[Unit, Decimal]


@dataclass(frozen=True, slots=True)
class PlanCost:
    """A plan at a usage: its monthly cost, or None and the reason.

    `covers` is False when the plan's limits rule the usage out (a one-person free tier at
    three seats): such a plan is not a cheaper option, it is no option at all.
    """

    plan: Plan
    cost: Decimal | None
    reason: str | None = None
    covers: bool = True


def charge_cost(charge: Charge, quantity: Decimal) -> Decimal:
    """The cost of one charge at a monthly quantity, after its free quota."""
    if charge.minimum is not None:  # a plan sold for five seats bills five to a team of two
        quantity = max(quantity, Decimal(charge.minimum))
    billable = max(Decimal(0), quantity - charge.included)
    return charge.amount * billable / charge.per


def plan_cost(plan: Plan, usage: Usage) -> PlanCost:
    """The monthly cost of a plan at a usage, or the reason it cannot be priced."""
    metered = {c.unit for c in plan.charges}
    for unit, quantity in usage.items():
        if quantity > 0 and unit not in metered and unit is not Unit.seat and not plan.is_free:
            many = UNIT_LABELS[unit][1]
            return PlanCost(plan, None, f"the {plan.name} plan does not price {many}")
    total = Decimal(0)
    for charge in plan.charges:
        if charge.unit is Unit.flat:
            quantity = Decimal(1)
        elif charge.unit is Unit.seat:
            quantity = usage.get(Unit.seat, Decimal(1))
        else:
            quantity = usage.get(charge.unit, Decimal(0))
        if charge.limit is not None and quantity > charge.limit:
            allowed = describe_limit(charge.unit, charge.limit)
            needed = count(quantity, charge.unit)
            reason = f"the {plan.name} plan allows at most {allowed}; this usage needs {needed}"
            return PlanCost(plan, None, reason, covers=False)
        total += charge_cost(charge, quantity)
    if plan.period is Period.year:
        total /= 12
    if plan.is_free:
        for unit, quantity in usage.items():
            if quantity > 0 and unit not in metered and unit is not Unit.seat:
                many = UNIT_LABELS[unit][1]
                return PlanCost(plan, None, f"the {plan.name} plan sets no quota for {many}")
    return PlanCost(plan, total)


def plan_costs(plans: Iterable[Plan], usage: Usage) -> list[PlanCost]:
    return [plan_cost(p, usage) for p in plans]


def cheapest_plan(plans: Iterable[Plan], usage: Usage) -> PlanCost | None:
    """The cheapest plan that can price the usage (first wins a tie), or None."""
    priced = [pc for pc in plan_costs(plans, usage) if pc.cost is not None]
    if not priced:
        return None
    currency = priced[0].plan.currency
    same = [pc for pc in priced if pc.plan.currency == currency]
    return min(same, key=lambda pc: pc.cost if pc.cost is not None else Decimal(0))


def format_money(amount: Decimal, currency: str = "USD") -> str:
    """'$250', '$0.15', '€1,200.50'."""
    symbol = CURRENCIES.get(currency, currency + " ")
    if amount == amount.to_integral_value():
        return f"{symbol}{int(amount):,}"
    if abs(amount) < 1:
        text = f"{amount.normalize():f}"
        return f"{symbol}{text}"
    return f"{symbol}{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def _qty(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n:,}"


def parse_usage(text: str) -> dict[Unit, Decimal]:
    """Read '50,000 requests; 2M input tokens' into a usage mapping."""
    usage: dict[Unit, Decimal] = {}
    for part in (p.strip() for p in re.split(r"[;+]", text)):
        if not part:
            continue
        number, _, word = part.partition(" ")
        if not word:
            raise ValueError(f"{part!r} has no unit; write e.g. '50000 requests'")
        multiplier = Decimal(1)
        suffixes = {"k": Decimal(1000), "m": Decimal(1_000_000), "b": Decimal(1_000_000_000)}
        if number[-1:].lower() in suffixes:
            multiplier = suffixes[number[-1].lower()]
            number = number[:-1]
        try:
            quantity = Decimal(number.replace("_", "").replace(",", "")) * multiplier
        except ArithmeticError:
            raise ValueError(
                f"cannot read {part!r}; write a number then a unit, e.g. '50000 requests'"
            ) from None
        if not quantity.is_finite() or quantity < 0:
            raise ValueError(f"usage {part!r} must be a positive number")
        usage[parse_unit(word)] = usage.get(parse_unit(word), Decimal(0)) + quantity
    return usage


_PLAN_RE = re.compile(
    r"""^\s*(?P<name>[^:]+?)\s*:\s*
    (?P<amount>-?[\d.,_]+)\s*(?P<currency>[A-Za-z]{3})?\s*
    (?:per\s+(?:(?P<per>[\d,_]+[kKmM]?)\s+)?(?P<unit>[A-Za-z_ ]+?)
       (?:\s+up\s+to\s+(?P<limit>[\d,_]+[kKmM]?))?
       (?:\s+at\s+least\s+(?P<minimum>[\d,_]+[kKmM]?))?)?\s*
    (?:/\s*(?P<period>month|year|usage))?\s*$""",
    re.VERBOSE,
)


def parse_plan(text: str) -> dict[str, Any]:
    """Read 'API: 5 USD per 1000 requests' or 'Pro: 20 per seat / month' into plan data.

    'Hobby: 0 per seat up to 1 / month' caps a unit (a one-person free tier) and
    'Team: 25 per seat at least 5 / month' sets a minimum, as `limit` and `minimum` do.
    """
    match = _PLAN_RE.match(text)
    if not match:
        raise ValueError(
            f"cannot read plan {excerpt(text)!r}; write NAME: AMOUNT [CURRENCY] "
            "[per [N] UNIT [up to N] [at least N]] [/ PERIOD], "
            "e.g. 'API: 5 USD per 1000 requests / usage' or 'Pro: 20 per seat / month'"
        )
    data: dict[str, Any] = {"name": match["name"], "amount": match["amount"].replace(",", "")}
    if match["currency"]:
        data["currency"] = match["currency"]
    data["unit"] = match["unit"] or "flat"
    for key in ("per", "limit", "minimum"):
        if match[key]:
            data[key] = _whole(match[key])
    if match["period"]:
        data["period"] = match["period"]
    elif match["unit"] and data["unit"] not in ("seat", "seats"):
        data["period"] = "usage"
    return data


def _whole(text: str) -> int:
    number = text.replace(",", "").replace("_", "")
    scale = {"k": 1000, "m": 1_000_000}.get(number[-1].lower(), 1)
    return int(number.rstrip("kKmM")) * scale
