"""The embed counter, on SQLite and on PostgreSQL: upserts, windows, races, migration."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command

from shiporskip.runtime import Runtime
from shiporskip.storage import migrate
from shiporskip.storage.embeds import EmbedKind, EmbedStore, click_kind, window_start
from shiporskip.storage.schema import embed_counts
from tests.factories import make_tool

DAY = date(2025, 6, 1)


@pytest.fixture
def store(runtime: Runtime) -> EmbedStore:
    runtime.catalog.add(make_tool("Alpha"))
    runtime.catalog.add(make_tool("Beta"))
    return EmbedStore(runtime.engine)


def test_migration_from_empty_creates_the_table_as_described(runtime: Runtime) -> None:
    inspector = sa.inspect(runtime.engine)
    stored = {c["name"] for c in inspector.get_columns("embed_counts")}
    assert stored == {c.name for c in embed_counts.columns}
    assert inspector.get_pk_constraint("embed_counts")["constrained_columns"] == [
        "tool_id",
        "kind",
        "day",
    ]


def test_downgrade_drops_the_table_and_upgrade_restores_it(runtime: Runtime) -> None:
    config = migrate._config(runtime.engine)
    command.downgrade(config, "0002")
    assert "embed_counts" not in sa.inspect(runtime.engine).get_table_names()
    migrate.upgrade(runtime.engine)
    assert "embed_counts" in sa.inspect(runtime.engine).get_table_names()
    assert migrate.is_current(runtime.engine)


def test_record_increments_one_row_per_tool_kind_and_day(store: EmbedStore) -> None:
    for _ in range(3):
        assert store.record("alpha", EmbedKind.badge_load, day=DAY)
    store.record("alpha", EmbedKind.badge_load, day=date(2025, 6, 2), n=5)
    store.record("alpha", EmbedKind.embed_click, day=DAY)
    store.record("beta", EmbedKind.badge_load, day=DAY)
    totals = store.totals("alpha")
    assert totals[EmbedKind.badge_load] == 8
    assert totals[EmbedKind.embed_click] == 1 == totals.clicks
    assert totals[EmbedKind.embed_load] == 0
    with store.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(embed_counts)) == 4


def test_unknown_tool_counts_nothing(store: EmbedStore) -> None:
    assert store.record("no-such-tool", EmbedKind.badge_load) is False
    with store.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(embed_counts)) == 0
    assert store.totals("no-such-tool").by_kind == {}


def test_window_and_daily_series(store: EmbedStore) -> None:
    today = date(2025, 6, 30)
    start = window_start(30, today)
    assert start == date(2025, 6, 1)
    store.record("alpha", EmbedKind.embed_load, day=date(2025, 5, 31), n=10)
    store.record("alpha", EmbedKind.embed_load, day=start, n=2)
    store.record("alpha", EmbedKind.badge_click, day=today)
    assert store.totals("alpha")[EmbedKind.embed_load] == 12
    assert store.totals("alpha", since=start)[EmbedKind.embed_load] == 2
    daily = store.daily("alpha", since=start)
    assert [(d.day, d.kind, d.count) for d in daily] == [
        (start, EmbedKind.embed_load, 2),
        (today, EmbedKind.badge_click, 1),
    ]


def test_concurrent_increments_lose_nothing(store: EmbedStore) -> None:
    workers, each = 8, 25

    def hammer(_: int) -> None:
        for _ in range(each):
            store.record("alpha", EmbedKind.badge_load, day=DAY)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(hammer, range(workers)))
    assert store.totals("alpha")[EmbedKind.badge_load] == workers * each


def test_removing_a_tool_removes_its_counts(runtime: Runtime, store: EmbedStore) -> None:
    store.record("alpha", EmbedKind.badge_load, day=DAY)
    runtime.catalog.remove("alpha")
    with runtime.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(embed_counts)) == 0


def test_database_refuses_negative_counts(runtime: Runtime, store: EmbedStore) -> None:
    tool_id = runtime.catalog.tool_id("alpha")
    row = {"tool_id": tool_id, "kind": "badge_load", "day": DAY, "hits": -1}
    with pytest.raises(sa.exc.IntegrityError), runtime.engine.begin() as conn:
        conn.execute(sa.insert(embed_counts).values(row))


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        ("badge", EmbedKind.badge_click),
        ("embed", EmbedKind.embed_click),
        (None, None),
        ("", None),
        ("BADGE", None),
        ("badge_load", None),
        ("'; DROP TABLE tools; --", None),
        ("x" * 5000, None),
    ],
)
def test_click_kind_accepts_only_known_refs(ref: str | None, kind: EmbedKind | None) -> None:
    assert click_kind(ref) is kind
