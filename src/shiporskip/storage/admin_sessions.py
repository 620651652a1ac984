"""Admin sessions in the database: shared by every server process, ended by signing out."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shiporskip.storage.schema import admin_sessions


def _hash(session_id: str) -> str:
    # Only the hash is stored, so reading the table does not hand out working sessions.
    return hashlib.sha256(session_id.encode()).hexdigest()


class AdminSessions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(self, session_id: str, seconds: int, now: datetime | None = None) -> None:
        """Record a new session valid for `seconds`; sessions already expired are deleted."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(sa.delete(admin_sessions).where(admin_sessions.c.expires_at <= now))
            conn.execute(
                sa.insert(admin_sessions).values(
                    id_hash=_hash(session_id),
                    created_at=now,
                    expires_at=now + timedelta(seconds=seconds),
                )
            )

    def is_open(self, session_id: str, now: datetime | None = None) -> bool:
        """True while the session exists and has not expired."""
        now = now or datetime.now(UTC)
        with self.engine.connect() as conn:
            found = conn.scalar(
                sa.select(sa.func.count())
                .select_from(admin_sessions)
                .where(
                    admin_sessions.c.id_hash == _hash(session_id),
                    admin_sessions.c.expires_at > now,
                )
            )
        return bool(found)

    def close(self, session_id: str) -> None:
        """End a session (idempotent)."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(admin_sessions).where(admin_sessions.c.id_hash == _hash(session_id))
            )
