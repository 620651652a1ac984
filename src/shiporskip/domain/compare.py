"""Which one should you ship with? The published rule that concludes a comparison."""

from __future__ import annotations

from dataclasses import dataclass

from shiporskip.domain.pairwise import PairwiseTally
from shiporskip.domain.reviews import PanelSummary
from shiporskip.domain.stats import Proportion

CONCLUSION_RULE = (
    "A comparison is concluded from each panel's ship rate with its 95% Wilson interval, how "
    "complete each panel is, and the critics' pairwise picks; raw vote counts are never "
    "compared, because panels of different sizes cannot be compared by counts. "
    "1. Both tools need a panel: a tool that has no reviews yet cannot win or lose; the page "
    "says so. "
    "2. Tools listed in different categories do different jobs: there is no call unless a "
    "pairwise majority picks one of them, which makes a lean. "
    "3. When the two ship rates' 95% intervals do not overlap, the tool with the higher ship "
    "rate wins: a clear call when both panels are complete and no pairwise majority picks "
    "the other tool, otherwise a lean. "
    "4. When the intervals overlap, a pairwise majority decides, as a lean; without one the "
    "comparison is too close to call."
)


@dataclass(frozen=True, slots=True)
class Conclusion:
    winner: str | None  # "a", "b" or None
    strength: str  # "clear", "lean", "tie", "different", "missing"
    reason: str


def _rate(name: str, summary: PanelSummary) -> str:
    """'Cursor 71% (95% CI 36–92%, 5-2)', naming an incomplete panel's status."""
    share = Proportion(summary.ships, summary.reported)
    text = f"{name} {share.percent()} ({share.interval_text()}, {summary.tally}"
    if not summary.complete:
        text += f", {summary.status}"
    return text + ")"


def overlap(a: PanelSummary, b: PanelSummary) -> bool:
    """Whether the 95% intervals of the two ship rates overlap."""
    ia = Proportion(a.ships, a.reported).interval
    ib = Proportion(b.ships, b.reported).interval
    if ia is None or ib is None:
        return True
    return ia[0] <= ib[1] and ib[0] <= ia[1]


def conclude(
    a_name: str,
    b_name: str,
    a: PanelSummary,
    b: PanelSummary,
    *,
    a_category: str,
    b_category: str,
    pairwise: PairwiseTally | None = None,
) -> Conclusion:
    """Apply CONCLUSION_RULE to two panels, their categories (names) and the kept picks."""
    names = {"a": a_name, "b": b_name}
    if a.reported == 0 or b.reported == 0:
        missing = [n for n, s in ((a_name, a), (b_name, b)) if s.reported == 0]
        who = " and ".join(missing)
        return Conclusion(
            None,
            "missing",
            f"{who} {'has' if len(missing) == 1 else 'have'} no panel yet, so there is no call.",
        )
    majority = pairwise.majority if pairwise else None
    picked = ""
    if pairwise and majority:
        count = pairwise.a if majority == "a" else pairwise.b
        picked = f"{count} of {pairwise.answered} critics picked {names[majority]} in both orders"
    rates = f"{_rate(a_name, a)} against {_rate(b_name, b)}"
    if a_category != b_category:
        if majority:
            return Conclusion(
                majority,
                "lean",
                f"Leans {names[majority]}: they are listed in different categories "
                f"({a_category} and {b_category}), but {picked}.",
            )
        return Conclusion(
            None,
            "different",
            f"They do different jobs: {a_name} is listed in {a_category} and {b_name} in "
            f"{b_category}, and no pairwise majority picks one of them.",
        )
    if not overlap(a, b):
        side = "a" if a.ships * b.reported > b.ships * a.reported else "b"
        name = names[side]
        incomplete = [s for s in (a, b) if not s.complete]
        if incomplete or (majority and majority != side):
            why = (
                "a panel is incomplete"
                if incomplete
                else f"the pairwise picks favour the other tool ({picked})"
            )
            return Conclusion(
                side,
                "lean",
                f"Leans {name}: {rates}; the 95% intervals do not overlap, but {why}.",
            )
        return Conclusion(
            side,
            "clear",
            f"Ship with {name}: {rates}; the 95% intervals do not overlap.",
        )
    if majority:
        return Conclusion(
            majority,
            "lean",
            f"Leans {names[majority]}: {rates} overlap at 95%, but {picked}.",
        )
    return Conclusion(
        None,
        "tie",
        f"Too close to call: {rates} overlap at 95%, and no pairwise majority picks one of them.",
    )
