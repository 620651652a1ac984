"""The predictions ledger's rules: when a prediction is due, what status it has, when two
predictions are the same claim, and a critic's track record."""

from __future__ import annotations

import calendar
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shiporskip.domain.stats import Proportion


class Outcome(StrEnum):
    right = "right"
    wrong = "wrong"
    unclear = "unclear"


class Status(StrEnum):
    open = "open"  # not resolved, due date still ahead
    due = "due"  # not resolved, due date reached
    right = "right"
    wrong = "wrong"
    unclear = "unclear"


STATUSES = tuple(s.value for s in Status)
OUTCOMES = tuple(o.value for o in Outcome)


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus calendar months; the day is clamped to the month's end (Jan 31 + 1 is
    Feb 28 or 29), so a horizon never spills into the month after."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def status_of(outcome: str | None, due: datetime, now: datetime) -> Status:
    """Resolved predictions have their outcome; the others are due once `now` reaches `due`."""
    if outcome is not None:
        return Status(outcome)
    return Status.due if due <= now else Status.open


_SPACES = re.compile(r"\s+")


def claim_key(claim: str) -> str:
    """The identity of a claim for the ledger: the same words in the same order, whatever
    the case, spacing, Unicode form or final full stop. A critic that repeats a claim in a
    re-review keeps one entry; a claim that changes a single word is a new prediction."""
    text = unicodedata.normalize("NFKC", claim).casefold()
    text = _SPACES.sub(" ", text).strip().rstrip(".!").strip()
    return hashlib.sha256(text.encode()).hexdigest()


def parse_outcome(text: str) -> Outcome:
    """An outcome as typed by an operator, or ValueError naming the choices."""
    try:
        return Outcome(text.strip().lower())
    except ValueError:
        raise ValueError(
            f"{text[:40]!r} is not an outcome; use one of {', '.join(OUTCOMES)}"
        ) from None


def parse_status(text: str) -> Status:
    """A status filter, or ValueError naming the choices."""
    try:
        return Status(text.strip().lower())
    except ValueError:
        raise ValueError(
            f"{text[:40]!r} is not a prediction status; use one of {', '.join(STATUSES)}"
        ) from None


@dataclass(frozen=True, slots=True)
class Tally:
    """Resolved predictions of one critic, from reviews of one kind (sample or not)."""

    right: int = 0
    wrong: int = 0
    unclear: int = 0
    unresolved: int = 0

    @property
    def resolved(self) -> int:
        return self.right + self.wrong + self.unclear


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """How a critic's predictions turned out: the share right of those settled either way
    (unclear ones are counted but not in the share), with its 95% Wilson interval.

    The rule for sample content is the panel's: predictions from bundled sample reviews
    count only for a critic with no resolved prediction from a model's review, and the
    record then says it is sample."""

    right: int
    wrong: int
    unclear: int
    unresolved: int
    sample: bool

    @property
    def share(self) -> Proportion:
        return Proportion(self.right, self.right + self.wrong)

    @property
    def text(self) -> str:
        """'2 right, 1 wrong' or 'no resolved predictions yet'."""
        if not self.right + self.wrong + self.unclear:
            return "no resolved predictions yet"
        text = f"{self.right} right, {self.wrong} wrong"
        if self.unclear:
            text += f", {self.unclear} unclear"
        return text


def track_record(own: Tally, sample: Tally) -> TrackRecord:
    """The record shown for a critic, from its model-made and its sample predictions."""
    chosen, is_sample = (sample, True) if not own.resolved and sample.resolved else (own, False)
    return TrackRecord(
        right=chosen.right,
        wrong=chosen.wrong,
        unclear=chosen.unclear,
        unresolved=own.unresolved + sample.unresolved,
        sample=is_sample,
    )


def tally(outcomes: Iterable[tuple[str | None, int]]) -> Tally:
    """A Tally from (outcome or None, count) pairs."""
    counts: dict[str | None, int] = {"right": 0, "wrong": 0, "unclear": 0, None: 0}
    for outcome, n in outcomes:
        counts[outcome] = counts.get(outcome, 0) + n
    return Tally(counts["right"], counts["wrong"], counts["unclear"], counts[None])
