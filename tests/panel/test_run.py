"""The panel run, with a scripted in-process provider: the orchestration logic itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from shiporskip.llm.base import CompletionRequest, PermanentError, Provider, TransientError
from shiporskip.llm.registry import ModelSpec
from shiporskip.llm.resilient import Resilient, RetryPolicy
from shiporskip.panel.critics import Critic
from shiporskip.panel.run import CriticJob, Panel, PanelEvent, PanelRun
from shiporskip.runtime import Runtime
from tests.factories import make_tool
from tests.support import ScriptedProvider, always, critic_of, review_json

SPEC = ModelSpec("openai", "gpt-4o-mini", "https://api.openai.com/v1")


async def no_sleep(_seconds: float) -> None:
    return None


def make_panel(
    runtime: Runtime,
    provider: Provider,
    critics: Sequence[Critic],
    *,
    retries: int = 2,
    concurrency: int = 7,
    whole_panel: Sequence[Critic] | None = None,
) -> Panel:
    semaphore = asyncio.Semaphore(concurrency)
    caller = Resilient(provider, RetryPolicy(timeout=5, retries=retries), semaphore, sleep=no_sleep)
    return Panel(
        catalog=runtime.catalog,
        reviews=runtime.reviews,
        jobs={c.id: CriticJob(caller, SPEC) for c in critics},
        prices={"gpt-4o-mini": (0.15, 0.6)},
        clock=lambda: datetime(2026, 11, 22, tzinfo=UTC),
        whole_panel=whole_panel,
    )


def run(panel: Panel, critics: Sequence[Critic], **kw: object) -> PanelRun:
    return asyncio.run(panel.review("alpha", critics, **kw))  # type: ignore[arg-type]


@pytest.fixture
def critics(sqlite_runtime: Runtime) -> list[Critic]:
    sqlite_runtime.catalog.add(make_tool("Alpha"))
    return sqlite_runtime.critics()


def test_full_panel_runs_concurrently_and_stores_an_auditable_review_each(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    def script(request: CompletionRequest, _n: int) -> str:
        verdict = "skip" if critic_of(request) in ("skeptic", "buyer") else "ship"
        return review_json(verdict, 30 if verdict == "skip" else 75)

    provider = ScriptedProvider(script, delay=0.05)
    result = run(make_panel(sqlite_runtime, provider, critics), critics)
    summary = result.summary
    assert (summary.verdict.value if summary.verdict else None) == "ship"
    assert summary.tally == "5-2" and summary.complete
    assert summary.status == "7 of 7 critics reported"
    assert round(summary.ship_pct or 0) == 71
    assert provider.max_in_flight == 7, "all critics of a panel run at once"
    record = result.current["builder"]
    assert record.provider == "openai" and record.model == SPEC.label
    assert len(record.prompt_version) == 12 and len(record.input_hash) == 64
    assert record.input_tokens == 1000 and record.output_tokens == 200
    assert record.cost_usd == pytest.approx(1000 * 0.15 / 1e6 + 200 * 0.6 / 1e6)
    assert record.latency_ms is not None and record.latency_ms >= 40
    assert record.raw_output and json.loads(record.raw_output)["verdict"] == "ship"
    assert record.params["temperature"] == 0.4
    assert sqlite_runtime.reviews.count() == 7


def test_concurrency_bound_is_respected(sqlite_runtime: Runtime, critics: list[Critic]) -> None:
    provider = ScriptedProvider(always(review_json()), delay=0.05)
    run(make_panel(sqlite_runtime, provider, critics, concurrency=3), critics)
    assert provider.max_in_flight == 3


def test_one_failed_critic_leaves_an_incomplete_panel_and_rerun_fills_only_the_gap(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    broken = {"futurist"}

    def script(request: CompletionRequest, _n: int) -> str | Exception:
        if critic_of(request) in broken:
            return TransientError("scripted 503")
        return review_json()

    provider = ScriptedProvider(script)
    panel = make_panel(sqlite_runtime, provider, critics)
    first = run(panel, critics)
    assert first.summary.status == "6 of 7 critics reported (1 failed)"
    assert not first.summary.complete
    failed = first.failed["futurist"]
    assert failed.status == "failed" and failed.attempts == 3
    assert "failed after 3 attempts: scripted 503" in (failed.error or "")

    broken.clear()
    calls_before = len(provider.calls)
    second = run(panel, critics)
    assert sorted(second.records) == ["futurist"], "only the missing critic runs again"
    assert sorted(second.cached) == sorted(c.id for c in critics if c.id != "futurist")
    assert len(provider.calls) == calls_before + 1
    assert second.summary.complete and second.summary.status == "7 of 7 critics reported"

    third = run(panel, critics, rerun=True)
    assert len(third.records) == 7 and not third.cached
    history = sqlite_runtime.reviews.history("alpha")
    assert len(history) == 7 + 1 + 7, "reviews are appended, the history is kept"


def test_changed_tool_facts_are_reviewed_again(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    provider = ScriptedProvider(always(review_json()))
    panel = make_panel(sqlite_runtime, provider, critics[:2])
    run(panel, critics[:2])
    tool = sqlite_runtime.catalog.get("alpha")
    sqlite_runtime.catalog.replace("alpha", tool.model_copy(update={"tagline": "Now with more"}))
    again = run(panel, critics[:2])
    assert len(again.records) == 2 and not again.cached


def test_invalid_output_gets_one_repair_then_succeeds(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    answers = ["Sure! Here is my review: verdict ship, score 80", review_json("ship", 80)]
    provider = ScriptedProvider(lambda _r, n: answers[min(n, 2) - 1])
    result = run(make_panel(sqlite_runtime, provider, critics[:1]), critics[:1])
    record = result.records["builder"]
    assert record.ok and record.draft is not None and record.draft.score == 80
    repair = provider.calls[1]
    assert [m.role for m in repair.messages] == ["user", "assistant", "user"]
    assert "could not be used: the answer is not a JSON object" in repair.messages[-1].content
    assert "--- repair ---" in (record.raw_output or "")
    assert record.input_tokens == 2000, "tokens of both calls are counted"


def test_invalid_output_twice_is_stored_as_failed_with_the_raw_text(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    bad = json.dumps({"verdict": "maybe", "score": 140})
    provider = ScriptedProvider(always(bad))
    result = run(make_panel(sqlite_runtime, provider, critics[:1]), critics[:1])
    record = result.records["builder"]
    assert record.status == "failed" and record.draft is None
    assert "also after one repair attempt" in (record.error or "")
    assert "verdict" in (record.error or "") and "score" in (record.error or "")
    assert record.raw_output and record.raw_output.count('"maybe"') == 2
    assert len(provider.calls) == 2
    stored = sqlite_runtime.reviews.history("alpha")[0]
    assert stored.status == "failed" and stored.raw_output == record.raw_output


def test_permanent_errors_are_not_retried(sqlite_runtime: Runtime, critics: list[Critic]) -> None:
    provider = ScriptedProvider(always("x"))
    provider.script = lambda _r, _n: PermanentError("the API key was rejected")
    result = run(make_panel(sqlite_runtime, provider, critics[:2]), critics[:2])
    assert len(provider.calls) == 2
    assert all(r.error == "the API key was rejected" for r in result.records.values())


def test_events_report_progress_per_critic(sqlite_runtime: Runtime, critics: list[Critic]) -> None:
    events: list[PanelEvent] = []
    provider = ScriptedProvider(always(review_json()))
    panel = make_panel(sqlite_runtime, provider, critics[:2])
    asyncio.run(panel.review("alpha", critics[:2], on_event=events.append))
    states = [(e.critic_id, e.state) for e in events]
    for critic in ("builder", "skeptic"):
        assert [s for c, s in states if c == critic] == ["queued", "running", "done"]


def test_rerunning_one_critic_reports_the_whole_panel(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    broken = {"futurist"}

    def script(request: CompletionRequest, _n: int) -> str | Exception:
        if critic_of(request) in broken:
            return PermanentError("scripted 400")
        return review_json("skip" if critic_of(request) == "skeptic" else "ship")

    panel = make_panel(sqlite_runtime, ScriptedProvider(script), critics, whole_panel=critics)
    assert run(panel, critics).summary.status == "6 of 7 critics reported (1 failed)"
    one = [c for c in critics if c.id == "skeptic"]
    again = run(panel, one, rerun=True)
    assert sorted(again.records) == ["skeptic"], "only the critic asked runs"
    assert again.summary.status == "6 of 7 critics reported (1 failed)"
    assert again.summary.tally == "5-1" and not again.summary.complete
    assert [c.id for c in again.critics] == [c.id for c in critics]
    assert set(again.current) == {c.id for c in critics} - broken
    assert set(again.failed) == broken


def test_a_panel_run_adds_one_history_row_not_one_per_critic(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    """Seven critics write seven reviews, one at a time; the history gets the run's change
    (nothing -> Ship 5-2), not 1-0, 2-0, ... on the way. A re-run that flips the verdict
    adds one more row."""
    from shiporskip.storage.history import tool_history

    def script(verdicts: dict[str, str]):  # type: ignore[no-untyped-def]
        def answer(request: CompletionRequest, _n: int) -> str:
            verdict = verdicts.get(critic_of(request), "ship")
            return review_json(verdict, 30 if verdict == "skip" else 75)

        return answer

    first = ScriptedProvider(script({"skeptic": "skip", "buyer": "skip"}), delay=0.01)
    run(make_panel(sqlite_runtime, first, critics), critics)
    history = tool_history(sqlite_runtime.engine, "alpha")
    assert [(h.ships, h.skips) for h in history] == [(5, 2)]

    flipped = {c.id: "skip" for c in critics if c.id != "builder"}
    run(make_panel(sqlite_runtime, ScriptedProvider(script(flipped)), critics), critics, rerun=True)
    history = tool_history(sqlite_runtime.engine, "alpha")
    assert [(h.ships, h.skips) for h in history] == [(5, 2), (1, 6)]
    assert "re-review" in history[-1].reason
