"""The pricing read: default usage, costs per plan, the cheapest, and when two tools compare."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shiporskip.domain.pricing import Unit
from shiporskip.domain.pricing_read import (
    UsageError,
    default_usage,
    describe_usage,
    format_cost,
    read_pair,
    read_tool,
    read_usage,
    reader_usage,
)
from shiporskip.domain.tools import Tool
from tests.factories import make_tool


def priced(name: str, *plans: dict[str, Any], entry: str = "paid") -> Tool:
    return make_tool(name, pricing={"entry": entry, "plans": list(plans)})


def seats_tool(name: str = "Seat Editor") -> Tool:
    return priced(
        name,
        {"name": "Hobby", "amount": 0, "unit": "flat"},
        {"name": "Pro", "amount": 20, "unit": "flat"},
        {"name": "Teams", "amount": 40, "unit": "seat"},
        entry="freemium",
    )


def tokens_tool(name: str = "Token Model", input_price: float = 2.5) -> Tool:
    return priced(
        name,
        {
            "name": "API",
            "period": "usage",
            "charges": [
                {"amount": input_price, "unit": "input_token", "per": 1_000_000},
                {"amount": 10, "unit": "output_token", "per": 1_000_000},
            ],
        },
    )


def search_api(name: str = "Search API") -> Tool:
    return priced(
        name,
        {
            "name": "API",
            "period": "usage",
            "charges": [
                {"amount": 3, "unit": "input_token", "per": 1_000_000},
                {"amount": 15, "unit": "output_token", "per": 1_000_000},
                {"amount": 5, "unit": "request", "per": 1000},
            ],
        },
    )


def open_model(name: str = "Open Model") -> Tool:
    return make_tool(name, licence="Apache-2.0", pricing={"entry": "open-source"})


def test_seed_check_five_dollars_per_thousand_requests_at_fifty_thousand_is_250() -> None:
    read = read_tool(make_tool(), {Unit.request: Decimal(50_000)})
    assert read.cheapest is not None and read.cheapest.cost == Decimal(250)
    assert read.cheapest.cost_text == "$250 a month"
    assert read.summary == "Cheapest at this usage: API at $250 a month."


def test_default_usage_comes_from_the_units_the_plans_meter_and_is_shown() -> None:
    read = read_tool(make_tool())
    assert read.default_usage is True
    assert read.usage == {Unit.request: Decimal(50_000)}
    assert read.usage_text == "50,000 requests"
    assert read.cheapest is not None and read.cheapest.cost == Decimal(250)
    assert read_tool(tokens_tool()).usage_text == "10M input tokens; 2M output tokens"
    assert read_tool(seats_tool()).usage_text == "1 seat"


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        ([Unit.seat], "1 seat"),
        ([Unit.request], "50,000 requests"),
        ([Unit.output_token, Unit.input_token], "10M input tokens; 2M output tokens"),
        ([Unit.image], "1,000 images"),
        ([Unit.minute], "1,000 minutes"),
        ([], "1 seat"),  # flat subscriptions: one person's plan
    ],
)
def test_default_usage_per_unit(units: list[Unit], expected: str) -> None:
    assert describe_usage(default_usage(units)) == expected


def test_a_flat_subscription_is_priced_for_one_seat() -> None:
    read = read_tool(seats_tool())
    costs = {p.name: p.cost_text for p in read.plans}
    assert costs == {"Hobby": "$0 a month", "Pro": "$20 a month", "Teams": "$40 a month"}
    assert read.cheapest is not None and read.cheapest.name == "Hobby"


def test_multi_meter_plan_at_the_default_usage() -> None:
    read = read_tool(search_api())
    # 10M input x $3/M + 2M output x $15/M + 50,000 requests x $5/1000
    assert read.cheapest is not None and read.cheapest.cost == Decimal(30 + 30 + 250)


def test_usage_round_trips_through_its_description() -> None:
    usage = read_usage("50,000 requests; 2M input tokens + 1.5 seats; 1B output tokens")
    assert usage == {
        Unit.request: Decimal(50_000),
        Unit.input_token: Decimal(2_000_000),
        Unit.seat: Decimal("1.5"),
        Unit.output_token: Decimal(1_000_000_000),
    }
    text = describe_usage(usage)
    assert text == "50,000 requests; 2M input tokens; 1B output tokens; 1.5 seats"
    assert read_usage(text) == usage
    assert describe_usage(usage, prose=True) == (
        "50,000 requests, 2M input tokens, 1B output tokens and 1.5 seats"
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("abc", "'abc' has no unit; write e.g. '50000 requests'"),
        ("50000", "'50000' has no unit"),
        ("50000 bananas", "unknown unit 'bananas'; use one of: request"),
        ("-5 requests", "must be a positive number"),
        ("NaN requests", "must be a positive number"),
        ("k requests", "write a number then a unit"),
        ("1e999999999999 requests", "write a number then a unit"),
        ("1e20 requests", "use at most 1,000,000,000,000 a month"),
        ("x" * 300, "keep it under 200"),
        (";;", "The usage is empty"),
        ("2 subscriptions", "A subscription is not metered usage"),
    ],
)
def test_bad_usage_is_one_sentence_naming_the_problem_and_the_fix(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        read_usage(text)
    message = str(caught.value)
    assert fragment in message
    assert message.endswith(".") and "\n" not in message
    assert reader_usage(text) == (None, message)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_blank_usage_means_the_default(text: str | None) -> None:
    assert reader_usage(text) == (None, None)


def test_format_cost_rounds_to_the_cent() -> None:
    assert format_cost(Decimal("22.5"), "USD") == "$22.50"
    assert format_cost(Decimal("1750"), "USD") == "$1,750"
    assert format_cost(Decimal("0.001"), "USD") == "less than $0.01"
    assert format_cost(Decimal(0), "EUR") == "€0"
    assert format_cost(Decimal("1234.567"), "GBP") == "£1,234.57"


def test_yearly_plans_are_priced_per_month() -> None:
    tool = priced("Yearly", {"name": "Annual", "amount": 120, "unit": "seat", "period": "year"})
    read = read_tool(tool, {Unit.seat: Decimal(3)})
    assert read.cheapest is not None and read.cheapest.cost_text == "$30 a month"


def test_plans_that_cannot_price_the_usage_give_the_reason() -> None:
    tool = priced(
        "Credits",
        {"name": "Free", "amount": 0, "unit": "credit", "limit": 1000},
        {"name": "Pay as you go", "amount": 0.008, "unit": "credit", "period": "usage"},
        {"name": "Project", "amount": 30, "unit": "flat"},
        entry="freemium",
    )
    read = read_tool(tool, {Unit.credit: Decimal(5000)})
    reasons = {p.name: p.reason for p in read.plans}
    assert reasons["Free"] == (
        "the Free plan allows at most 1,000 credits a month; this usage needs 5,000 credits"
    )
    free = next(p for p in read.plans if p.name == "Free")
    assert not free.covers and free.cost_text == "Doesn't cover this usage"
    assert free.limits == ("at most 1,000 credits a month",)
    assert reasons["Project"] == "the Project plan does not price credits"
    assert read.cheapest is not None and read.cheapest.name == "Pay as you go"
    assert read.cheapest.cost_text == "$40 a month"


def test_a_usage_without_any_unit_the_tool_charges_for_prices_nothing() -> None:
    read = read_tool(tokens_tool(), {Unit.seat: Decimal(1)})
    assert read.cheapest is None
    assert all(p.cost is None for p in read.plans)
    assert read.summary == "No plan of Token Model can price this usage."
    assert read.note == (
        "This usage gives no input tokens and output tokens, which Token Model charges for; "
        "add them."
    )


def test_a_usage_that_leaves_out_a_charged_unit_says_it_counts_as_zero() -> None:
    read = read_tool(tokens_tool(), {Unit.input_token: Decimal(1_000_000)})
    assert read.cheapest is not None and read.cheapest.cost == Decimal("2.5")
    assert read.note == (
        "This usage leaves out output tokens, which Token Model also charges for; "
        "they count as zero."
    )


def test_open_source_tool_has_nothing_to_price() -> None:
    read = read_tool(open_model())
    assert read.plans == () and read.cheapest is None
    assert read.summary == "No plans to price: Open Model is open source."


def test_two_tools_metering_different_units_get_a_plain_sentence() -> None:
    pair = read_pair(seats_tool("Cursor"), search_api("Perplexity Sonar Pro API"))
    assert pair.comparable is False and pair.same_usage is False
    assert pair.sentence == (
        "Cursor prices seats, Perplexity Sonar Pro API prices requests and tokens: "
        "there is no common usage to compare them at."
    )
    # Each is still read at its own default usage.
    assert pair.a.usage_text == "1 seat"
    assert pair.b.usage_text == "50,000 requests; 10M input tokens; 2M output tokens"


def test_the_sentence_spells_out_units_when_tokens_would_hide_the_difference() -> None:
    combined = priced("Combined", {"name": "API", "amount": 1, "unit": "token", "per": 1000})
    pair = read_pair(tokens_tool(), combined)
    assert pair.sentence == (
        "Token Model prices input tokens and output tokens, Combined prices tokens: "
        "there is no common usage to compare them at."
    )


def test_flat_subscriptions_and_seats_compare_at_one_seat() -> None:
    flat = priced("Flat", {"name": "Pro", "amount": 25, "unit": "flat"})
    pair = read_pair(flat, seats_tool())
    assert pair.comparable and pair.same_usage
    assert pair.a.usage_text == pair.b.usage_text == "1 seat"
    assert pair.sentence == (
        "At 1 seat a month, Seat Editor costs less: $0 a month (Hobby) against "
        "$25 a month for Flat (Pro)."
    )


def test_same_units_compare_at_the_same_usage() -> None:
    pair = read_pair(tokens_tool("Dear", input_price=3), tokens_tool("Cheap", input_price=1))
    assert pair.comparable and pair.same_usage
    assert pair.sentence == (
        "At 10M input tokens and 2M output tokens a month, Cheap costs less: $30 a month (API) "
        "against $50 a month for Dear (API)."
    )
    given = read_pair(make_tool("One"), make_tool("Two"), {Unit.request: Decimal(50_000)})
    assert (
        given.sentence
        == "At 50,000 requests a month, both cost $250 a month: One on API, Two on API."
    )
    assert given.a.default_usage is False


def test_different_currencies_are_not_ranked() -> None:
    euro = priced(
        "Euro", {"name": "API", "amount": 5, "unit": "request", "per": 1000, "currency": "EUR"}
    )
    pair = read_pair(make_tool(), euro)
    assert pair.comparable
    assert pair.sentence == (
        "Example Tool bills in USD and Euro in EUR, so the costs are shown side by side "
        "but not ranked."
    )


def test_open_source_against_a_paid_tool() -> None:
    pair = read_pair(open_model(), make_tool())
    assert not pair.comparable
    assert pair.sentence == (
        "Open Model lists no plans to price, so only Example Tool has a cost at a usage."
    )
    both = read_pair(open_model("A"), open_model("B"))
    assert both.sentence == "Neither A nor B lists plans to price, so there is no cost to compare."


def test_comparable_tools_at_a_usage_neither_can_price() -> None:
    pair = read_pair(tokens_tool("One"), tokens_tool("Two"), {Unit.seat: Decimal(2)})
    assert pair.sentence == (
        "At this usage One and Two have no plan that can price it, so the costs cannot be ranked."
    )


# Seat plans: what a team of three really pays, and which plans cannot serve it at all.


def editor(name: str = "Editor") -> Tool:
    """Recorded like the sample's Cursor: a one-person free tier and per-seat paid plans."""
    return priced(
        name,
        {"name": "Hobby", "amount": 0, "unit": "seat", "limit": 1},
        {"name": "Pro", "amount": 20, "unit": "seat"},
        {"name": "Teams", "amount": 40, "unit": "seat"},
        entry="freemium",
    )


def test_a_one_person_free_tier_does_not_cover_three_seats_and_says_why() -> None:
    read = read_tool(editor(), {Unit.seat: Decimal(3)})
    plans = {p.name: p for p in read.plans}
    hobby = plans["Hobby"]
    assert hobby.cost is None and not hobby.covers and not hobby.cheapest
    assert hobby.cost_text == "Doesn't cover this usage"
    assert hobby.reason == "the Hobby plan allows at most 1 seat; this usage needs 3 seats"
    assert hobby.limits == ("at most 1 seat",)  # shown whether or not the usage reaches it
    assert plans["Pro"].cost == Decimal(60) and plans["Pro"].cost_text == "$60 a month"
    assert plans["Teams"].cost_text == "$120 a month"
    assert read.cheapest is not None and read.cheapest.name == "Pro"
    assert read.summary == "Cheapest at this usage: Pro at $60 a month."


def test_at_one_seat_the_free_tier_covers_and_is_cheapest_with_its_limit_shown() -> None:
    read = read_tool(editor(), {Unit.seat: Decimal(1)})
    assert read.cheapest is not None and read.cheapest.name == "Hobby"
    assert read.cheapest.cost_text == "$0 a month" and read.cheapest.limits == ("at most 1 seat",)


def test_cheapest_is_chosen_among_the_plans_that_cover_the_usage_only() -> None:
    tool = priced(
        "Seats",
        {"name": "Solo", "amount": 5, "unit": "seat", "limit": 1},
        {"name": "Small team", "amount": 12, "unit": "seat", "limit": 5},
        {"name": "Company", "amount": 15, "unit": "seat"},
    )
    cheapest = {n: read_tool(tool, {Unit.seat: Decimal(n)}).cheapest for n in (1, 3, 5, 6, 200)}
    assert {n: c.name if c else None for n, c in cheapest.items()} == {
        1: "Solo",
        3: "Small team",
        5: "Small team",
        6: "Company",
        200: "Company",
    }


def test_a_plan_sold_for_a_minimum_of_seats_bills_the_minimum() -> None:
    tool = priced("Chat", {"name": "Team", "amount": 30, "unit": "seat", "minimum": 5})
    read = read_tool(tool, {Unit.seat: Decimal(2)})
    assert read.cheapest is not None and read.cheapest.cost_text == "$150 a month"
    assert read.cheapest.limits == ("at least 5 seats",)
    assert read_tool(tool, {Unit.seat: Decimal(7)}).plans[0].cost_text == "$210 a month"


def test_one_seat_included_then_per_seat() -> None:
    tool = priced(
        "Base",
        {
            "name": "Studio",
            "charges": [
                {"amount": 20, "unit": "flat"},
                {"amount": 15, "unit": "seat", "included": 1},
            ],
        },
    )
    costs = {n: read_tool(tool, {Unit.seat: Decimal(n)}).plans[0].cost for n in (1, 3)}
    assert costs == {1: Decimal(20), 3: Decimal(50)}  # $20 with one seat, +2 x $15


def test_a_tool_with_no_plan_for_the_usage_is_never_called_as_cheap() -> None:
    solo = priced(
        "Solo Editor",
        {"name": "Free", "amount": 0, "unit": "seat", "limit": 1},
        {"name": "Plus", "amount": 10, "unit": "seat", "limit": 1},
        entry="freemium",
    )
    pair = read_pair(editor("Cursor"), solo, {Unit.seat: Decimal(3)})
    assert pair.comparable
    assert "both cost" not in pair.sentence
    assert pair.sentence == (
        "At 3 seats a month, only Cursor has a plan that covers it: $60 a month (Pro); "
        "no Solo Editor plan covers this usage."
    )
    assert pair.b.summary == "No plan of Solo Editor covers this usage."
    # At one seat both free tiers cover it, so both really do cost $0.
    one = read_pair(editor("Cursor"), solo, {Unit.seat: Decimal(1)})
    assert one.sentence == (
        "At 1 seat a month, both cost $0 a month: Cursor on Hobby, Solo Editor on Free."
    )


def test_neither_tool_covering_the_usage_is_said_plainly() -> None:
    solo = priced("Solo", {"name": "Plus", "amount": 10, "unit": "seat", "limit": 1})
    pair = read_pair(
        solo,
        priced("Duo", {"name": "Pair", "amount": 9, "unit": "seat", "limit": 2}),
        {Unit.seat: Decimal(3)},
    )
    assert pair.sentence == (
        "At this usage Solo and Duo have no plan that covers it, so the costs cannot be ranked."
    )


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({Unit.seat: Decimal(1)}, "1 seat"),
        ({Unit.seat: Decimal(3)}, "3 seats"),
        ({Unit.request: Decimal(1)}, "1 request"),
        ({Unit.request: Decimal(50_000)}, "50,000 requests"),
        ({Unit.input_token: Decimal(1)}, "1 input token"),
        ({Unit.output_token: Decimal(2_000_000)}, "2M output tokens"),
        ({Unit.token: Decimal(1)}, "1 token"),
        ({Unit.character: Decimal(1)}, "1 character"),
        ({Unit.character: Decimal(2)}, "2 characters"),
        ({Unit.image: Decimal(1)}, "1 image"),
        ({Unit.minute: Decimal(1)}, "1 minute"),
        ({Unit.minute: Decimal("0.5")}, "0.5 minutes"),
        ({Unit.page: Decimal(1)}, "1 page"),
        ({Unit.credit: Decimal(1)}, "1 credit"),
        ({Unit.credit: Decimal(0)}, "0 credits"),
    ],
)
def test_every_unit_agrees_in_number(usage: dict[Unit, Decimal], expected: str) -> None:
    assert describe_usage(usage) == expected
