"""Pairwise picks: what counts as kept, swap consistency, and the call on a compare page."""

from __future__ import annotations

import pytest

from shiporskip.domain.compare import CONCLUSION_RULE, conclude
from shiporskip.domain.pairwise import (
    CriticPick,
    PairwiseAnswer,
    PairwiseTally,
    choice,
    tally,
)
from shiporskip.domain.reviews import Verdict, summarize


def panel(ships: int, skips: int, expected: int = 7):
    return summarize([Verdict.ship] * ships + [Verdict.skip] * skips, expected=expected)


def test_a_letter_names_the_other_tool_in_the_swapped_order() -> None:
    assert (choice("A", False), choice("B", False)) == ("a", "b")
    assert (choice("A", True), choice("B", True)) == ("b", "a")
    assert choice("neither", True) == "neither"


@pytest.mark.parametrize(
    ("first", "swapped", "kept", "agreed"),
    [
        ("a", "a", "a", True),
        ("b", "b", "b", True),
        ("a", "b", None, False),  # always "A": order-sensitive
        ("neither", "neither", None, True),
        ("a", "neither", None, False),
        ("a", None, None, None),
        (None, None, None, None),
    ],
)
def test_a_pick_is_kept_only_when_both_orders_name_the_same_tool(
    first, swapped, kept, agreed
) -> None:
    pick = CriticPick("builder", first, swapped)
    assert pick.kept == kept and pick.agreed is agreed


def test_consistency_is_the_share_of_critics_whose_answers_agreed() -> None:
    picks = [
        CriticPick("builder", "a", "a"),
        CriticPick("skeptic", "a", "b"),
        CriticPick("futurist", "neither", "neither"),
        CriticPick("buyer", "b", "b"),
        CriticPick("operator", None, "a"),  # one answer failed: not counted
    ]
    t = tally(picks)
    assert (t.a, t.b, t.answered, t.agreed) == (1, 1, 4, 3)
    assert t.consistency == 0.75
    assert t.majority is None
    assert tally([]).consistency is None
    assert tally([CriticPick("x", "a", "b")] * 3).consistency == 0.0


def test_a_majority_is_more_than_half_of_the_critics_with_both_answers() -> None:
    assert PairwiseTally(a=4, b=0, answered=7, agreed=7).majority == "a"
    assert PairwiseTally(a=3, b=1, answered=7, agreed=4).majority is None  # 3 others unsure
    assert PairwiseTally(a=0, b=2, answered=3, agreed=2).majority == "b"
    assert PairwiseTally(a=1, b=1, answered=2, agreed=2).majority is None


def test_answers_are_read_tolerantly_but_strictly() -> None:
    assert PairwiseAnswer.model_validate({"pick": " b. ", "reason": "cheaper"}).pick == "B"
    assert PairwiseAnswer.model_validate({"pick": "None", "reason": "x"}).pick == "neither"
    long = PairwiseAnswer.model_validate({"pick": "A", "reason": "y" * 1000})
    assert len(long.reason) <= 300
    with pytest.raises(ValueError):
        PairwiseAnswer.model_validate({"pick": "C", "reason": "x"})
    with pytest.raises(ValueError):
        PairwiseAnswer.model_validate({"pick": "A", "reason": ""})


def test_one_one_against_five_two_is_too_close_to_call_not_a_clear_win() -> None:
    call = conclude(
        "Small", "Full", panel(1, 1), panel(5, 2), a_category="Models", b_category="Models"
    )
    assert call.strength == "tie" and call.winner is None
    assert "more Ship votes" not in call.reason
    assert "Small 50% (95% CI 9–91%, 1-1, 2 of 7 critics reported)" in call.reason
    assert "Full 71% (95% CI 36–92%, 5-2)" in call.reason


def test_a_pairwise_majority_decides_when_the_intervals_overlap() -> None:
    picks = PairwiseTally(a=0, b=5, answered=7, agreed=6)
    call = conclude(
        "Small",
        "Full",
        panel(1, 1),
        panel(5, 2),
        a_category="Models",
        b_category="Models",
        pairwise=picks,
    )
    assert (call.winner, call.strength) == ("b", "lean")
    assert "5 of 7 critics picked Full in both orders" in call.reason
    # Order-sensitive critics are no majority: 3 kept of 7 answered.
    weak = PairwiseTally(a=0, b=3, answered=7, agreed=3)
    call = conclude(
        "Small", "Full", panel(1, 1), panel(5, 2), a_category="M", b_category="M", pairwise=weak
    )
    assert call.strength == "tie"


def test_separate_intervals_make_a_clear_call_only_for_complete_panels() -> None:
    clear = conclude("A", "B", panel(7, 0), panel(0, 7), a_category="M", b_category="M")
    assert (clear.winner, clear.strength) == ("a", "clear")
    assert "do not overlap" in clear.reason
    lean = conclude("A", "B", panel(0, 7), panel(3, 0), a_category="M", b_category="M")
    assert (lean.winner, lean.strength) == ("b", "lean")
    assert "a panel is incomplete" in lean.reason
    against = PairwiseTally(a=0, b=4, answered=7, agreed=7)
    call = conclude(
        "A", "B", panel(7, 0), panel(0, 7), a_category="M", b_category="M", pairwise=against
    )
    assert (call.winner, call.strength) == ("a", "lean")
    # 6-1 against 1-6 still overlaps at 95% with seven critics.
    assert conclude(
        "A", "B", panel(6, 1), panel(1, 6), a_category="M", b_category="M"
    ).strength == ("tie")


def test_different_categories_do_different_jobs_unless_the_picks_decide() -> None:
    call = conclude(
        "GPT-4o",
        "Tavily",
        panel(7, 0),
        panel(0, 7),
        a_category="Models",
        b_category="Search & Grounding APIs",
    )
    assert (call.winner, call.strength) == (None, "different")
    assert call.reason.startswith("They do different jobs")
    picks = PairwiseTally(a=0, b=4, answered=7, agreed=7)
    call = conclude(
        "GPT-4o",
        "Tavily",
        panel(7, 0),
        panel(0, 7),
        a_category="Models",
        b_category="Search & Grounding APIs",
        pairwise=picks,
    )
    assert (call.winner, call.strength) == ("b", "lean")


def test_a_tool_without_a_panel_gets_no_call() -> None:
    call = conclude("A", "B", panel(0, 0), panel(5, 2), a_category="M", b_category="M")
    assert call.strength == "missing" and call.reason == "A has no panel yet, so there is no call."


def test_the_call_does_not_depend_on_which_side_a_tool_is_on() -> None:
    cases = [(panel(1, 1), panel(5, 2)), (panel(7, 0), panel(0, 7)), (panel(0, 7), panel(3, 0))]
    picks = PairwiseTally(a=1, b=4, answered=6, agreed=5)
    for x, y in cases:
        for p in (None, picks):
            one = conclude("X", "Y", x, y, a_category="M", b_category="M", pairwise=p)
            two = conclude(
                "Y",
                "X",
                y,
                x,
                a_category="M",
                b_category="M",
                pairwise=p.swapped_sides() if p else None,
            )
            flip = {"a": "b", "b": "a", None: None}
            assert (one.winner, one.strength) == (flip[two.winner], two.strength)


def test_the_published_rule_names_intervals_completeness_and_picks() -> None:
    for words in ("95% Wilson interval", "complete", "pairwise majority", "different categories"):
        assert words in CONCLUSION_RULE
