"""Page cache under a mixed load: many readers and voters over the whole sample catalog.

`shiporskip serve --workers 2` with the sample content; concurrent clients each make a run of
requests, nine in ten reading a tool or compare page of a random tool, one in ten voting on a
random tool through the JSON API. A vote on a tool makes stale only the pages that show it
(its tool page, its compare pages, its category's tool pages), in both server processes, so
most reads stay answered from memory. Every read's `X-Page-Cache` header says whether the
process's memory answered it; the hit rate is counted over the measured reads, after every
page was visited once. Afterwards the stored counts must equal the accepted votes replayed
from the client's log. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.votes_load import POSTGRES, _port
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.votes import VoteStore

CLIENTS = 24
PER_CLIENT = 100
WARMING_CLIENTS = 8
# Votes per request in each measured load; the target is judged at one vote per fifty.
VOTE_SHARES = (0.01, 0.02, 0.1)
JUDGED_SHARE = 0.02
TARGET = 0.9


def _pages(slugs: list[str]) -> list[str]:
    pairs = [sorted((a, b)) for a, b in zip(slugs, slugs[1:] + slugs[:1], strict=True)]
    return [f"/tools/{s}" for s in slugs] + [f"/compare/{a}-vs-{b}" for a, b in pairs]


async def _client(
    base: str,
    pages: list[str],
    slugs: list[str],
    share: float,
    rng: random.Random,
    log: dict[str, Any],
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        token = (await client.get("/api/v1/session")).json()["csrf_token"]
        voter = client.cookies.get("sos_voter")
        for _ in range(PER_CLIENT):
            if rng.random() < share:
                slug = rng.choice(slugs)
                value = rng.choice(["ship", "skip", None])
                r = await client.post(
                    f"/api/v1/tools/{slug}/vote",
                    json={"vote": value},
                    headers={"X-CSRF-Token": token},
                )
                log["votes"].append((voter, slug, value, r.status_code))
            else:
                r = await client.get(rng.choice(pages))
                log["reads"][(r.status_code, r.headers.get("x-page-cache"))] += 1


async def _warm(base: str, pages: list[str]) -> None:
    """Every page once in every server process, most likely: several connections (each
    keeps to one process) visit every page."""

    async def visit() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for path in pages:
                assert (await client.get(path)).status_code == 200, path

    await asyncio.gather(*(visit() for _ in range(WARMING_CLIENTS)))


async def _load(base: str, slugs: list[str], share: float, seed: int) -> dict[str, Any]:
    pages = _pages(slugs)
    await _warm(base, pages)
    log: dict[str, Any] = {"votes": [], "reads": Counter()}
    rng = random.Random(seed)
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _client(base, pages, slugs, share, random.Random(rng.random()), log)
            for _ in range(CLIENTS)
        )
    )
    log["seconds"] = time.perf_counter() - started
    return log


def _replayed(log: list[tuple[Any, ...]], slugs: list[str]) -> dict[str, tuple[int, int]]:
    final: dict[tuple[str, str], str | None] = {}
    for voter, slug, value, status in log:
        if status == 200:
            final[(voter, slug)] = value
    out = dict.fromkeys(slugs, (0, 0))
    for (_, slug), value in final.items():
        ships, skips = out[slug]
        out[slug] = (ships + (value == "ship"), skips + (value == "skip"))
    return out


@contextlib.contextmanager
def _database(database: str, tmp: str) -> Iterator[str]:
    if database == "sqlite":
        yield f"sqlite:///{Path(tmp) / 'mix.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def _server(tmp: str, url: str) -> Iterator[str]:
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
    env.update(
        SHIPORSKIP_DATA_DIR=tmp,
        SHIPORSKIP_DATABASE_URL=url,
        SHIPORSKIP_VOTE_RATE_IP="1000000",
        SHIPORSKIP_VOTE_RATE_VOTER="1000000",
        SHIPORSKIP_LOG_LEVEL="warning",
    )
    script = Path(sys.executable).with_name("shiporskip")
    server = subprocess.Popen(
        [str(script), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_one(database: str) -> dict[str, Any]:
    """The loads of `VOTE_SHARES` one after another against one server."""
    loads = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        _database(database, tmp) as url,
        _server(tmp, url) as base,
    ):
        settings = load_settings(env={}, overrides={"data_dir": tmp, "database_url": url})
        rt = open_runtime(settings)
        try:
            slugs = sorted(t.slug for t in rt.catalog.list())
            votes: list[tuple[Any, ...]] = []
            for n, share in enumerate(VOTE_SHARES):
                log = asyncio.run(_load(base, slugs, share, seed=11 + n))
                votes += log["votes"]
                loads.append(_figures(share, log))
            stored = VoteStore(rt.engine).communities(1, slugs)
        finally:
            rt.close()
    actual = {s: (stored[s].ships, stored[s].skips) if s in stored else (0, 0) for s in slugs}
    return {
        "database": database,
        "tools": len(slugs),
        "loads": loads,
        "votes": len(votes),
        "vote_statuses": dict(Counter(status for *_, status in votes)),
        "counts_match": _replayed(votes, slugs) == actual,
    }


def _figures(share: float, log: dict[str, Any]) -> dict[str, Any]:
    reads: Counter[tuple[int, str | None]] = log["reads"]
    hits = sum(n for (status, cache), n in reads.items() if status == 200 and cache == "hit")
    total = sum(reads.values())
    return {
        "share": share,
        "reads": total,
        "votes": len(log["votes"]),
        "read_errors": sum(n for (status, _), n in reads.items() if status != 200),
        "hit_rate": hits / total if total else 0.0,
        "requests_per_s": (total + len(log["votes"])) / log["seconds"],
    }


def run() -> list[dict[str, Any]]:
    return [run_one("sqlite"), run_one("postgresql")]


def section(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Page cache under reads and votes",
        "",
        f"`shiporskip serve --workers 2` with the sample catalog. In each load, {CLIENTS} "
        f"concurrent clients make {PER_CLIENT} requests each: a vote on a random tool through "
        "the JSON API with the given share, otherwise a read of a random tool or compare page "
        "(one tool page and one compare page per tool). A vote makes stale only the pages "
        "that show its tool (per-tool counters in the database), in both processes; each "
        "process keeps its own copy, so a vote costs one render per page per process. Hit "
        "rate = reads answered from a process's memory (`X-Page-Cache: hit`) ÷ all reads of "
        f"the load, after every page was visited; target ≥ {TARGET:.0%} at one vote in "
        f"{round(1 / JUDGED_SHARE)} requests. Afterwards the stored counts are checked "
        "against every accepted vote replayed from the clients' log.",
        "",
        "| Database | Votes per request | Reads | Votes | Read errors | Hit rate | Requests/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for load in r["loads"]:
            lines.append(
                f"| {r['database']} | {load['share']:.0%} | {load['reads']} | {load['votes']} | "
                f"{load['read_errors']} | {load['hit_rate']:.1%} | {load['requests_per_s']:.0f} |"
            )
    lines += ["", "| Database | Tools | Votes in all | Statuses | Counts match replay |"]
    lines.append("|---|---|---|---|---|")
    for r in results:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["vote_statuses"].items()))
        lines.append(
            f"| {r['database']} | {r['tools']} | {r['votes']} | {statuses} | "
            f"{'yes' if r['counts_match'] else 'NO'} |"
        )
    return [*lines, ""]


if __name__ == "__main__":
    print("\n".join(section(run())))
