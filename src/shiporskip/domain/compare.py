"""Which one should you ship with? The published rule that concludes a comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shiporskip.domain.reviews import PanelSummary

CONCLUSION_RULE = (
    "A comparison is concluded from the two panels in three steps. "
    "1. Both tools need a panel: a tool that has no reviews yet cannot win or lose; the page "
    "says so. "
    "2. Count Ship votes. Two or more votes apart is a clear call for the tool with more. "
    "One vote apart is a lean, and the page says it is within the uncertainty of a small "
    "panel. "
    "3. On equal Ship votes, each critic who reviewed both tools gives a point to the tool it "
    "scored higher; more points is a lean. Equal points: too close to call."
)


@dataclass(frozen=True, slots=True)
class Conclusion:
    winner: str | None  # "a", "b" or None
    strength: str  # "clear", "lean", "tie", "missing"
    reason: str


def conclude(
    a_name: str,
    b_name: str,
    a: PanelSummary,
    b: PanelSummary,
    a_scores: Mapping[str, int],
    b_scores: Mapping[str, int],
) -> Conclusion:
    """Apply CONCLUSION_RULE to two panels and the critics' scores (critic id -> score)."""
    if a.reported == 0 or b.reported == 0:
        missing = [n for n, s in ((a_name, a), (b_name, b)) if s.reported == 0]
        who = " and ".join(missing)
        return Conclusion(
            None,
            "missing",
            f"{who} {'has' if len(missing) == 1 else 'have'} no panel yet, so there is no call.",
        )
    diff = a.ships - b.ships
    if abs(diff) >= 2:
        side, name = ("a", a_name) if diff > 0 else ("b", b_name)
        return Conclusion(
            side,
            "clear",
            f"Ship with {name}: {abs(diff)} more Ship votes ({a.tally} vs {b.tally}).",
        )
    if abs(diff) == 1:
        side, name = ("a", a_name) if diff > 0 else ("b", b_name)
        return Conclusion(
            side,
            "lean",
            f"Leans {name}: one Ship vote apart ({a.tally} vs {b.tally}), within the "
            "uncertainty of a small panel.",
        )
    shared = sorted(set(a_scores) & set(b_scores))
    a_points = sum(a_scores[c] > b_scores[c] for c in shared)
    b_points = sum(b_scores[c] > a_scores[c] for c in shared)
    if a_points != b_points:
        side, name = ("a", a_name) if a_points > b_points else ("b", b_name)
        high, low = max(a_points, b_points), min(a_points, b_points)
        return Conclusion(
            side,
            "lean",
            f"Leans {name}: equal Ship votes ({a.tally} vs {b.tally}), but {high} of "
            f"{len(shared)} critics scored it higher ({low} the other way).",
        )
    return Conclusion(
        None,
        "tie",
        f"Too close to call: equal Ship votes ({a.tally} vs {b.tally}) and the critics' "
        "scores split evenly.",
    )
