"""Badge counting through the real server with two workers: a visitor counts once a day per
tool and kind, however many times it loads the badge, and no address is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from shiporskip.storage.schema import embed_counts, embed_visits
from tests.conftest import postgres_schema_url
from tests.live import LiveServer, assert_whole

BADGE = "/badge/cursor.svg"
LOADS = 300


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, isolated_env: Path) -> Iterator[str]:
    if request.param == "sqlite":
        isolated_env.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{isolated_env / 'embeds.db'}"
    else:
        yield from postgres_schema_url()


async def _loads(base: str, n: int, headers: dict[str, str]) -> None:
    """`n` loads of the badge by one client, twenty at a time."""
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as client:

        async def some(count: int) -> None:
            for _ in range(count):
                response = await client.get(BADGE)
                assert response.status_code == 200
                assert_whole(response)

        await asyncio.gather(*(some(n // 20) for _ in range(20)))


def _badge_loads(server: LiveServer) -> tuple[int, int]:
    """Badge loads of all time and of today, as the counts API reports them."""
    response = httpx.get(server.url("/api/v1/tools/cursor/embeds"), timeout=30)
    assert response.status_code == 200
    assert_whole(response)
    body = response.json()
    today = [d["badge_loads"] for d in body["days"] if d["day"] == body["window_end"]]
    return body["total"]["badge_loads"], sum(today)


def _as_if_a_day_passed(url: str) -> None:
    """Move every stored count and visitor one day back: tomorrow, without a clock."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for table in (embed_visits, embed_counts):
                rows = conn.execute(sa.select(table)).mappings().all()
                conn.execute(sa.delete(table))
                if rows:
                    moved = [{**row, "day": row["day"] - timedelta(days=1)} for row in rows]
                    conn.execute(sa.insert(table), moved)
    finally:
        engine.dispose()


def _visitors(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.select(embed_visits))]
    finally:
        engine.dispose()


def test_a_visitor_counts_once_a_day(database: str, isolated_env: Path) -> None:
    reader = {"user-agent": "Mozilla/5.0 (reader A)"}
    settings = {"database_url": database}
    with LiveServer(isolated_env, settings, args=("--workers", "2")) as server:
        asyncio.run(_loads(server.base_url, LOADS, reader))
        assert _badge_loads(server) == (1, 1), f"{LOADS} loads by one client count once"

        asyncio.run(_loads(server.base_url, 20, {"user-agent": "Mozilla/5.0 (reader B)"}))
        assert _badge_loads(server) == (2, 2), "a second client on the same address counts"

        # A visitor with the site's cookie counts by it, whatever its user agent says.
        with httpx.Client(base_url=server.base_url, headers=reader, timeout=30) as member:
            assert member.get("/api/v1/session").status_code == 200
            for agent in ("reader A", "reader C", "reader D"):
                assert member.get(BADGE, headers={"user-agent": agent}).status_code == 200
        assert _badge_loads(server) == (3, 3)

        stored = _visitors(database)
        assert len(stored) == 3
        assert not any("127.0.0.1" in str(value) for row in stored for value in row)

        _as_if_a_day_passed(database)
        asyncio.run(_loads(server.base_url, 20, reader))
        assert _badge_loads(server) == (4, 1), "the next day the same client counts again"
        today = datetime.now(UTC).date()
        assert [row[2] for row in _visitors(database)] == [today], "yesterday's are deleted"
