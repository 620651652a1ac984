"""Per-client allowances in the database (`storage/client_limits.py`), on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from shiporskip.runtime import Runtime
from shiporskip.storage.client_limits import ClientAllowance
from shiporskip.storage.schema import client_limits

KEY = "a-test-secret-key-0123456789"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def allowance(
    runtime: Runtime, clock: Clock, what: str = "mail", allowed: int = 3
) -> ClientAllowance:
    return ClientAllowance(runtime.engine, KEY, what, allowed, 600, clock=clock)


def test_an_allowance_runs_out_and_comes_back_with_the_next_window(runtime: Runtime) -> None:
    clock = Clock(6000.0 + 540)  # 60 s before the window [6000, 6600) ends
    mail = allowance(runtime, clock)
    assert [mail.take("192.0.2.1") for _ in range(5)] == [0, 0, 0, 60, 60]
    assert mail.used_up("192.0.2.1") == 60
    assert mail.take("192.0.2.2") == 0, "another client has its own allowance"
    assert allowance(runtime, clock, what="admin-guess").take("192.0.2.1") == 0, "and each kind"
    clock.now = 6600.0
    assert mail.used_up("192.0.2.1") == 0
    assert mail.take("192.0.2.1") == 0


def test_a_refused_take_uses_nothing_and_used_up_never_uses(runtime: Runtime) -> None:
    clock = Clock(1200.0)
    guesses = allowance(runtime, clock, what="admin-guess", allowed=2)
    for _ in range(4):
        assert guesses.used_up("192.0.2.9") == 0
    guesses.take("192.0.2.9")
    assert guesses.used_up("192.0.2.9") == 0
    guesses.take("192.0.2.9")
    assert guesses.used_up("192.0.2.9") == 600
    with runtime.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.max(client_limits.c.uses))) == 2


def test_no_address_is_stored_and_old_windows_are_forgotten(runtime: Runtime) -> None:
    clock = Clock(0.0)
    mail = allowance(runtime, clock)
    mail.take("203.0.113.7")
    clock.now = 600.0 * 5
    mail.take("203.0.113.8")  # the first use of a new window clears the earlier ones
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.select(client_limits)).all()
    assert [row.window_start for row in rows] == [3000]
    assert all("203.0.113" not in row.client for row in rows)


def test_concurrent_takes_never_exceed_the_allowance(runtime: Runtime) -> None:
    """Twelve takes at once from many threads (as from many server processes): exactly
    the allowance is granted."""
    mail = allowance(runtime, Clock(100.0), allowed=4)
    with ThreadPoolExecutor(max_workers=12) as pool:
        waits = list(pool.map(lambda _: mail.take("198.51.100.1"), range(12)))
    assert waits.count(0) == 4 and len(waits) == 12
    with runtime.engine.connect() as conn:
        assert conn.scalar(sa.select(client_limits.c.uses)) == 4
