"""Allowances per client address, shared by every server process and node.

Some limits protect others rather than the server: mail asked for on someone's behalf
(sign-in links, newsletter confirmations) and guesses at the admin token. Kept in one
process's memory, `serve --workers 4` would allow four times as much, and each node of a
cluster its own share. Here each allowance is a counter row per (what, client, window) in
the database, raised by one conditional upsert, so two processes can never both take the
last unit. Windows are fixed (e.g. 10:00-10:10): a client gets at most the allowance in
each, and at most twice it across a window's edge.

Clients are stored as an HMAC of their address under the site's secret key, never as the
address; a window's rows are deleted when a later window of the same allowance begins.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from shiporskip.storage.schema import client_limits


@dataclass(slots=True)
class ClientAllowance:
    """`allowed` uses of `what` per client in each `window` seconds."""

    engine: Engine
    key: str  # the site's secret key: what the stored client hashes are keyed with
    what: str
    allowed: int
    window: int
    clock: Callable[[], float] = field(default=time.time)

    def _client(self, address: str) -> str:
        message = f"{self.what}\n{address}".encode()
        return hmac.new(self.key.encode(), message, hashlib.sha256).hexdigest()[:32]

    def _window(self) -> tuple[int, int]:
        """The current window's start, and the whole seconds until it ends (at least 1)."""
        now = self.clock()
        start = int(now // self.window) * self.window
        return start, max(1, math.ceil(start + self.window - now))

    def take(self, address: str) -> int:
        """Use one unit of `address`'s allowance: 0 when it had one, else the seconds until
        the next window (for Retry-After), and nothing is used."""
        start, wait = self._window()
        row = {"what": self.what, "client": self._client(address), "window_start": start}
        with self.engine.begin() as conn:
            taken = conn.execute(_take(conn, row, self.allowed)).first()
            if taken is None:
                return wait
            if taken.uses == 1:  # the first use in a new window: forget the old windows
                conn.execute(
                    sa.delete(client_limits).where(
                        client_limits.c.what == self.what,
                        client_limits.c.window_start < start,
                    )
                )
        return 0

    def used_up(self, address: str) -> int:
        """0 when `address` has some allowance left in this window, else the seconds until
        the next one. Uses nothing (`take` does)."""
        start, wait = self._window()
        with self.engine.connect() as conn:
            uses = conn.scalar(
                sa.select(client_limits.c.uses).where(
                    client_limits.c.what == self.what,
                    client_limits.c.client == self._client(address),
                    client_limits.c.window_start == start,
                )
            )
        return wait if uses is not None and uses >= self.allowed else 0


def _take(conn: Connection, row: dict[str, object], allowed: int) -> sa.Insert:
    """INSERT .. ON CONFLICT DO UPDATE .. WHERE uses < allowed RETURNING uses: one atomic
    statement on SQLite and PostgreSQL, returning no row when the allowance is used up."""
    keys = [client_limits.c.what, client_limits.c.client, client_limits.c.window_start]
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return (
        insert(client_limits)
        .values({**row, "uses": 1})
        .on_conflict_do_update(
            index_elements=keys,
            set_={"uses": client_limits.c.uses + 1},
            where=client_limits.c.uses < allowed,
        )
        .returning(client_limits.c.uses)
    )
