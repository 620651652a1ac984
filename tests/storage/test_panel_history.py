"""One panel read model behind the stored summary and the verdict history, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from shiporskip.domain.panel import read_panel
from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.storage import migrate
from shiporskip.storage.history import tool_history, verdict_flips
from shiporskip.storage.reviews import panels
from shiporskip.storage.schema import panel_history, tool_panels, tools
from tests.factories import review_record

LLAMA = "openai-compatible:Llama 3.1 8B@http://10.0.0.5:8000/v1"
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _stored(runtime: Runtime) -> dict[str, dict[str, Any]]:
    query = sa.select(tool_panels, tools.c.slug).join(tools, tools.c.id == tool_panels.c.tool_id)
    with runtime.engine.connect() as conn:
        return {r.slug: dict(r._mapping) for r in conn.execute(query)}


def assert_summary_is_the_read_model(runtime: Runtime) -> None:
    """Every `tool_panels` row equals the read model over the tool's attempts."""
    stored = _stored(runtime)
    computed = panels(runtime.engine)
    assert set(stored) == set(computed)
    for slug, panel in computed.items():
        read = read_panel(None, panel.attempts)
        s = read.summary
        row = stored[slug]
        got = (row["ships"], row["skips"], row["reported"], row["failed"], row["is_sample"])
        assert got == (s.ships, s.skips, s.reported, s.failed, read.sample), slug
        assert row["mean_score"] == pytest.approx(s.mean_score), slug
        assert row["ship_pct"] == pytest.approx(s.ship_pct), slug
        assert row["reviewed_at"] == read.reviewed_at, slug


def _add(runtime: Runtime, slug: str, critic: str, verdict: str | None, when: datetime) -> None:
    record = review_record(
        slug,
        critic,
        verdict,
        30 if verdict == "skip" else 75,
        status="ok" if verdict else "failed",
        provider="openai-compatible",
        model=LLAMA,
        input_hash=f"{slug}:{critic}:{when.isoformat()}",
        created_at=when,
    )
    runtime.reviews.add(record, runtime.catalog.tool_id(slug))


def test_summary_equals_the_read_model_after_mixed_writes(runtime: Runtime) -> None:
    load_samples_if_empty(runtime)
    assert_summary_is_the_read_model(runtime)
    slugs = [t.slug for t in runtime.catalog.list() if t.sample]
    critics = [c.id for c in runtime.critics()]
    for i, slug in enumerate(slugs):
        when = DAY + timedelta(minutes=i)
        if i % 3 == 0:  # a fresh model review among sample ones
            _add(runtime, slug, critics[0], "skip", when)
        if i % 3 == 1:  # a fresh review, then its re-review fails
            _add(runtime, slug, critics[1], "ship", when)
            _add(runtime, slug, critics[1], None, when + timedelta(hours=1))
        if i % 4 == 0:  # a failure of a critic with only a sample review
            _add(runtime, slug, critics[2], None, when)
    # More sample content, written in one batch like `sample load`.
    runtime.reviews.add_many(
        (
            review_record(s, critics[3], "ship", 66, provider="sample", is_sample=True),
            runtime.catalog.tool_id(s),
        )
        for s in slugs[:3]
    )
    assert_summary_is_the_read_model(runtime)
    mixed = _stored(runtime)[slugs[0]]
    assert (mixed["reported"], mixed["is_sample"]) == (1, False)  # samples set aside
    earlier = runtime.reviews.panel(slugs[1], critics)
    assert len(earlier.read.earlier) == 1
    assert earlier.read.status.startswith("1 of 7 critics reported — 1 from an earlier run")
    assert "Llama 3.1 8B (local)" in earlier.read.status
    assert "10.0.0.5" not in earlier.read.status


def test_history_keeps_each_change_of_the_panel(runtime: Runtime) -> None:
    load_samples_if_empty(runtime)
    slug = "cursor"
    first = tool_history(runtime.engine, slug)
    assert [(p.reason, p.sample) for p in first] == [("sample content", True)]
    critics = [c.id for c in runtime.critics()]
    # A whole panel of model reviews, one critic at a time: ships then skips.
    for i, critic in enumerate(critics):
        _add(runtime, slug, critic, "ship" if i < 4 else "skip", DAY + timedelta(minutes=i))
    after_run = tool_history(runtime.engine, slug)
    assert after_run[-1].summary.tally == "4-3"
    assert (
        after_run[1].reason
        == "first model review with Llama 3.1 8B (local); sample reviews set aside"
    )
    assert after_run[-1].reason == "review with Llama 3.1 8B (local)"
    # A failed re-review changes nothing: the earlier review still counts, no row is added.
    _add(runtime, slug, critics[0], None, DAY + timedelta(days=1))
    assert len(tool_history(runtime.engine, slug)) == len(after_run)
    # A re-review that flips the verdict.
    flip_day = DAY + timedelta(days=2)
    _add(runtime, slug, critics[1], "skip", flip_day)
    history = tool_history(runtime.engine, slug)
    assert len(history) == len(after_run) + 1
    last = history[-1]
    assert (last.summary.tally, last.at, last.reason) == (
        "3-4",
        flip_day,
        "re-review with Llama 3.1 8B (local)",
    )
    assert last.models == ("Llama 3.1 8B (local)",)
    flips = verdict_flips(runtime.engine, 10)
    assert flips[0].slug == slug
    assert (flips[0].before.summary.tally, flips[0].after.summary.tally) == ("4-3", "3-4")


def test_history_is_written_in_the_review_transaction(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_samples_if_empty(runtime)
    reviews_before = runtime.reviews.count()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("history write failed")

    monkeypatch.setattr("shiporskip.storage.reviews.record_changes", broken)
    with pytest.raises(RuntimeError):
        _add(runtime, "cursor", "builder", "skip", DAY)
    # Nothing half-written: no review without its history row.
    assert runtime.reviews.count() == reviews_before


def test_migration_back_fills_one_row_per_reviewed_tool(runtime: Runtime) -> None:
    load_samples_if_empty(runtime)
    _add(runtime, "aider", "builder", "skip", DAY)
    reviewed = {s for s, row in _stored(runtime).items() if row["reported"]}
    command.downgrade(migrate._config(runtime.engine), "0015")
    assert "panel_history" not in sa.inspect(runtime.engine).get_table_names()
    migrate.upgrade(runtime.engine)
    query = sa.select(tools.c.slug, panel_history).join(
        tools, tools.c.id == panel_history.c.tool_id
    )
    with runtime.engine.connect() as conn:
        rows = list(conn.execute(query))
    assert sorted(r.slug for r in rows) == sorted(reviewed)
    by_slug = {r.slug: r for r in rows}
    assert by_slug["aider"].reason == "before history was kept"
    assert by_slug["aider"].at == DAY
    assert by_slug["cursor"].reason == "sample content"
