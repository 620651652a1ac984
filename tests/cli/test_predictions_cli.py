"""`shiporskip predictions list` and `resolve`: the ledger from the command line, with one
clear line per mistake and nothing written by a refused command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from shiporskip.cli.main import main
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.schema import predictions
from tests.factories import make_tool, predicting

LONG_AGO = datetime(2024, 1, 15, tzinfo=UTC)


@pytest.fixture
def rt() -> Iterator[Runtime]:
    """The instance the CLI opens (same data dir): one due prediction, one open, one sample."""
    runtime = open_runtime(load_settings())
    runtime.catalog.add(make_tool("Alpha"))
    tool_id = runtime.catalog.tool_id("alpha")
    now = datetime.now(UTC)
    runtime.reviews.add_many(
        [
            (predicting("alpha", "skeptic", "Alpha folds.", 6, created_at=LONG_AGO), tool_id),
            (predicting("alpha", "futurist", "Alpha [bold]wins[/].", 12, created_at=now), tool_id),
            (
                # A sample claim counts from June 2025, when the sample was written.
                predicting("alpha", "buyer", "Alpha raises prices.", 120, is_sample=True),
                tool_id,
            ),
        ]
    )
    try:
        yield runtime
    finally:
        runtime.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def stored(runtime: Runtime) -> list[dict[str, object]]:
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.select(predictions).order_by(predictions.c.id))
        return [dict(r._mapping) for r in rows]


def test_list_shows_every_status(rt: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "predictions", "list")
    assert code == 0 and "3 predictions" in out
    assert "Alpha [bold]wins[/]." in out, "claims print as written, never as markup"
    assert "due" in out and "open (sample)" in out
    code, out, _ = run(capsys, "predictions", "list", "--due")
    assert code == 0 and "Alpha folds." in out and "wins" not in out
    data = json.loads(run(capsys, "predictions", "list", "--json")[1])
    assert data["count"] == 3
    first = data["predictions"][0]
    assert set(first) >= {"id", "tool", "critic", "claim", "made_at", "due", "status", "evidence"}
    assert (first["tool"], first["critic"], first["status"]) == ("alpha", "skeptic", "due")
    assert first["due"].startswith("2024-07-15") and first["evidence"] is None
    assert [p["sample"] for p in data["predictions"]] == [False, False, True]
    only = json.loads(run(capsys, "predictions", "list", "--critic", "futurist", "--json")[1])
    assert [p["critic"] for p in only["predictions"]] == ["futurist"] and only["count"] == 1


def test_resolve_records_the_outcome_once(rt: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "predictions", "resolve", "1", "--outcome", "wrong", "--evidence",
        "https://example.com/alpha-is-alive",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.strip() == "Prediction 1 (skeptic on alpha) resolved: wrong."
    row = stored(rt)[0]
    assert (row["outcome"], row["evidence"]) == ("wrong", "https://example.com/alpha-is-alive")
    code, out, _ = run(capsys, "predictions", "list", "--status", "wrong", "--json")
    assert json.loads(out)["predictions"][0]["evidence"] == "https://example.com/alpha-is-alive"

    # Not due yet: allowed, and said.
    code, out, _ = run(
        capsys, "predictions", "resolve", "2", "--outcome", "right", "--evidence",
        "https://example.com/alpha-won",
    )  # fmt: skip
    assert code == 0 and "It was not due yet; it is recorded as resolved early." in out

    before = stored(rt)
    code, out, err = run(
        capsys, "predictions", "resolve", "1", "--outcome", "right", "--evidence",
        "https://example.com/changed-my-mind",
    )  # fmt: skip
    assert code == 1 and out == ""
    assert err.strip().startswith("Error: prediction 1 was already resolved as wrong on ")
    assert stored(rt) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["resolve", "99", "--outcome", "right", "--evidence", "https://e.com"],
            "Error: no prediction 99; see `shiporskip predictions list`",
        ),
        (
            ["resolve", "1", "--outcome", "maybe", "--evidence", "https://e.com"],
            "Error: cannot resolve prediction 1: 'maybe' is not an outcome; use one of right, "
            "wrong, unclear",
        ),
        (
            ["resolve", "1", "--outcome", "right", "--evidence", "javascript:alert(1)"],
            "Error: cannot resolve prediction 1: 'javascript:alert(1)' is not a web address; "
            "write it as https://example.com/…",
        ),
        (
            ["resolve", "99999999999", "--outcome", "right", "--evidence", "https://e.com"],
            "Error: no prediction 99999999999; see `shiporskip predictions list`",
        ),
        (
            ["list", "--status", "pending"],
            "Error: --status: 'pending' is not a prediction status; use one of open, due, right, "
            "wrong, unclear",
        ),
        (
            ["list", "--due", "--status", "open"],
            "Error: --due and --status both choose a status; give one of them",
        ),
        (
            ["list", "--tool", "nope"],
            "Error: no tool has the slug 'nope'; see `shiporskip tools list`",
        ),
        (
            ["list", "--critic", "oracle"],
            "Error: no critic is called 'oracle'; the critics are builder, skeptic, futurist, "
            "buyer, operator, user, scientist",
        ),
        (["list", "--limit", "0"], "Error: --limit must be from 1 to 10000, not 0"),
    ],
)
def test_garbage_is_one_sentence_and_writes_nothing(
    rt: Runtime, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    before = stored(rt)
    code, out, err = run(capsys, "predictions", *args)
    assert (code, out) == (1, "")
    assert " ".join(err.split()) == message
    assert stored(rt) == before


def test_an_empty_ledger_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "predictions", "list")
    assert code == 0
    assert out.strip() == "The ledger is empty: no review has made a prediction yet."
    code, out, _ = run(capsys, "predictions", "list", "--due")
    assert out.strip() == "No prediction is due; 0 open, not due yet."
