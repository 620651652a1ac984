"""The panel read model: which review of each critic counts, as of a moment, and why.

Every surface (tool and compare pages, the API, the CLI, the digest, the `tool_panels`
summary and the verdict history) reads a tool's panel through `read_panel`, so they cannot
disagree about it. The rules, in order:

- Only attempts written before `as_of` exist (all of them when it is None).
- Sample reviews count only in a panel made entirely of sample reviews: once any critic on
  the panel has a model review, every critic counts its newest model review, and a critic
  with only a sample review is "awaiting a fresh review" (its sample review is set aside).
- A critic counts its newest review that may count. When a newer attempt of that critic
  failed, the older review still counts but says so: it is "from an earlier run".
- A critic with no review that counts and a failed attempt is failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from shiporskip.domain.reviews import PanelSummary, Verdict, summarize


@dataclass(frozen=True, slots=True)
class Attempt:
    """One stored attempt of one critic, reduced to what the panel needs.

    `model` is what readers see of the model (a public label, never a server address);
    `id` orders attempts as they were written.
    """

    id: int
    critic_id: str
    ok: bool
    verdict: Verdict | None
    score: int | None
    created_at: datetime
    model: str
    is_sample: bool = False


@dataclass(frozen=True, slots=True)
class Seat:
    """One critic's place on the panel: the review that counts, and what else is known."""

    critic_id: str
    counted: Attempt | None
    failure: Attempt | None  # the newest failed attempt after the counted review, if any
    set_aside: Attempt | None  # a sample review that does not count in a mixed panel

    @property
    def earlier_run(self) -> bool:
        """The counted review is older than a failed attempt of the same critic."""
        return self.counted is not None and self.failure is not None

    @property
    def failed(self) -> bool:
        return self.counted is None and self.failure is not None

    @property
    def awaiting(self) -> bool:
        """Only a sample review, set aside because the rest of the panel is model-written."""
        return self.counted is None and self.set_aside is not None


@dataclass(frozen=True, slots=True)
class PanelRead:
    """A tool's panel as of a moment, with where each counted review came from."""

    as_of: datetime | None
    seats: tuple[Seat, ...]
    retired: tuple[str, ...] = ()  # critics with attempts who are not on the panel

    @property
    def counted(self) -> list[Attempt]:
        return [s.counted for s in self.seats if s.counted is not None]

    @property
    def summary(self) -> PanelSummary:
        counted = self.counted
        return summarize(
            [a.verdict for a in counted if a.verdict is not None],
            expected=len(self.seats),
            failed=sum(s.failed for s in self.seats),
            scores=[a.score for a in counted if a.score is not None],
        )

    def seat(self, critic_id: str) -> Seat | None:
        return next((s for s in self.seats if s.critic_id == critic_id), None)

    @property
    def sample(self) -> bool:
        """Every counted review is sample content (and there is at least one)."""
        counted = self.counted
        return bool(counted) and all(a.is_sample for a in counted)

    @property
    def earlier(self) -> list[Seat]:
        return [s for s in self.seats if s.earlier_run]

    @property
    def awaiting(self) -> int:
        return sum(s.awaiting for s in self.seats)

    @property
    def models(self) -> list[str]:
        """The models behind the counted reviews, most reviews first."""
        counts = Counter(a.model for a in self.counted)
        return [m for m, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    @property
    def reviewed_at(self) -> datetime | None:
        return max((a.created_at for a in self.counted), default=None)

    @property
    def newest_id(self) -> int | None:
        return max((a.id for a in self.counted), default=None)

    @property
    def notes(self) -> list[str]:
        """Where the counted reviews came from, when that is not simply 'this run'."""
        out = []
        earlier = self.earlier
        if earlier:
            runs = Counter(
                (s.counted.created_at.date().isoformat(), s.counted.model)
                for s in earlier
                if s.counted is not None
            )
            where = "; ".join(f"{day}, {model}" for day, model in sorted(runs, reverse=True))
            runs_word = "an earlier run" if len(earlier) == 1 else "earlier runs"
            out.append(f"{len(earlier)} from {runs_word} ({where})")
        if self.awaiting:
            n = self.awaiting
            critics = "critic is" if n == 1 else "critics are"
            out.append(f"{n} {critics} awaiting a fresh review (sample reviews set aside)")
        if self.sample:
            out.append("sample content")
        return out

    @property
    def status(self) -> str:
        """'7 of 7 critics reported — 1 from an earlier run (2026-11-22, OpenAI gpt-4o-mini)'."""
        notes = self.notes
        text = self.summary.status
        return f"{text} — {'; '.join(notes)}" if notes else text


def read_panel(
    critic_ids: Sequence[str] | None,
    attempts: Iterable[Attempt],
    as_of: datetime | None = None,
) -> PanelRead:
    """The panel of one tool from its attempts, over these critics (None: every critic that
    has an attempt, in order of their first one) as of a moment (None: now)."""
    by_critic: dict[str, list[Attempt]] = {}
    for attempt in sorted(attempts, key=lambda a: a.id):
        if as_of is None or attempt.created_at < as_of:
            by_critic.setdefault(attempt.critic_id, []).append(attempt)
    ids = list(by_critic) if critic_ids is None else list(critic_ids)
    on_panel = set(ids)
    mixed = any(a.ok and not a.is_sample for c in ids for a in by_critic.get(c, ()))
    seats = []
    for critic_id in ids:
        mine = by_critic.get(critic_id, [])
        usable = [a for a in mine if a.ok and not (mixed and a.is_sample)]
        counted = usable[-1] if usable else None
        after = [a for a in mine if not a.ok and (counted is None or a.id > counted.id)]
        samples = [a for a in mine if a.ok and a.is_sample] if mixed else []
        set_aside = samples[-1] if samples and counted is None else None
        seats.append(Seat(critic_id, counted, after[-1] if after else None, set_aside))
    retired = tuple(c for c in by_critic if c not in on_panel)
    return PanelRead(as_of=as_of, seats=tuple(seats), retired=retired)


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One state of a tool's panel, as the verdict history keeps it."""

    at: datetime
    ships: int
    skips: int
    expected: int
    ship_pct: float | None
    models: tuple[str, ...]
    sample: bool
    reason: str

    @property
    def reported(self) -> int:
        return self.ships + self.skips

    @property
    def summary(self) -> PanelSummary:
        return PanelSummary(self.ships, self.skips, max(self.expected, self.reported))

    def same_panel(self, other: HistoryPoint | PanelRead) -> bool:
        """Whether `other` shows the same verdict, tally and kind of content."""
        if isinstance(other, PanelRead):
            s = other.summary
            return (self.ships, self.skips, self.sample) == (s.ships, s.skips, other.sample)
        return (self.ships, self.skips, self.sample) == (other.ships, other.skips, other.sample)


def change_reason(before: PanelRead | None, after: PanelRead, new: Sequence[Attempt]) -> str:
    """Why a panel changed: 'first review', 're-review with Llama 3.1 8B', 'sample content'."""
    if after.sample:
        return "sample content"
    fresh = [a for a in new if a.ok and not a.is_sample]
    labels = sorted({a.model for a in fresh})
    with_models = f" with {', '.join(labels)}" if labels else ""
    if before is None or before.summary.reported == 0:
        return f"first review{with_models}"
    if before.sample:
        return f"first model review{with_models}; sample reviews set aside"
    reviewed = {s.critic_id for s in before.seats if s.counted is not None}
    if any(a.critic_id in reviewed for a in fresh):
        return f"re-review{with_models}"
    return f"review{with_models}"


def history_point(after: PanelRead, at: datetime, reason: str) -> HistoryPoint:
    """The history row for a panel's new state."""
    s = after.summary
    return HistoryPoint(
        at=at,
        ships=s.ships,
        skips=s.skips,
        expected=s.expected,
        ship_pct=s.ship_pct,
        models=tuple(after.models),
        sample=after.sample,
        reason=reason,
    )
