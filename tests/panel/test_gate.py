"""The quality gate inside the panel run: one repair request, then a failed attempt, never ok."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shiporskip.domain.quality import MIN_BODY_WORDS
from shiporskip.llm.base import CompletionRequest
from shiporskip.llm.labels import failure_reason
from shiporskip.panel.critics import Critic
from shiporskip.panel.run import PanelEvent
from shiporskip.runtime import Runtime
from tests.factories import make_tool
from tests.panel.test_run import make_panel, run
from tests.support import BODY, ScriptedProvider, always, critic_of, review_json

TAGLINE = "Alpha does one thing well"  # tests.factories' tagline for "Alpha"


@pytest.fixture
def critics(sqlite_runtime: Runtime) -> list[Critic]:
    sqlite_runtime.catalog.add(make_tool("Alpha"))
    return sqlite_runtime.critics()


def fence_marker(request: CompletionRequest) -> str:
    """The closing fence of the tagline, as the prompt this request carries spells it."""
    user = request.messages[0].content
    start = user.index("⟦/maker-text")
    return user[start : user.index("⟧", start) + 1] + " field=tagline"


def junk(request: CompletionRequest) -> str:
    """What SmolLM2-135M-Instruct answered for the "Ship 7-0" panel, one shape per critic."""
    critic = critic_of(request)
    shapes: dict[str, dict[str, Any]] = {
        "builder": {"body": fence_marker(request), "one_liner": TAGLINE},
        "skeptic": {"body": fence_marker(request), "one_liner": "Alpha"},
        "futurist": {"body": "Alpha is a good tool.", "one_liner": TAGLINE},
        "buyer": {"body": " ".join(["pricing"] * 69), "one_liner": f"Alpha: {TAGLINE}"},
        "operator": {"score": 5},
        "user": {"one_liner": " ".join(BODY.split()[:10])},
        "scientist": {"competitors": ["Alpha", "Rival", "rival"]},
    }
    return review_json("ship", shapes[critic].pop("score", 80), **shapes[critic])


def test_a_gate_failure_gets_one_repair_request_that_names_it(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    answers = [review_json("ship", 80, body="Great tool, ship it."), review_json("ship", 80)]
    provider = ScriptedProvider(lambda _r, n: answers[n - 1])
    events: list[PanelEvent] = []
    panel = make_panel(sqlite_runtime, provider, critics[:1])
    result = run(panel, critics[:1], on_event=events.append)
    record = result.records["builder"]
    assert record.ok and record.error is None and record.attempts == 2
    assert [e.state for e in events] == ["queued", "running", "repairing", "done"]
    repair = provider.calls[1]
    assert [m.role for m in repair.messages] == ["user", "assistant", "user"]
    assert (
        "could not be used: it did not pass the quality gate (body-length: the body has 4 "
        f"words, below the minimum of {MIN_BODY_WORDS})" in repair.messages[-1].content
    )
    assert "Great tool, ship it." in repair.messages[1].content


def test_a_gate_failure_after_the_repair_is_stored_as_failed_with_the_reasons(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    first = review_json("ship", 5)
    second = review_json("skip", 80, one_liner=TAGLINE)
    provider = ScriptedProvider(lambda _r, n: [first, second][n - 1])
    result = run(make_panel(sqlite_runtime, provider, critics[:1]), critics[:1])
    record = result.records["builder"]
    assert record.status == "failed" and not record.ok and record.draft is None
    assert record.error == (
        "quality gate: one-liner: the one-liner's 5 words are copied from the maker's tagline; "
        "verdict-score: the verdict is skip but the score is 80, and skip needs a score "
        "below 50"
    )
    assert failure_reason(record.error) == "did not pass the quality check"
    assert record.raw_output == f"{first}\n--- repair ---\n{second}", "both answers are kept"
    assert len(provider.calls) == 2 and record.attempts == 2
    assert result.summary.status == "0 of 1 critics reported (1 failed)"
    (stored,) = sqlite_runtime.reviews.history("alpha")
    assert stored.status == "failed" and stored.error == record.error
    assert stored.raw_output == record.raw_output


def test_a_gate_failure_then_unreadable_output_is_stored_as_unreadable(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    answers = [review_json("ship", 5), "no JSON this time"]
    provider = ScriptedProvider(lambda _r, n: answers[n - 1])
    record = run(make_panel(sqlite_runtime, provider, critics[:1]), critics[:1]).records["builder"]
    assert record.status == "failed"
    assert record.error == (
        "invalid output, also after one repair attempt: the answer is not a JSON object"
    )


def test_the_junk_ship_7_0_panel_publishes_nothing(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    provider = ScriptedProvider(lambda request, _n: junk(request))
    result = run(make_panel(sqlite_runtime, provider, critics), critics)
    assert result.summary.status == "0 of 7 critics reported (7 failed)"
    assert result.summary.verdict is None and result.summary.tally == "0-0"
    assert len(provider.calls) == 14, "one repair request per critic, no more"
    errors = {c: r.error or "" for c, r in result.records.items()}
    assert all(not r.ok for r in result.records.values())
    assert "fence-marker" in errors["builder"] and "body-length" in errors["builder"]
    assert "one-liner" in errors["skeptic"]
    assert "body-length: the body has 5 words" in errors["futurist"]
    assert "one-liner: the one-liner's 6 words are copied" in errors["buyer"]
    assert "verdict-score: the verdict is ship but the score is 5" in errors["operator"]
    assert "one-liner" in errors["user"]
    assert "competitor 1 is the tool itself" in errors["scientist"]
    assert "competitors 2 and 3 name the same product" in errors["scientist"]
    assert sqlite_runtime.reviews.count() == 7
    assert all(r.status == "failed" for r in sqlite_runtime.reviews.history("alpha"))


def test_junk_from_some_critics_leaves_an_honest_incomplete_panel(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    def script(request: CompletionRequest, _n: int) -> str:
        if critic_of(request) in ("operator", "user"):
            return junk(request)
        return review_json("skip" if critic_of(request) == "skeptic" else "ship")

    result = run(make_panel(sqlite_runtime, ScriptedProvider(script), critics), critics)
    assert result.summary.status == "5 of 7 critics reported (2 failed)"
    assert result.summary.tally == "4-1"
    assert sorted(result.failed) == ["operator", "user"]
    assert all(record.ok for record in result.current.values())


def test_a_passing_answer_is_sent_once_and_keeps_its_soft_notes(
    sqlite_runtime: Runtime, critics: list[Critic]
) -> None:
    # 60 words: above the gate's minimum, below the 80 the prompt asks for: a note, not a failure.
    body = " ".join(f"point{i}" for i in range(60))
    provider = ScriptedProvider(always(review_json("ship", 70, body=body)))
    record = run(make_panel(sqlite_runtime, provider, critics[:1]), critics[:1]).records["builder"]
    assert record.ok and len(provider.calls) == 1
    assert record.notes == ("body has 60 words; the panel asks for 80-180",)
    assert json.loads(record.raw_output or "")["body"] == body
