from decimal import Decimal

import pytest
from pydantic import ValidationError

from shiporskip.domain.pricing import (
    Charge,
    Entry,
    Plan,
    Pricing,
    Unit,
    cheapest_plan,
    format_money,
    parse_plan,
    parse_usage,
    plan_cost,
)


def api_plan(amount: float = 5, per: int = 1000, **kw: object) -> Plan:
    return Plan.model_validate(
        {"name": "API", "period": "usage", "amount": amount, "unit": "request", "per": per, **kw}
    )


def test_seed_arithmetic_five_dollars_per_thousand_requests_at_fifty_thousand() -> None:
    cost = plan_cost(api_plan(), {Unit.request: Decimal(50_000)})
    assert cost.cost == Decimal(250)
    assert format_money(cost.cost) == "$250"


def test_included_quota_is_free_and_only_the_rest_is_billed() -> None:
    plan = api_plan(included=10_000)
    assert plan_cost(plan, {Unit.request: Decimal(50_000)}).cost == Decimal(200)
    assert plan_cost(plan, {Unit.request: Decimal(5_000)}).cost == Decimal(0)


def test_multi_meter_plan_sums_its_charges() -> None:
    plan = Plan.model_validate(
        {
            "name": "Tokens",
            "period": "usage",
            "charges": [
                {"amount": 3, "unit": "input_token", "per": 1_000_000},
                {"amount": 15, "unit": "output token", "per": 1_000_000},
            ],
        }
    )
    usage = {Unit.input_token: Decimal(2_000_000), Unit.output_token: Decimal(500_000)}
    assert plan_cost(plan, usage).cost == Decimal("13.5")


def test_seat_plan_defaults_to_one_seat_and_scales_with_seats() -> None:
    plan = Plan.model_validate({"name": "Pro", "amount": 20, "unit": "seat"})
    assert plan_cost(plan, {}).cost == Decimal(20)
    assert plan_cost(plan, {Unit.seat: Decimal(5)}).cost == Decimal(100)


def test_yearly_plan_is_shown_per_month() -> None:
    plan = Plan.model_validate({"name": "Annual", "amount": 120, "unit": "flat", "period": "year"})
    assert plan_cost(plan, {}).cost == Decimal(10)


def test_plan_that_does_not_price_a_used_unit_says_why() -> None:
    plan = Plan.model_validate({"name": "Pro", "amount": 20, "unit": "seat"})
    result = plan_cost(plan, {Unit.image: Decimal(10)})
    assert result.cost is None
    assert result.reason == "the Pro plan does not price images"


def test_free_tier_limit_excludes_the_plan_above_its_cap() -> None:
    free = Plan.model_validate({"name": "Free", "amount": 0, "unit": "request", "limit": 2000})
    paid = api_plan()
    assert plan_cost(free, {Unit.request: Decimal(1500)}).cost == 0
    over = plan_cost(free, {Unit.request: Decimal(2500)})
    assert over.cost is None and "at most 2,000 requests" in (over.reason or "")
    best = cheapest_plan([free, paid], {Unit.request: Decimal(2500)})
    assert best is not None and best.plan.name == "API"
    best = cheapest_plan([free, paid], {Unit.request: Decimal(1000)})
    assert best is not None and best.plan.name == "Free"


def test_cheapest_plan_picks_the_lowest_cost_and_none_when_nothing_prices() -> None:
    cheap = api_plan(amount=4).model_copy(update={"name": "Cheap"})
    dear = api_plan(amount=6).model_copy(update={"name": "Dear"})
    best = cheapest_plan([dear, cheap], {Unit.request: Decimal(1000)})
    assert best is not None and best.plan.name == "Cheap" and best.cost == Decimal(4)
    assert cheapest_plan([dear], {Unit.minute: Decimal(3)}) is None
    assert cheapest_plan([], {Unit.request: Decimal(3)}) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": -1, "unit": "request"}, "greater than or equal to 0"),
        ({"amount": 5, "unit": "parsec"}, "unknown unit 'parsec'"),
        ({"amount": 5, "unit": "request", "currency": "XYZ"}, "unknown currency 'XYZ'"),
        ({"amount": 5, "unit": "request", "per": 0}, "greater than or equal to 1"),
        ({"amount": "five", "unit": "request"}, "decimal"),
        ({"amount": True, "unit": "request"}, "must be a number"),
        ({"amount": 5, "unit": "request", "charges": []}, "not both"),
        ({"amount": 5, "unit": "request", "colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_plans_are_refused_with_the_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Plan.model_validate({"name": "P", **data})


@pytest.mark.parametrize(
    ("entry", "plans", "message"),
    [
        ("paid", [{"name": "Free", "amount": 0, "unit": "flat"}], "use entry 'freemium'"),
        ("paid", [], "needs at least one priced plan"),
        ("free", [{"name": "Pro", "amount": 20, "unit": "seat"}], "costs money"),
        ("freemium", [{"name": "Pro", "amount": 20, "unit": "seat"}], "one free plan"),
    ],
)
def test_entry_tier_must_agree_with_the_plans(
    entry: str, plans: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Pricing.model_validate({"entry": entry, "plans": plans})


def test_freemium_with_free_and_paid_plans_is_accepted() -> None:
    pricing = Pricing.model_validate(
        {
            "entry": "freemium",
            "plans": [
                {"name": "Hobby", "amount": 0, "unit": "flat"},
                {"name": "Pro", "amount": 20, "unit": "seat"},
            ],
        }
    )
    assert pricing.entry is Entry.freemium
    assert pricing.headline() == "Free tier + paid plans · from $20 per seat a month"


def test_describe_reads_like_a_price_list() -> None:
    assert api_plan().describe() == "$5 per 1,000 requests"
    tokens = Charge(amount=Decimal(3), unit=Unit.input_token, per=1_000_000)
    assert tokens.describe("USD") == "$3 per 1M input tokens"
    assert format_money(Decimal("0.15")) == "$0.15"
    assert format_money(Decimal("1234.5"), "EUR") == "€1,234.50"


def test_parse_usage_reads_numbers_with_suffixes_and_separators() -> None:
    assert parse_usage("50,000 requests; 2M input tokens") == {
        Unit.request: Decimal(50_000),
        Unit.input_token: Decimal(2_000_000),
    }
    assert parse_usage("1.5k images + 3 seats") == {
        Unit.image: Decimal(1500),
        Unit.seat: Decimal(3),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lots of requests", "write a number then a unit"),
        ("500", "has no unit"),
        ("-5 requests", "must be a positive number"),
        ("5 parsecs", "unknown unit"),
    ],
)
def test_parse_usage_refuses_garbage(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_usage(text)


def test_parse_plan_reads_the_cli_shorthand() -> None:
    assert parse_plan("API: 5 USD per 1000 requests") == {
        "name": "API",
        "amount": "5",
        "currency": "USD",
        "unit": "requests",
        "per": 1000,
        "period": "usage",
    }
    assert Plan.model_validate(parse_plan("Pro: 20 per seat / month")).describe() == (
        "$20 per seat a month"
    )
    with pytest.raises(ValueError, match="cannot read plan"):
        parse_plan("twenty dollars")


def test_plan_data_round_trips() -> None:
    for plan in (
        api_plan(included=100),
        Plan.model_validate(
            {
                "name": "Tokens",
                "currency": "EUR",
                "period": "usage",
                "charges": [
                    {"amount": 0.25, "unit": "input_token", "per": 1_000_000},
                    {"amount": 1.5, "unit": "output_token", "per": 1_000_000},
                ],
            }
        ),
    ):
        assert Plan.model_validate(plan.to_data()) == plan
