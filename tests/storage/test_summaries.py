"""The catalog summaries (migration 0020) stay equal to the rows they sum, through every
kind of write, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from shiporskip.domain.panel import read_panel
from shiporskip.domain.reviews import ReviewRecord
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage import migrate
from shiporskip.storage.reviews import attempts_by_tool
from shiporskip.storage.schema import (
    critic_totals,
    model_tools,
    model_usage,
    panel_counts,
    reviews,
    tool_counts,
    tool_panels,
    tools,
)
from tests.conftest import postgres_schema_url
from tests.factories import make_tool, review_record

FREE = {"entry": "free"}


def _record(
    slug: str, critic: str, verdict: str | None, *, model: str = "gpt-4o-mini"
) -> ReviewRecord:
    return review_record(
        slug,
        critic,
        verdict,
        60,
        status="ok" if verdict is not None else "failed",
        provider="openai",
        model=model,
        input_tokens=100,
        output_tokens=10,
        cost_usd=0.5,
    )


def _stored(conn: Any, table: sa.Table, keys: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    out = {}
    for row in conn.execute(sa.select(table)):
        values = tuple(row[keys:])
        if any(values):
            out[tuple(row[:keys])] = tuple(
                round(v, 6) if isinstance(v, float) else v for v in values
            )
    return out


def _verdict(ship_pct: float | None) -> str:
    if ship_pct is None:
        return "none"
    return "ship" if ship_pct > 50 else "skip" if ship_pct < 50 else "split"


def _expected(conn: Any) -> dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]:
    """Every summary computed again from the rows themselves."""
    counts: dict[tuple[Any, ...], list[Any]] = {}
    for r in conn.execute(sa.select(tools.c.category, tools.c.entry, tools.c.is_sample)):
        counts.setdefault((r.category, r.entry, bool(r.is_sample)), [0])[0] += 1
    verdicts: dict[tuple[Any, ...], list[Any]] = {}
    for r in conn.execute(sa.select(tool_panels.c.category, tool_panels.c.ship_pct)):
        verdicts.setdefault((r.category, _verdict(r.ship_pct)), [0])[0] += 1
    categories = dict(conn.execute(sa.select(tools.c.id, tools.c.category)).all())
    critics: dict[tuple[Any, ...], list[Any]] = {}
    for tool_id, attempts in attempts_by_tool(conn).items():
        panel = read_panel(None, attempts)
        verdict = panel.summary.verdict
        for a in panel.counted:
            assert verdict is not None and a.verdict is not None
            row = critics.setdefault((a.critic_id, categories[tool_id]), [0, 0, 0, 0, 0])
            split = verdict.value == "split"
            for i, n in enumerate(
                (1, a.verdict.value == "ship", a.verdict.value == verdict.value, not split, split)
            ):
                row[i] += int(n)
    usage: dict[tuple[Any, ...], list[Any]] = {}
    seen: dict[tuple[Any, ...], set[int]] = {}
    for r in conn.execute(sa.select(reviews)):
        row = usage.setdefault((r.provider, r.model, r.critic_id, r.status == "ok"), [0, 0, 0, 0.0])
        row[0] += 1
        row[1] += r.input_tokens or 0
        row[2] += r.output_tokens or 0
        row[3] = round(row[3] + (r.cost_usd or 0.0), 6)
        seen.setdefault((r.provider, r.model), set()).add(r.tool_id)
    return {
        "tool_counts": {k: tuple(v) for k, v in counts.items()},
        "panel_counts": {k: tuple(v) for k, v in verdicts.items()},
        "critic_totals": {k: tuple(v) for k, v in critics.items()},
        "model_usage": {k: tuple(v) for k, v in usage.items()},
        "model_tools": {k: (len(v),) for k, v in seen.items()},
    }


def assert_in_step(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        stored = {
            "tool_counts": _stored(conn, tool_counts, 3),
            "panel_counts": _stored(conn, panel_counts, 2),
            "critic_totals": _stored(conn, critic_totals, 2),
            "model_usage": _stored(conn, model_usage, 4),
            "model_tools": _stored(conn, model_tools, 2),
        }
        stored["tool_counts"] = {
            (c, e, bool(s)): v for (c, e, s), v in stored["tool_counts"].items()
        }
        stored["model_usage"] = {
            (p, m, c, bool(o)): v for (p, m, c, o), v in stored["model_usage"].items()
        }
        assert stored == _expected(conn)


def test_summaries_follow_every_write(runtime: Runtime) -> None:
    ids = {}
    for name, category, pricing in (
        ("Alpha", "models", FREE),
        ("Beta", "models", None),
        ("Gamma", "image", FREE),
        ("Delta", "image", None),
    ):
        extra = {"pricing": pricing} if pricing else {}
        tool = runtime.catalog.add(make_tool(name, category=category, **extra))
        ids[tool.slug] = runtime.catalog.tool_id(tool.slug)
    assert_in_step(runtime)
    # A panel of three, a split of two with a failure, a re-review that flips a verdict.
    for critic, verdict in (("builder", "ship"), ("buyer", "ship"), ("skeptic", "skip")):
        runtime.reviews.add(_record("alpha", critic, verdict), ids["alpha"])
    runtime.reviews.add_many(
        [
            (_record("beta", "builder", "ship", model="gpt-4o"), ids["beta"]),
            (_record("beta", "skeptic", "skip", model="gpt-4o"), ids["beta"]),
            (_record("beta", "buyer", None, model="gpt-4o"), ids["beta"]),
            (_record("gamma", "builder", "skip"), ids["gamma"]),
        ]
    )
    assert_in_step(runtime)
    runtime.reviews.add(_record("alpha", "buyer", "skip"), ids["alpha"])
    runtime.reviews.add(_record("gamma", "builder", "ship", model="gpt-4o"), ids["gamma"])
    assert_in_step(runtime)
    with runtime.engine.connect() as conn:
        assert (
            conn.scalar(
                sa.select(critic_totals.c.splits)
                .where(critic_totals.c.critic_id == "builder")
                .where(critic_totals.c.category == "models")
            )
            == 1
        )
    # An edit that moves a reviewed tool to another category and tier takes its counts along.
    runtime.catalog.replace("alpha", make_tool("Alpha", slug="alpha", category="image"))
    assert_in_step(runtime)
    # A removed tool takes its reviews, panel and seats out of every summary.
    runtime.catalog.remove("beta")
    runtime.catalog.remove("gamma")
    assert_in_step(runtime)


def test_the_migration_back_fills_the_summaries(runtime: Runtime) -> None:
    for name in ("Alpha", "Beta"):
        tool = runtime.catalog.add(make_tool(name, category="models"))
        tool_id = runtime.catalog.tool_id(tool.slug)
        runtime.reviews.add(_record(tool.slug, "builder", "ship"), tool_id)
        runtime.reviews.add(_record(tool.slug, "skeptic", "skip"), tool_id)
    with runtime.engine.connect() as conn:
        before = _stored(conn, critic_totals, 2)
    command.downgrade(migrate._config(runtime.engine), "0019")
    assert "critic_totals" not in sa.inspect(runtime.engine).get_table_names()
    migrate.upgrade(runtime.engine)
    with runtime.engine.connect() as conn:
        assert _stored(conn, critic_totals, 2) == before
    assert_in_step(runtime)
    runtime.reviews.add(_record("alpha", "buyer", "ship"), runtime.catalog.tool_id("alpha"))
    assert_in_step(runtime)


def test_summary_writers_in_another_schema_never_wait(isolated_env: Path) -> None:
    """PostgreSQL: the counters' advisory lock is per schema, so a long write to one
    catalog (a bulk import) holds up no catalog in another schema of the database."""
    first, second = postgres_schema_url(), postgres_schema_url()
    runtimes = [
        open_runtime(load_settings(overrides={"database_url": next(urls)}))
        for urls in (first, second)
    ]
    try:
        busy, other = runtimes
        with busy.engine.begin() as held:
            busy.catalog.insert(held, make_tool("Held"))  # the lock is now taken
            with other.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
                other.catalog.insert(conn, make_tool("Free"))
        assert busy.catalog.count() == other.catalog.count() == 1
    finally:
        for rt in runtimes:
            rt.close()
        first.close()
        second.close()
