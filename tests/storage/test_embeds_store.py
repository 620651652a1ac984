"""The embed counter, on SQLite and on PostgreSQL: upserts, windows, races, migration."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from shiporskip.runtime import Runtime
from shiporskip.storage import migrate
from shiporskip.storage.embeds import (
    EmbedKind,
    EmbedStore,
    click_kind,
    visitor_hash,
    window_start,
)
from shiporskip.storage.schema import embed_counts, embed_visits
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


def visits(store: EmbedStore) -> list[tuple[date, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(embed_visits.c.day, embed_visits.c.visitor))
        return sorted((row.day, row.visitor) for row in rows)


def test_a_visitor_counts_once_a_day(store: EmbedStore) -> None:
    reader = visitor_hash("key" * 8, DAY, "address 203.0.113.7 Firefox")
    other = visitor_hash("key" * 8, DAY, "address 203.0.113.8 Firefox")
    assert store.visit("alpha", EmbedKind.badge_load, reader, day=DAY) is True
    for _ in range(3):
        assert store.visit("alpha", EmbedKind.badge_load, reader, day=DAY) is False
    assert store.visit("alpha", EmbedKind.badge_load, other, day=DAY) is True
    # Each tool and kind counts the visitor on its own.
    assert store.visit("alpha", EmbedKind.badge_click, reader, day=DAY) is True
    assert store.visit("beta", EmbedKind.badge_load, reader, day=DAY) is True
    assert store.totals("alpha").by_kind == {EmbedKind.badge_load: 2, EmbedKind.badge_click: 1}
    assert store.visit("no-such-tool", EmbedKind.badge_load, reader, day=DAY) is False


def test_the_next_day_counts_again_and_clears_the_day_before(store: EmbedStore) -> None:
    key, later = "key" * 8, DAY + timedelta(days=1)
    for who in ("a", "b"):
        store.visit("alpha", EmbedKind.badge_load, visitor_hash(key, DAY, who), day=DAY)
    store.visit("beta", EmbedKind.badge_load, visitor_hash(key, DAY, "a"), day=DAY)
    tomorrow = visitor_hash(key, later, "a")
    assert tomorrow != visitor_hash(key, DAY, "a"), "a visitor's days are not linked"
    assert store.visit("alpha", EmbedKind.badge_load, tomorrow, day=later) is True
    assert [d.count for d in store.daily("alpha", since=DAY)] == [2, 1]
    # alpha's visitors of the day before are gone; beta's wait for beta's next count.
    assert visits(store) == sorted([(DAY, visitor_hash(key, DAY, "a")), (later, tomorrow)])


def test_one_visitor_racing_itself_counts_once(store: EmbedStore) -> None:
    reader = visitor_hash("key" * 8, DAY, "voter v_racing")

    def load(_: int) -> bool:
        return store.visit("alpha", EmbedKind.badge_load, reader, day=DAY)

    with ThreadPoolExecutor(8) as pool:
        counted = list(pool.map(load, range(40)))
    assert counted.count(True) == 1
    assert store.totals("alpha")[EmbedKind.badge_load] == 1


def test_visitor_hash_is_keyed_and_holds_no_address() -> None:
    one = visitor_hash("k" * 32, DAY, "address 203.0.113.7 Firefox")
    assert len(one) == 32 and int(one, 16) >= 0 and "203" not in one
    assert one != visitor_hash("j" * 32, DAY, "address 203.0.113.7 Firefox")
    assert one == visitor_hash("k" * 32, DAY, "address 203.0.113.7 Firefox")


def test_removing_a_tool_removes_its_visitors(runtime: Runtime, store: EmbedStore) -> None:
    store.visit("alpha", EmbedKind.badge_load, "0" * 32, day=DAY)
    runtime.catalog.remove("alpha")
    assert visits(store) == []


def test_downgrade_drops_the_visitors_table(runtime: Runtime) -> None:
    command.downgrade(migrate._config(runtime.engine), "0013")
    assert "embed_visits" not in sa.inspect(runtime.engine).get_table_names()
    migrate.upgrade(runtime.engine)
    inspector = sa.inspect(runtime.engine)
    assert inspector.get_pk_constraint("embed_visits")["constrained_columns"] == [
        "tool_id",
        "kind",
        "day",
        "visitor",
    ]


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
