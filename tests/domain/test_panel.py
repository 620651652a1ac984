"""The panel read model: which review of each critic counts, as of when, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from shiporskip.domain.panel import Attempt, change_reason, read_panel
from shiporskip.domain.reviews import Verdict

DAY = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
CRITICS = ["builder", "skeptic", "futurist"]
LLAMA = "llama3.1-8b (local)"
GPT = "OpenAI gpt-4o-mini"
SAMPLE = "sample content written by the shiporskip team"

_ids = count(1)


def ok(critic: str, verdict: str, score: int, when: datetime, model: str = GPT) -> Attempt:
    return Attempt(next(_ids), critic, True, Verdict(verdict), score, when, model)


def failed(critic: str, when: datetime, model: str = LLAMA) -> Attempt:
    return Attempt(next(_ids), critic, False, None, None, when, model)


def sample(critic: str, verdict: str, when: datetime = DAY) -> Attempt:
    return Attempt(next(_ids), critic, True, Verdict(verdict), 60, when, SAMPLE, is_sample=True)


def test_a_failed_re_review_counts_the_earlier_review_and_says_so() -> None:
    later = DAY + timedelta(days=9)
    attempts = [
        ok("builder", "ship", 80, DAY),
        ok("skeptic", "skip", 30, DAY),
        ok("futurist", "ship", 70, DAY),
        ok("builder", "ship", 75, later, LLAMA),
        ok("skeptic", "ship", 60, later, LLAMA),
        failed("futurist", later),
    ]
    panel = read_panel(CRITICS, attempts)
    s = panel.summary
    assert (s.ships, s.skips, s.reported, s.expected, s.failed) == (3, 0, 3, 3, 0)
    futurist = panel.seat("futurist")
    assert futurist is not None and futurist.earlier_run and not futurist.failed
    assert futurist.counted is not None and futurist.counted.created_at == DAY
    assert [s.critic_id for s in panel.earlier] == ["futurist"]
    assert panel.status == (
        "3 of 3 critics reported — 1 from an earlier run (2026-11-22, OpenAI gpt-4o-mini)"
    )
    assert panel.models == [LLAMA, GPT]
    assert panel.reviewed_at == later


def test_a_critic_whose_only_attempts_failed_is_failed_not_earlier() -> None:
    panel = read_panel(CRITICS, [ok("builder", "ship", 80, DAY), failed("skeptic", DAY)])
    s = panel.summary
    assert (s.reported, s.expected, s.failed) == (1, 3, 1)
    assert panel.earlier == []
    assert panel.status == "1 of 3 critics reported (1 failed)"


def test_a_later_success_clears_the_failure() -> None:
    attempts = [failed("builder", DAY), ok("builder", "skip", 20, DAY + timedelta(hours=1))]
    seat = read_panel(["builder"], attempts).seat("builder")
    assert seat is not None and seat.failure is None and not seat.earlier_run


def test_sample_reviews_count_only_in_an_all_sample_panel() -> None:
    samples = [sample("builder", "ship"), sample("skeptic", "ship"), sample("futurist", "skip")]
    only = read_panel(CRITICS, samples)
    assert only.sample and only.summary.tally == "2-1"
    assert only.status == "3 of 3 critics reported — sample content"
    fresh = ok("builder", "skip", 35, DAY + timedelta(days=1), LLAMA)
    mixed = read_panel(CRITICS, [*samples, fresh])
    s = mixed.summary
    # The fresh model review counts; the other critics' sample reviews are set aside.
    assert (s.ships, s.skips, s.reported, s.expected) == (0, 1, 1, 3)
    assert not mixed.sample
    assert mixed.awaiting == 2
    assert mixed.models == [LLAMA]
    assert mixed.status == (
        "1 of 3 critics reported — 2 critics are awaiting a fresh review (sample reviews set aside)"
    )


def test_the_reported_failure_keeps_a_sample_review_out_of_a_model_panel() -> None:
    # The run: fresh model reviews, the futurist's call failed, its sample review
    # must not quietly complete the panel.
    attempts = [sample(c, "ship") for c in CRITICS]
    later = DAY + timedelta(days=3)
    attempts += [ok("builder", "ship", 70, later, LLAMA), ok("skeptic", "ship", 65, later, LLAMA)]
    attempts.append(failed("futurist", later))
    panel = read_panel(CRITICS, attempts)
    s = panel.summary
    assert (s.reported, s.expected, s.failed) == (2, 3, 1)
    assert panel.awaiting == 1 and not panel.sample and panel.earlier == []


def test_a_retired_critic_does_not_count_nor_make_the_panel_mixed() -> None:
    attempts = [
        sample("builder", "ship"),
        sample("skeptic", "skip"),
        ok("oracle", "ship", 99, DAY, LLAMA),
    ]
    panel = read_panel(["builder", "skeptic"], attempts)
    assert panel.retired == ("oracle",)
    assert panel.sample and panel.summary.tally == "1-1"
    everyone = read_panel(None, attempts)
    assert [s.critic_id for s in everyone.seats] == ["builder", "skeptic", "oracle"]
    assert everyone.summary.tally == "1-0"  # the model review sets the samples aside


def test_as_of_reads_the_panel_at_a_past_moment() -> None:
    later = DAY + timedelta(days=9)
    attempts = [
        ok("builder", "ship", 80, DAY),
        ok("skeptic", "ship", 70, DAY),
        ok("skeptic", "skip", 20, later, LLAMA),
        failed("builder", later),
    ]
    before = read_panel(CRITICS[:2], attempts, as_of=DAY + timedelta(days=1))
    assert before.summary.tally == "2-0" and before.earlier == []
    assert before.as_of == DAY + timedelta(days=1)
    now = read_panel(CRITICS[:2], attempts)
    assert now.summary.tally == "1-1" and [s.critic_id for s in now.earlier] == ["builder"]
    # Strictly before: a review written at the moment itself is not yet part of it.
    assert read_panel(CRITICS[:2], attempts, as_of=DAY).summary.reported == 0


def test_change_reasons() -> None:
    first = [ok("builder", "ship", 80, DAY, LLAMA)]
    after = read_panel(None, first)
    assert change_reason(None, after, first) == f"first review with {LLAMA}"
    again = ok("builder", "skip", 30, DAY + timedelta(days=1), "Llama 3.1 8B")
    rereview = read_panel(None, [*first, again])
    assert change_reason(after, rereview, [again]) == "re-review with Llama 3.1 8B"
    samples = [sample("builder", "ship")]
    assert change_reason(None, read_panel(None, samples), samples) == "sample content"
    fresh = ok("builder", "skip", 30, DAY + timedelta(days=1), LLAMA)
    assert change_reason(
        read_panel(None, samples), read_panel(None, [*samples, fresh]), [fresh]
    ) == (f"first model review with {LLAMA}; sample reviews set aside")
