"""Vote rate limits through the real server with several workers: a burst of concurrent
votes from one voter, or from one address, gets exactly the limit accepted, never one more.

On PostgreSQL the burst is lined up by a gate: the test inserts the voters' rows in a
transaction it keeps open, so every worker's vote waits on those rows; once each worker
holds a waiting vote, the test commits and the votes go on at the same moment. Without the
gate most votes reach the database one after another (one worker tends to accept every new
connection) and a check-then-insert race hides. SQLite has no such gate: the burst runs
free there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.schema import vote_events, voters, votes
from tests.conftest import postgres_schema_url
from tests.factories import make_tool
from tests.live import LiveServer, assert_whole

WORKERS = 3
LIMIT = 2  # below WORKERS: the lined-up votes alone are more than the limit
BURST = 12
SLUGS = [make_tool(f"Tool {n}").slug for n in range(BURST)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, isolated_env: Path) -> Iterator[str]:
    """A database with one tool per vote of the burst, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{isolated_env / 'votes.db'}"])
    else:
        urls = postgres_schema_url()
    for url in urls:
        runtime = open_runtime(load_settings(overrides={"database_url": url}))
        for n in range(BURST):
            runtime.catalog.add(make_tool(f"Tool {n}"))
        runtime.close()
        yield url


class Gate:
    """Holds the voters' rows uncommitted (PostgreSQL), so votes by them wait."""

    def __init__(self, url: str, voter_ids: list[str]) -> None:
        self.engine = sa.create_engine(url)
        self.conn = self.engine.connect()
        self.conn.begin()
        now = datetime.now(UTC)
        self.conn.execute(sa.insert(voters), [{"id": v, "created_at": now} for v in voter_ids])
        self.pid = self.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()

    def waiting(self) -> int:
        with self.engine.connect() as other:
            found = other.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :gate = ANY(pg_blocking_pids(pid))"
                ),
                {"gate": self.pid},
            ).scalar()
        return int(found or 0)

    async def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 60
        while self.waiting() < count:
            assert time.monotonic() < deadline, f"{count} votes never reached the database"
            await asyncio.sleep(0.02)

    def open(self) -> None:
        self.conn.commit()
        self.conn.close()
        self.engine.dispose()


@dataclass
class Voter:
    cookies: httpx.Cookies
    token: str
    id: str


async def _session(base: str) -> Voter:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        response = await client.get("/api/v1/session")
        assert response.status_code == 200
        body = response.json()
        return Voter(client.cookies, str(body["csrf_token"]), str(body["voter"]))


async def _vote(base: str, voter: Voter, slug: str) -> int:
    # A client (a connection) per vote: a worker waiting on the gate accepts no new
    # connection, so the next vote is accepted by another worker.
    async with httpx.AsyncClient(base_url=base, timeout=120, cookies=voter.cookies) as client:
        response = await client.post(
            f"/api/v1/tools/{slug}/vote",
            json={"vote": "ship"},
            headers={"X-CSRF-Token": voter.token},
        )
    assert_whole(response)
    if response.status_code == 429:
        assert response.headers["retry-after"] == "60"
    return response.status_code


async def _burst(base: str, url: str, plan: list[tuple[Voter, str]]) -> list[int]:
    gate = Gate(url, sorted({v.id for v, _ in plan})) if url.startswith("postgresql") else None
    try:
        tasks = []
        for n, (voter, slug) in enumerate(plan):
            tasks.append(asyncio.create_task(_vote(base, voter, slug)))
            if gate is not None and n < WORKERS:
                await gate.wait_for(n + 1)
    finally:
        if gate is not None:
            gate.open()
    return list(await asyncio.gather(*tasks))


async def _one_voter(base: str, url: str) -> list[int]:
    """One voter votes on BURST different tools at once."""
    voter = await _session(base)
    return await _burst(base, url, [(voter, slug) for slug in SLUGS])


async def _one_address(base: str, url: str) -> list[int]:
    """BURST voters from one address vote on the same tool at once."""
    crowd = [await _session(base) for _ in range(BURST)]
    return await _burst(base, url, [(voter, SLUGS[0]) for voter in crowd])


def _stored(url: str) -> tuple[int, int]:
    """Accepted vote events and standing votes in the database."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            accepted = conn.scalar(
                sa.select(sa.func.count())
                .select_from(vote_events)
                .where(vote_events.c.accepted.is_(True))
            )
            standing = conn.scalar(sa.select(sa.func.count()).select_from(votes))
        return int(accepted or 0), int(standing or 0)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("limited", "burst"),
    [("vote_rate_voter", _one_voter), ("vote_rate_ip", _one_address)],
    ids=["per-voter", "per-address"],
)
def test_a_concurrent_burst_gets_exactly_the_limit(
    database: str, isolated_env: Path, limited: str, burst: object
) -> None:
    settings = {
        "database_url": database,
        "load_sample": "no",
        "vote_rate_voter": "1000",
        "vote_rate_ip": "1000",
        limited: str(LIMIT),
    }
    assert callable(burst)
    with LiveServer(isolated_env, settings, args=("--workers", str(WORKERS))) as server:
        statuses = asyncio.run(burst(server.base_url, database))
    assert sorted(set(statuses)) == [200, 429], statuses
    assert statuses.count(200) == LIMIT, f"{statuses.count(200)} accepted for a limit of {LIMIT}"
    assert _stored(database) == (LIMIT, LIMIT), "what is stored is what was accepted"
