"""The community vote: one vote per voter per tool, shown with its uncertainty."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shiporskip.domain.reviews import PanelSummary, PanelVerdict
from shiporskip.domain.stats import wilson_interval


class VoteValue(StrEnum):
    ship = "ship"
    skip = "skip"


def parse_vote(value: object) -> VoteValue | None:
    """'ship', 'skip', or None / 'withdraw' (withdraw); anything else is a ValueError."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text == "withdraw":
        return None
    try:
        return VoteValue(text)
    except ValueError:
        raise ValueError(f"vote must be ship, skip or withdraw, not {str(value)[:40]!r}") from None


@dataclass(frozen=True, slots=True)
class Community:
    """Counted votes for one tool; below `minimum` the percentage is withheld."""

    ships: int
    skips: int
    verified: int
    minimum: int

    @property
    def total(self) -> int:
        return self.ships + self.skips

    @property
    def shown(self) -> bool:
        return self.total >= self.minimum and self.total > 0

    @property
    def ship_pct(self) -> float | None:
        return 100 * self.ships / self.total if self.shown else None

    @property
    def interval(self) -> tuple[float, float] | None:
        found = wilson_interval(self.ships, self.total) if self.shown else None
        return (100 * found[0], 100 * found[1]) if found else None

    @property
    def text(self) -> str:
        """'64%' or '—'."""
        return "—" if self.ship_pct is None else f"{self.ship_pct:.0f}%"

    @property
    def note(self) -> str:
        """'12 votes (5 verified) · 95% CI 39–84%', or 'No community votes yet', or
        '3 votes so far' below the minimum."""
        if self.total == 0:
            return "No community votes yet"
        votes = f"{self.total} vote{'s' if self.total != 1 else ''}"
        if not self.shown:
            return f"{votes} so far; a percentage shows from {self.minimum} votes"
        verified = f" ({self.verified} verified)" if self.verified else ""
        low, high = self.interval or (0.0, 0.0)
        return f"{votes}{verified} · 95% CI {low:.0f}–{high:.0f}%"

    def disagreement(self, panel: PanelSummary) -> str | None:
        """A note when the community and the panel clearly disagree."""
        if not self.shown or panel.verdict in (None, PanelVerdict.tied) or self.interval is None:
            return None
        low, high = self.interval
        if panel.verdict is PanelVerdict.ship and high < 50:
            return "The community leans Skip while the panel says Ship."
        if panel.verdict is PanelVerdict.skip and low > 50:
            return "The community leans Ship while the panel says Skip."
        return None
