"""ISO weeks: what a digest covers, from Monday 00:00 UTC to the next Monday."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from shiporskip.errors import UserError

_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    year: int
    week: int

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def start(self) -> datetime:
        """Monday 00:00 UTC."""
        return datetime.combine(date.fromisocalendar(self.year, self.week, 1), time(), UTC)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 UTC (exclusive)."""
        return self.start + timedelta(days=7)

    @property
    def label(self) -> str:
        """'16–22 November 2026' (the Sunday's month and year when they differ)."""
        first, last = self.start.date(), (self.end - timedelta(days=1)).date()
        if first.month == last.month:
            return f"{first.day}–{last.day} {last:%B %Y}"
        if first.year == last.year:
            return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
        return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"

    def previous(self) -> IsoWeek:
        return week_of(self.start - timedelta(days=1))


def week_of(moment: datetime) -> IsoWeek:
    """The ISO week a moment falls in (UTC)."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return IsoWeek(year, week)


def parse_week(text: str) -> IsoWeek:
    """'2026-W47' as an IsoWeek, or a UserError naming the expected form."""
    match = _WEEK.fullmatch(text.strip())
    if not match:
        raise UserError(f"week {text!r} is not an ISO week; use the form 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    last = date(year, 12, 28).isocalendar().week
    if not 1 <= week <= last:
        raise UserError(
            f"{year} has no week {week}; its ISO weeks run from {year}-W01 to {year}-W{last}"
        )
    return IsoWeek(year, week)


def check_started(week: IsoWeek, now: datetime) -> None:
    """Refuse a week that has not begun: there is nothing to report yet."""
    if week.start > now:
        raise UserError(
            f"week {week} has not started yet (it begins {week.start:%Y-%m-%d}); "
            f"the latest week is {week_of(now)}"
        )


def check_ended(week: IsoWeek, now: datetime) -> None:
    """Refuse to send a week still in progress: an issue is frozen when first sent."""
    check_started(week, now)
    if week.end > now:
        raise UserError(
            f"week {week} is still in progress (it ends {week.end:%Y-%m-%d} 00:00 UTC); "
            f"send it after that, or send {week.previous()}"
        )


def resolve_week(text: str | IsoWeek | None, now: datetime) -> IsoWeek:
    """The week asked for, or by default the last complete week."""
    if isinstance(text, IsoWeek):
        return text
    if text is None or not text.strip():
        return week_of(now).previous()
    return parse_week(text)
