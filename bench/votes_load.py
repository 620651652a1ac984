"""Vote load: many concurrent voters, changing and withdrawing votes, against a real server
with several worker processes, on SQLite and on PostgreSQL.

After the run the stored counts must equal the accepted votes replayed from the client log,
with zero 5xx. Throughput is reported as a ratio to the same server's /healthz throughput,
measured in the same run with the same concurrency.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from shiporskip.domain.tools import Tool
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.votes import VoteStore

TOOLS = ["bench-a", "bench-b", "bench-c", "bench-d"]
POSTGRES = os.environ.get(
    "SHIPORSKIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tool(slug: str) -> Tool:
    return Tool.model_validate(
        {
            "slug": slug,
            "name": slug.replace("-", " ").title(),
            "vendor": "Bench",
            "homepage": f"https://bench.example/{slug}",
            "category": "developer-tools",
            "tagline": "A tool to vote on",
            "pricing": {"entry": "free"},
        }
    )


async def _voter(base: str, n_votes: int, rng: random.Random, log: list[tuple[Any, ...]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        token = (await client.get("/api/v1/session")).json()["csrf_token"]
        voter = client.cookies.get("sos_voter")
        for _ in range(n_votes):
            slug = rng.choice(TOOLS)
            value = rng.choice(["ship", "ship", "skip", None])
            r = await client.post(
                f"/api/v1/tools/{slug}/vote", json={"vote": value}, headers={"X-CSRF-Token": token}
            )
            log.append((voter, slug, value, r.status_code))


async def _votes(base: str, voters: int, per_voter: int) -> tuple[list[tuple[Any, ...]], float]:
    log: list[tuple[Any, ...]] = []
    rng = random.Random(7)
    started = time.perf_counter()
    await asyncio.gather(
        *(_voter(base, per_voter, random.Random(rng.random()), log) for _ in range(voters))
    )
    return log, time.perf_counter() - started


async def _trivial(base: str, concurrency: int, total: int) -> float:
    async def worker(count: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for _ in range(count):
                r = await client.get("/healthz")
                assert r.status_code == 200

    started = time.perf_counter()
    await asyncio.gather(*(worker(total // concurrency) for _ in range(concurrency)))
    return (total // concurrency * concurrency) / (time.perf_counter() - started)


def _expected(log: list[tuple[Any, ...]]) -> dict[str, tuple[int, int]]:
    final: dict[tuple[str, str], str | None] = {}
    for voter, slug, value, status in log:
        if status == 200:
            final[(voter, slug)] = value
    out = {slug: (0, 0) for slug in TOOLS}
    for (_voter_id, slug), value in final.items():
        ships, skips = out[slug]
        if value == "ship":
            ships += 1
        elif value == "skip":
            skips += 1
        out[slug] = (ships, skips)
    return out


def run_one(
    database: str, workers: int = 3, voters: int = 60, per_voter: int = 15
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        url = f"sqlite:///{Path(tmp) / 'votes.db'}"
        admin = None
        if database == "postgresql":
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = sa.create_engine(POSTGRES)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        try:
            settings = load_settings(env={}, overrides={"data_dir": tmp, "database_url": url})
            rt = open_runtime(settings)
            for slug in TOOLS:
                rt.catalog.add(_tool(slug))
            port = _port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
            env.update(
                SHIPORSKIP_DATA_DIR=tmp,
                SHIPORSKIP_DATABASE_URL=url,
                SHIPORSKIP_LOAD_SAMPLE="false",
                SHIPORSKIP_VOTE_RATE_IP="1000000",
                SHIPORSKIP_VOTE_RATE_VOTER="1000000",
                SHIPORSKIP_LOG_LEVEL="warning",
            )
            script = Path(sys.executable).with_name("shiporskip")
            server = subprocess.Popen(
                [str(script), "serve", "--port", str(port), "--workers", str(workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError("server did not start")
                    time.sleep(0.2)
                trivial_rps = asyncio.run(_trivial(base, voters, voters * per_voter))
                log, seconds = asyncio.run(_votes(base, voters, per_voter))
            finally:
                server.terminate()
                server.wait(timeout=30)
            statuses: dict[int, int] = {}
            for *_, status in log:
                statuses[status] = statuses.get(status, 0) + 1
            expected = _expected(log)
            stored = VoteStore(rt.engine).communities(1, TOOLS)
            actual = {
                s: (stored[s].ships, stored[s].skips) if s in stored else (0, 0) for s in TOOLS
            }
            rt.close()
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    vote_rps = len(log) / seconds
    return {
        "database": database,
        "workers": workers,
        "voters": voters,
        "requests": len(log),
        "statuses": statuses,
        "server_errors": sum(n for s, n in statuses.items() if s >= 500),
        "counts_match": expected == actual,
        "expected": expected,
        "stored": actual,
        "vote_rps": vote_rps,
        "trivial_rps": trivial_rps,
        "ratio": vote_rps / trivial_rps,
    }


def run() -> list[dict[str, Any]]:
    return [run_one("sqlite"), run_one("postgresql")]


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, default=str))
