"""Admin sessions in the database: open until signed out or expired; expired rows go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from shiporskip.runtime import Runtime
from shiporskip.storage.admin_sessions import AdminSessions
from shiporskip.storage.schema import admin_sessions

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_open_until_closed_or_expired(runtime: Runtime) -> None:
    store = AdminSessions(runtime.engine)
    store.open("a_one", 3600, NOW)
    assert store.is_open("a_one", NOW + timedelta(minutes=59))
    assert not store.is_open("a_one", NOW + timedelta(hours=1))
    assert not store.is_open("a_other", NOW)
    store.close("a_one")
    store.close("a_one")  # signing out twice is harmless
    assert not store.is_open("a_one", NOW)


def test_only_a_hash_is_kept_and_expired_sessions_are_deleted(runtime: Runtime) -> None:
    store = AdminSessions(runtime.engine)
    store.open("a_old", 60, NOW)
    store.open("a_new", 3600, NOW + timedelta(minutes=5))
    with runtime.engine.connect() as conn:
        kept = list(conn.scalars(sa.select(admin_sessions.c.id_hash)))
    assert len(kept) == 1 and "a_new" not in kept[0]
    assert store.is_open("a_new", NOW + timedelta(minutes=6))
