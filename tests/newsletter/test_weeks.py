"""ISO weeks: parsing, bounds, and refusing weeks that have not started or ended."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shiporskip.errors import UserError
from shiporskip.newsletter.weeks import (
    IsoWeek,
    check_ended,
    check_started,
    parse_week,
    resolve_week,
    week_of,
)

NOW = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)  # a Sunday, in 2026-W47


def test_a_week_runs_from_monday_midnight_utc_to_the_next_monday() -> None:
    week = parse_week("2026-W47")
    assert week == IsoWeek(2026, 47) and str(week) == "2026-W47"
    assert week.start == datetime(2026, 11, 16, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 23, tzinfo=UTC)
    assert week.label == "16–22 November 2026"
    assert parse_week("2026w47") == week == week_of(NOW)
    assert IsoWeek(2027, 1).previous() == IsoWeek(2026, 53)
    assert IsoWeek(2026, 1).start == datetime(2025, 12, 29, tzinfo=UTC)
    assert IsoWeek(2026, 1).label == "29 December 2025 – 4 January 2026"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("next week", "is not an ISO week; use the form 2026-W47"),
        ("2026-47", "is not an ISO week"),
        ("2026-W", "is not an ISO week"),
        ("2026-W470", "is not an ISO week"),
        ("'; DROP TABLE x", "is not an ISO week"),
        ("2025-W53", "2025 has no week 53; its ISO weeks run from 2025-W01 to 2025-W52"),
        ("2026-W00", "2026 has no week 0"),
    ],
)
def test_garbage_weeks_get_one_clear_sentence(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_week(text)


def test_future_and_unfinished_weeks_are_refused() -> None:
    with pytest.raises(UserError, match="week 2026-W48 has not started yet"):
        check_started(parse_week("2026-W48"), NOW)
    with pytest.raises(UserError, match=r"week 2026-W47 is still in progress .* send 2026-W46"):
        check_ended(parse_week("2026-W47"), NOW)
    check_started(parse_week("2026-W47"), NOW)
    check_ended(parse_week("2026-W46"), NOW)


def test_the_default_week_is_the_last_complete_one() -> None:
    assert resolve_week(None, NOW) == IsoWeek(2026, 46)
    assert resolve_week("", NOW) == IsoWeek(2026, 46)
    assert resolve_week("2026-W40", NOW) == IsoWeek(2026, 40)
