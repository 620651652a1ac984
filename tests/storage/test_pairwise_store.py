"""The pairwise-picks store on SQLite and PostgreSQL: attempts, the current picks, the measure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from shiporskip.domain.pairwise import PickRecord
from shiporskip.runtime import Runtime
from shiporskip.storage.schema import pairwise_picks
from tests.factories import make_tool

WHEN = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


def pick_record(
    a: str, b: str, critic: str, first: Any, swapped: Any, status: str = "ok", **fields: Any
) -> PickRecord:
    """A stored pick as `Pairwise.compare` writes it (a and b in slug order)."""
    values: dict[str, Any] = {
        "provider": "openai",
        "model": "openai:gpt-4o-mini@https://api.openai.com/v1",
        "prompt_version": "p1",
        "input_hash": f"{a}:{b}:{critic}:{first}:{swapped}",
        "params": {"temperature": 0.4},
        "first_reason": "fits the job" if first else None,
        "swapped_reason": "fits the job" if swapped else None,
        "first_raw": '{"pick": "A"}',
        "swapped_raw": '{"pick": "B"}',
        "error": None if status == "ok" else "first order: scripted 503",
        "input_tokens": 800,
        "output_tokens": 40,
        "latency_ms": 900,
        "attempts": 2,
        "created_at": WHEN,
    }
    values.update(fields)
    return PickRecord(a, b, critic, status, first, swapped, **values)


def add_picks(runtime: Runtime, *records: PickRecord) -> None:
    for r in records:
        runtime.pairwise.add(
            r, runtime.catalog.tool_id(r.a_slug), runtime.catalog.tool_id(r.b_slug)
        )


def test_picks_are_stored_with_their_audit_and_read_in_either_order(runtime: Runtime) -> None:
    for name in ("Alpha", "Beta"):
        runtime.catalog.add(make_tool(name))
    add_picks(
        runtime,
        pick_record("alpha", "beta", "builder", "b", "b"),
        pick_record("alpha", "beta", "skeptic", "a", "b"),
        pick_record("alpha", "beta", "futurist", None, None, status="failed"),
    )
    current = runtime.pairwise.current("beta", "alpha")
    assert set(current) == {"builder", "skeptic", "futurist"}
    builder = current["builder"]
    assert builder.public() == {
        "critic": "builder",
        "first": "beta",
        "swapped": "beta",
        "kept": "beta",
    }
    assert current["skeptic"].public()["kept"] is None
    assert current["futurist"].public() == {
        "critic": "futurist",
        "first": None,
        "swapped": None,
        "kept": None,
    }
    audit = builder.audit()
    assert audit["created_at"] == WHEN.isoformat() and audit["input_tokens"] == 800
    assert audit["model"].startswith("openai:gpt-4o-mini@") and audit["first_raw"]
    tool_a, tool_b = runtime.catalog.tool_id("alpha"), runtime.catalog.tool_id("beta")
    assert runtime.pairwise.has_ok(tool_a, tool_b, "builder", builder.input_hash)
    assert not runtime.pairwise.has_ok(tool_a, tool_b, "futurist", "alpha:beta:futurist:None:None")


def test_a_later_complete_pick_replaces_a_failure_and_a_later_failure_does_not_hide_it(
    runtime: Runtime,
) -> None:
    for name in ("Alpha", "Beta"):
        runtime.catalog.add(make_tool(name))
    add_picks(
        runtime,
        pick_record("alpha", "beta", "builder", None, None, status="failed"),
        pick_record("alpha", "beta", "builder", "a", "a"),
        pick_record("alpha", "beta", "builder", "b", None, status="failed"),
    )
    assert runtime.pairwise.current("alpha", "beta")["builder"].public()["kept"] == "alpha"
    assert len(runtime.pairwise.history("alpha", "beta")) == 3


def test_a_pair_stored_the_other_way_round_is_read_in_slug_order(runtime: Runtime) -> None:
    """After a rename the stored a/b may no longer be in slug order; answers flip with it."""
    for name in ("Alpha", "Beta"):
        runtime.catalog.add(make_tool(name))
    record = pick_record("beta", "alpha", "builder", "a", "b", first_reason="one")
    runtime.pairwise.add(record, runtime.catalog.tool_id("beta"), runtime.catalog.tool_id("alpha"))
    read = runtime.pairwise.current("alpha", "beta")["builder"]
    assert (read.a_slug, read.b_slug, read.first, read.swapped) == ("alpha", "beta", "a", "b")
    assert read.swapped_reason == "one"
    assert read.public() == {"critic": "builder", "first": "alpha", "swapped": "beta", "kept": None}


def test_swap_consistency_is_one_aggregate_over_every_comparison(runtime: Runtime) -> None:
    assert runtime.pairwise.swap_consistency().answered == 0
    for name in ("Alpha", "Beta", "Gamma"):
        runtime.catalog.add(make_tool(name))
    add_picks(
        runtime,
        pick_record("alpha", "beta", "builder", "a", "a"),
        pick_record("alpha", "beta", "skeptic", "a", "b"),
        pick_record("alpha", "beta", "user", "neither", "neither"),
        pick_record("alpha", "gamma", "builder", "b", "b"),
        pick_record("alpha", "gamma", "skeptic", None, None, status="failed"),
    )
    measured = runtime.pairwise.swap_consistency()
    assert (measured.agreed, measured.answered, measured.pairs) == (3, 4, 2)


def test_deleting_a_tool_deletes_its_picks(runtime: Runtime) -> None:
    for name in ("Alpha", "Beta"):
        runtime.catalog.add(make_tool(name))
    add_picks(runtime, pick_record("alpha", "beta", "builder", "a", "a"))
    runtime.catalog.remove("beta")
    with runtime.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(pairwise_picks)) == 0
