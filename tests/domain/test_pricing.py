from decimal import Decimal

import pytest
from pydantic import ValidationError

from shiporskip.domain.pricing import (
    UNIT_LABELS,
    Charge,
    Entry,
    Plan,
    Pricing,
    Unit,
    cheapest_plan,
    count,
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
    assert over.cost is None and not over.covers
    assert over.reason == (
        "the Free plan allows at most 2,000 requests a month; this usage needs 2,500 requests"
    )
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


def test_parse_plan_reads_limits_and_minimums() -> None:
    hobby = parse_plan("Hobby: 0 per seat up to 1 / month")
    assert hobby == {"name": "Hobby", "amount": "0", "unit": "seat", "limit": 1, "period": "month"}
    assert Plan.model_validate(hobby).describe() == "Free (at most 1 seat)"
    team = Plan.model_validate(parse_plan("Team: 25 USD per seat at least 5 / month"))
    assert team.charges[0].minimum == 5
    assert plan_cost(team, {Unit.seat: Decimal(2)}).cost == Decimal(125)
    free = parse_plan("Free: 0 per 1000 requests up to 2k")
    assert free["limit"] == 2000 and free["per"] == 1000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hobby: 0 / month up to 1", "cannot read plan 'Hobby: 0 / month up to 1'"),
        ("Hobby: 0 per seat up to / month", "unknown unit 'seat up to'"),
        ("Hobby: 0 per seat up to one", "unknown unit 'seat up to one'"),
        ("Team: 5 per seat at least 9 up to 3", "cannot read plan"),
    ],
)
def test_parse_plan_refuses_garbage_limits(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Plan.model_validate(parse_plan(text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hobby: 0 per seat up to 0", "greater than or equal to 1"),
        ("Team: 5 per seat up to 3 at least 9", "minimum 9 is above the limit 3"),
    ],
)
def test_parsed_limits_are_validated_like_catalog_ones(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Plan.model_validate(parse_plan(text))


def test_plan_data_round_trips() -> None:
    for plan in (
        api_plan(included=100),
        Plan.model_validate({"name": "Team", "amount": 25, "unit": "seat", "minimum": 5}),
        Plan.model_validate({"name": "Hobby", "amount": 0, "unit": "seat", "limit": 1}),
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


def test_a_one_person_plan_does_not_cover_three_seats() -> None:
    hobby = Plan.model_validate({"name": "Hobby", "amount": 0, "unit": "seat", "limit": 1})
    pro = Plan.model_validate({"name": "Pro", "amount": 20, "unit": "seat"})
    result = plan_cost(hobby, {Unit.seat: Decimal(3)})
    assert result.cost is None and result.covers is False
    assert result.reason == "the Hobby plan allows at most 1 seat; this usage needs 3 seats"
    assert plan_cost(pro, {Unit.seat: Decimal(3)}).cost == Decimal(60)
    best = cheapest_plan([hobby, pro], {Unit.seat: Decimal(3)})
    assert best is not None and best.plan.name == "Pro" and best.cost == Decimal(60)
    best = cheapest_plan([hobby, pro], {Unit.seat: Decimal(1)})
    assert best is not None and best.plan.name == "Hobby"
    assert plan_cost(pro, {Unit.image: Decimal(1)}).covers  # not priced is not "not covered"


def test_a_minimum_bills_at_least_that_many_units() -> None:
    team = Plan.model_validate({"name": "Team", "amount": 25, "unit": "seat", "minimum": 5})
    assert plan_cost(team, {Unit.seat: Decimal(2)}).cost == Decimal(125)
    assert plan_cost(team, {Unit.seat: Decimal(8)}).cost == Decimal(200)
    assert team.limits() == ("at least 5 seats",)
    assert team.describe() == "$25 per seat (at least 5 seats) a month"


def test_limits_and_quotas_are_described_in_the_right_number() -> None:
    one = Charge(amount=Decimal(0), unit=Unit.seat, limit=1)
    assert one.describe("USD") == "$0 per seat (up to 1 seat)"
    quota = Charge(amount=Decimal(5), unit=Unit.request, per=1000, included=1, limit=2000)
    assert quota.describe("USD") == (
        "$5 per 1,000 requests after 1 free request (up to 2,000 requests)"
    )
    plan = Plan.model_validate(
        {
            "name": "Free",
            "charges": [
                {"amount": 0, "unit": "seat", "limit": 1},
                {"amount": 0, "unit": "request", "limit": 2000},
            ],
        }
    )
    assert plan.limits() == ("at most 1 seat", "at most 2,000 requests a month")
    assert plan.describe() == "Free (at most 1 seat; at most 2,000 requests a month)"
    assert Plan.model_validate({"name": "Free", "amount": 0, "unit": "flat"}).describe() == "Free"


@pytest.mark.parametrize("unit", list(Unit))
def test_count_agrees_in_number_for_every_unit(unit: Unit) -> None:
    one, many = UNIT_LABELS[unit]
    assert count(1, unit) == f"1 {one}"
    assert count(Decimal(3), unit) == f"3 {many}"
    assert count(50_000, unit) == f"50,000 {many}"
    assert count(Decimal(0), unit) == f"0 {many}"
    assert count(Decimal("1.5"), unit) == f"1.5 {many}"


@pytest.mark.parametrize(
    ("charge", "message"),
    [
        ({"amount": 0, "unit": "flat", "limit": 1}, "a flat fee cannot have a limit"),
        ({"amount": 30, "unit": "flat", "minimum": 2}, "a flat fee cannot have a minimum"),
        ({"amount": 0, "unit": "seat", "limit": 0}, "greater than or equal to 1"),
        ({"amount": 0, "unit": "seat", "limit": -3}, "greater than or equal to 1"),
        ({"amount": 9, "unit": "seat", "minimum": 0}, "greater than or equal to 1"),
        ({"amount": 9, "unit": "seat", "minimum": "five"}, "valid integer"),
        ({"amount": 9, "unit": "seat", "limit": 1.5}, "valid integer"),
        ({"amount": 9, "unit": "seat", "minimum": 5, "limit": 2}, "minimum 5 is above the limit 2"),
        (
            {"amount": 1, "unit": "request", "included": 1000, "limit": 500},
            "limit 500 is below the 1,000 included free",
        ),
        ({"amount": 9, "unit": "seat", "max_seats": 3}, "Extra inputs"),
    ],
)
def test_bad_limits_and_minimums_are_refused_in_one_sentence(
    charge: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Plan.model_validate({"name": "P", "charges": [charge]})
