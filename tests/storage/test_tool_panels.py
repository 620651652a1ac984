"""The materialised panel summaries (`tool_panels`), on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from shiporskip.domain.reviews import ReviewRecord
from shiporskip.runtime import Runtime
from shiporskip.storage import migrate
from shiporskip.storage.peers import similar_peers
from shiporskip.storage.queries import (
    category_ranking,
    category_totals,
    search_candidates,
)
from shiporskip.storage.reviews import panels
from shiporskip.storage.schema import tool_panels, tools
from tests.factories import make_tool, review_record

CRITICS = ["builder", "buyer", "skeptic"]


def _record(slug: str, critic: str, verdict: str | None, score: int = 60) -> ReviewRecord:
    return review_record(
        slug,
        critic,
        verdict,
        score,
        status="ok" if verdict is not None else "failed",
        provider="openai",
        model="gpt-4o-mini",
    )


def _stored(runtime: Runtime) -> dict[str, dict[str, Any]]:
    query = sa.select(tool_panels, tools.c.slug).join(tools, tools.c.id == tool_panels.c.tool_id)
    with runtime.engine.connect() as conn:
        return {r.slug: dict(r._mapping) for r in conn.execute(query)}


def _assert_in_step(runtime: Runtime) -> None:
    """Every stored row equals the summary computed from the reviews themselves."""
    stored = _stored(runtime)
    computed = panels(runtime.engine)
    assert set(stored) == set(computed)
    for slug, panel in computed.items():
        ids = sorted(set(panel.votes) | panel.failed)
        summary = panel.summary(ids)
        row = stored[slug]
        assert (row["ships"], row["skips"], row["reported"], row["failed"]) == (
            summary.ships,
            summary.skips,
            summary.reported,
            summary.failed,
        ), slug
        assert row["mean_score"] == pytest.approx(summary.mean_score), slug
        assert row["ship_pct"] == pytest.approx(summary.ship_pct), slug
        assert (row["reviewed_at"] is None) == (panel.reviewed_at is None), slug
        assert row["is_sample"] == panel.sample, slug


def _tools(runtime: Runtime, *names: str) -> dict[str, int]:
    for name in names:
        runtime.catalog.add(make_tool(name, category="models"))
    return {t.slug: runtime.catalog.tool_id(t.slug) for t in runtime.catalog.list()}


def test_summary_follows_adds_rereviews_and_failures(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha", "Beta", "Gamma")
    store = runtime.reviews
    store.add(_record("alpha", "builder", "ship", 80), ids["alpha"])
    _assert_in_step(runtime)
    store.add_many(
        [
            (_record("alpha", "buyer", "skip", 30), ids["alpha"]),
            (_record("alpha", "skeptic", None), ids["alpha"]),
            (_record("beta", "builder", None), ids["beta"]),
            (_record("beta", "buyer", "ship", 70), ids["beta"]),
        ]
    )
    _assert_in_step(runtime)
    # A re-review replaces the critic's verdict; a later failure does not undo a success.
    store.add(_record("alpha", "buyer", "ship", 65), ids["alpha"])
    store.add(_record("alpha", "builder", None), ids["alpha"])
    store.add(_record("beta", "builder", "skip", 20), ids["beta"])
    _assert_in_step(runtime)
    row = _stored(runtime)["alpha"]
    assert (row["ships"], row["skips"], row["failed"]) == (2, 0, 1)
    assert row["mean_score"] == pytest.approx((80 + 65) / 2)
    assert "gamma" not in _stored(runtime)


def test_copied_name_and_category_follow_edits(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha", "Beta")
    runtime.reviews.add(_record("alpha", "builder", "ship"), ids["alpha"])
    runtime.catalog.replace("alpha", make_tool("Alpha Prime", slug="alpha", category="voice"))
    row = _stored(runtime)["alpha"]
    assert (row["name"], row["sort_name"], row["category"]) == (
        "Alpha Prime",
        "alpha prime",
        "voice",
    )
    runtime.catalog.remove("alpha")
    assert _stored(runtime) == {}


def test_rankings_read_the_summaries(runtime: Runtime) -> None:
    ids = _tools(runtime, "Delta", "alpha", "Charlie", "Bravo", "Echo")
    add = runtime.reviews.add
    add(_record("delta", "builder", "ship", 90), ids["delta"])
    add(_record("charlie", "builder", "ship", 70), ids["charlie"])
    add(_record("charlie", "buyer", "skip", 40), ids["charlie"])
    add(_record("bravo", "builder", "skip", 10), ids["bravo"])
    add(_record("echo", "builder", None), ids["echo"])
    # Ship % first, then mean score, then name; unreviewed (and failed-only) tools last.
    assert category_ranking(runtime.engine, "models", 10) == [
        "delta",
        "charlie",
        "bravo",
        "alpha",
        "echo",
    ]
    assert category_ranking(runtime.engine, "models", 2, 2) == ["bravo", "alpha"]
    assert category_ranking(runtime.engine, "models", 2, 4) == ["echo"]
    # The tool page's order: ship % above zero first, everything else by name.
    assert [p.slug for p in similar_peers(runtime.engine, "models", "delta", 10)] == [
        "charlie",
        "alpha",
        "bravo",
        "echo",
    ]
    totals = category_totals(runtime.engine)["models"]
    assert (totals.tools, totals.reviewed, totals.shipped) == (5, 3, 1)


def test_migration_back_fills_existing_reviews(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha", "Beta")
    runtime.reviews.add(_record("alpha", "builder", "ship", 80), ids["alpha"])
    runtime.reviews.add(_record("alpha", "buyer", "skip", 20), ids["alpha"])
    runtime.reviews.add(_record("beta", "buyer", None), ids["beta"])
    before = _stored(runtime)
    command.downgrade(migrate._config(runtime.engine), "0007")
    assert "tool_panels" not in sa.inspect(runtime.engine).get_table_names()
    migrate.upgrade(runtime.engine)
    assert _stored(runtime) == before
    _assert_in_step(runtime)
    # The trigger is back too: an edit still reaches the copied name.
    runtime.catalog.replace("beta", make_tool("Beta Two", slug="beta", category="models"))
    assert _stored(runtime)["beta"]["name"] == "Beta Two"


def test_search_indexes_follow_the_catalog(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("GPT-4o Mini", aliases=["Omni Small"], vendor="OpenAI"))
    runtime.catalog.add(make_tool("Claude 100% Sonnet", vendor="Anthropic"))

    def found(text: str, key: str = "") -> list[str]:
        return [h.slug for h in search_candidates(runtime.engine, text, key)]

    assert found("4o mi") == ["gpt-4o-mini"]
    assert found("OMNI SM") == ["gpt-4o-mini"]
    assert found("anthrop") == ["claude-100-sonnet"]
    assert found("gpt4omini", key="gpt4omini") == ["gpt-4o-mini"]
    assert found("0% S") == ["claude-100-sonnet"]
    assert found("0_ S") == []
    runtime.catalog.replace("gpt-4o-mini", make_tool("Orbit", slug="gpt-4o-mini"))
    assert found("4o mi") == []
    assert found("orbit") == ["gpt-4o-mini"]
    runtime.catalog.remove("gpt-4o-mini")
    assert found("orbit") == []
