"""Timestamps read back as aware UTC moments on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa

from shiporskip.runtime import Runtime
from shiporskip.storage.schema import metadata
from shiporskip.storage.types import UTCDateTime

PARIS = timezone(timedelta(hours=1))


def test_every_timestamp_column_is_utc_datetime() -> None:
    """A new table's `sa.DateTime` would read back naive on SQLite (and print without an
    offset in the API): every timestamp column uses `UTCDateTime`."""
    plain = [
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, sa.DateTime)
    ]
    assert not plain, f"use UTCDateTime for {plain}"
    assert any(isinstance(c.type, UTCDateTime) for t in metadata.tables.values() for c in t.c)


def test_a_moment_reads_back_aware_in_utc(runtime: Runtime) -> None:
    """Regression: SQLite handed back naive datetimes, so the API's timestamps lacked the
    offset that PostgreSQL's had."""
    table = sa.Table(
        "moments",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime()),
    )
    table.create(runtime.engine)
    written = datetime(2026, 12, 3, 21, 30, 15, 250, tzinfo=PARIS)
    with runtime.engine.begin() as conn:
        conn.execute(table.insert(), [{"id": 1, "at": written}, {"id": 2, "at": None}])
        read = conn.scalar(sa.select(table.c.at).where(table.c.id == 1))
        newest = conn.scalar(sa.select(sa.func.max(table.c.at)))
        # Compared in SQL with a moment given in another zone: the same instant.
        earlier = conn.scalar(sa.select(sa.func.count()).where(table.c.at < written))
        later = sa.select(sa.func.count()).where(table.c.at < written + timedelta(seconds=1))
        assert conn.scalar(later) == 1
    assert read == written and read.tzinfo == UTC
    assert read.isoformat() == "2026-12-03T20:30:15.000250+00:00"
    assert newest == written and newest.tzinfo == UTC
    assert earlier == 0


def test_a_naive_moment_is_taken_as_utc(runtime: Runtime) -> None:
    table = sa.Table("naive", sa.MetaData(), sa.Column("at", UTCDateTime()))
    table.create(runtime.engine)
    with runtime.engine.begin() as conn:
        conn.execute(table.insert(), {"at": datetime(2026, 12, 3, 20, 30)})
        assert conn.scalar(sa.select(table.c.at)) == datetime(2026, 12, 3, 20, 30, tzinfo=UTC)
