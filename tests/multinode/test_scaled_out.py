"""The scaled-out setup of docs/deploy.md on one machine, broken on purpose.

A PostgreSQL database of its own; two `shiporskip serve` processes; nginx running the
documented block (load balancing over both, proxy_cache in a temp dir); two
`shiporskip worker` processes on Procrastinate, reviewing tools against a scripted
OpenAI-compatible server. Under a bounded read-and-vote load through nginx, one serve process
and one busy worker are killed with SIGKILL. Then: reads kept succeeding (the only failures
are requests in flight at the kill), every review job ran to completion once (one review per
critic, at most one extra LLM call), the vote counts equal the accepted votes replayed from
the client's log, and a last vote is on both nodes' pages at once and on nginx's cached copy
within the freshness the app advertises (s-maxage + stale-while-revalidate) plus a margin.

Needs PostgreSQL and nginx: skipped without them, required when CI=true.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from bench.nginx_cache import Nginx, free_port, nginx_binary, site_config
from sqlalchemy.engine import make_url

from shiporskip.domain.categories import CATEGORIES
from shiporskip.jobs.worker import enqueue_review, open_queue
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.schema import reviews, tools
from shiporskip.storage.votes import VoteStore
from tests.conftest import IN_CI, POSTGRES_URL
from tests.factories import make_tool
from tests.live import LiveServer, assert_whole
from tests.llm.fault_server import FaultServer, serve
from tests.support import review_json

pytestmark = pytest.mark.postgres

VOTE_TOOLS = ["vote-alpha", "vote-beta", "vote-gamma", "vote-delta"]
# One category each: a finished review publishes no comparison, so asks no pairwise pick.
JOB_TOOLS = [f"job-{n}" for n in ("one", "two", "three", "four", "five")]
CRITICS = 7
VOTERS = 24
STEPS = 16  # requests per voter: 384 in all, about a third of them votes
CALL_SECONDS = 0.25  # per LLM call: a review job takes about 7 x this
LEASE = 3.0  # heartbeats every second: three missed ones mean the worker is gone
SHARED_SECONDS, STALE_SECONDS = 2, 2
MARGIN = 5.0  # seconds on top of the advertised freshness, for a loaded 2-core machine
SECRET = "multinode-test-secret-0123456789"
READ_PATHS = [
    *(f"/tools/{slug}" for slug in VOTE_TOOLS),
    "/compare/vote-alpha-vs-vote-beta",
    "/compare/vote-gamma-vs-vote-delta",
    "/",
    # JSON a shared cache does not keep: these reach a node every time.
    *(f"/api/v1/tools/{slug}" for slug in VOTE_TOOLS),
]


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI=true)")
    pytest.skip(f"{what} not available; set CI=true to require it")


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL database of its own on the test server, dropped afterwards."""
    admin = sa.create_engine(
        POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect():
            pass
    except Exception as exc:
        _missing(f"PostgreSQL at {POSTGRES_URL} ({type(exc).__name__})")
    name = f"sos_multinode_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def llm() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


@dataclass
class Outcome:
    kind: str  # "read" or "vote"
    voter: str
    target: str  # the path read, or the slug voted on
    value: str | None  # the vote sent
    status: int | None  # None: no answer (connection broken)
    started: float
    before_kill: bool  # started before the serve process was killed


@dataclass
class Load:
    """The read-and-vote load through nginx, and the kills it triggers part-way."""

    base: str
    kill_node: Callable[[], None]  # called once, a third of the way in
    kill_worker: Callable[[], Coroutine[Any, Any, None]]  # started a tenth of the way in
    log: list[Outcome] = field(default_factory=list)
    in_flight: dict[int, str] = field(default_factory=dict)
    in_flight_at_kill: dict[str, int] = field(default_factory=dict)
    done: int = 0
    node_killed_at: float | None = None
    worker_task: asyncio.Task[None] | None = None
    ids: Iterator[int] = field(default_factory=itertools.count)

    async def send(self, client: httpx.AsyncClient, kind: str, voter: str, **kw: Any) -> Outcome:
        started = time.monotonic()
        before = self.node_killed_at is None
        key = next(self.ids)
        self.in_flight[key] = kind
        try:
            if kind == "read":
                response = await client.get(kw["path"])
                status: int | None = response.status_code
                if status == 200:
                    assert_whole(response)
            else:
                response = await client.post(
                    f"/api/v1/tools/{kw['slug']}/vote",
                    json={"vote": kw["value"]},
                    headers={"X-CSRF-Token": kw["token"]},
                )
                status = response.status_code
        except httpx.TransportError:
            status = None
        finally:
            del self.in_flight[key]
        outcome = Outcome(
            kind, voter, kw.get("path") or kw["slug"], kw.get("value"), status, started, before
        )
        self.log.append(outcome)
        self.done += 1
        total = VOTERS * STEPS
        if self.worker_task is None and self.done >= total // 10:
            self.worker_task = asyncio.create_task(self.kill_worker())
        # A third of the way in, at a moment when other requests are in flight.
        if self.node_killed_at is None and self.done >= total // 3 and self.in_flight:
            self.in_flight_at_kill = {
                k: sum(1 for v in self.in_flight.values() if v == k) for k in ("read", "vote")
            }
            self.kill_node()
            self.node_killed_at = time.monotonic()
        return outcome

    async def voter(self, rng: random.Random) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            for _ in range(10):  # the session call is a GET that sets a cookie: not cached
                try:
                    session = await client.get("/api/v1/session")
                except httpx.TransportError:
                    continue
                if session.status_code == 200:
                    break
            else:
                raise AssertionError("no visitor session through nginx in 10 tries")
            token, voter = session.json()["csrf_token"], session.json()["voter"]
            for _ in range(STEPS):
                if rng.random() < 0.35:
                    slug = rng.choice(VOTE_TOOLS)
                    value = rng.choice(["ship", "ship", "skip", None])
                    # A vote sets this voter's vote on the tool: one that got no answer is
                    # sent again until it is answered, so the final state is known.
                    for _ in range(10):
                        sent = await self.send(
                            client, "vote", voter, slug=slug, value=value, token=token
                        )
                        if sent.status is not None and sent.status < 500:
                            break
                        await asyncio.sleep(0.1)
                else:
                    await self.send(client, "read", voter, path=rng.choice(READ_PATHS))

    async def run(self) -> None:
        rng = random.Random(14)
        await asyncio.gather(*(self.voter(random.Random(rng.random())) for _ in range(VOTERS)))
        if self.worker_task is not None:
            await self.worker_task


def expected_counts(log: list[Outcome]) -> dict[str, tuple[int, int]]:
    """Ships and skips per tool from the accepted votes, replayed in the order sent."""
    final: dict[tuple[str, str], str | None] = {}
    for o in log:
        if o.kind == "vote" and o.status == 200:
            final[(o.voter, o.target)] = o.value
    counts = {slug: (0, 0) for slug in VOTE_TOOLS}
    for (_, slug), value in final.items():
        ships, skips = counts[slug]
        counts[slug] = (ships + (value == "ship"), skips + (value == "skip"))
    return counts


def jobs_by_status(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1")
        )
        return {str(status): int(n) for status, n in rows}


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("shiporskip")), "worker", "--poll", "0.2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def shown_votes(html: str, slug: str) -> int:
    """The vote count a page's vote box shows for `slug` (0 for "No community votes yet")."""
    box = html[html.index(f'id="vote-{slug}"') :]
    note = re.search(r'class="community".*?<small>(.*?)</small>', box, re.S)
    assert note, f"no community note for {slug}"
    found = re.match(r"(\d+) votes?\b", note.group(1))
    return int(found.group(1)) if found else 0


def freshness(cache_control: str) -> tuple[int, int]:
    """s-maxage and stale-while-revalidate as the app advertises them (0 when absent)."""
    values = dict(re.findall(r"(s-maxage|stale-while-revalidate)=(\d+)", cache_control))
    return int(values.get("s-maxage", 0)), int(values.get("stale-while-revalidate", 0))


def test_two_nodes_two_workers_survive_sigkill_under_load(
    database: str, llm: FaultServer, tmp_path: Path
) -> None:
    if nginx_binary() is None:
        _missing("nginx")
    nginx_port = free_port()
    base = f"http://127.0.0.1:{nginx_port}"
    settings = {
        "database_url": database,
        "secret_key": SECRET,
        "job_engine": "procrastinate",
        "job_lease": str(LEASE),
        "load_sample": "false",
        "trusted_proxies": "127.0.0.1",
        "base_url": base,
        "vote_rate_voter": "100000",
        "vote_rate_ip": "100000",
        "shared_cache_seconds": str(SHARED_SECONDS),
        "shared_stale_seconds": str(STALE_SECONDS),
        "daily_time": "off",
    }
    rt = open_runtime(
        load_settings(env={}, overrides={**settings, "data_dir": str(tmp_path / "seed")})
    )
    for slug in VOTE_TOOLS:
        rt.catalog.add(make_tool(slug.replace("-", " ").title()))
    for slug, category in zip(JOB_TOOLS, CATEGORIES, strict=False):
        rt.catalog.add(make_tool(slug.replace("-", " ").title(), category=category.name))
    queue = open_queue(rt)
    for slug in JOB_TOOLS:
        assert enqueue_review(queue, slug) is not None
    llm.set(("ok", review_json(), CALL_SECONDS))

    worker_env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
    worker_env.update({f"SHIPORSKIP_{k.upper()}": v for k, v in settings.items()})
    worker_env.update(
        SHIPORSKIP_MODEL=f"openai-compatible:scripted@{llm.base_url}",
        SHIPORSKIP_LLM_CONCURRENCY="1",
    )
    nodes = [LiveServer(tmp_path / f"node{i}", settings) for i in range(2)]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for node in nodes:
            node.__enter__()
        upstreams = [f"127.0.0.1:{node.port}" for node in nodes]
        config = site_config(upstreams, nginx_port, tmp_path / "cache")
        with Nginx(tmp_path / "nginx", [config], [nginx_port]) as nginx:
            for i in range(2):
                env = {**worker_env, "SHIPORSKIP_DATA_DIR": str(tmp_path / f"worker{i}")}
                workers.append(start_worker(env, tmp_path / f"worker{i}.log"))
            deadline = time.monotonic() + 60
            while jobs_by_status(rt.engine).get("doing", 0) < 2:
                assert time.monotonic() < deadline, "the two workers never both took a job"
                time.sleep(0.05)

            worker_killed: list[int] = []  # jobs running when the worker was killed

            async def kill_worker() -> None:
                # Killed while both workers hold a job, so the killed one holds one too.
                deadline = time.monotonic() + 60
                while (
                    running := (await asyncio.to_thread(jobs_by_status, rt.engine)).get("doing", 0)
                ) < 2:
                    assert time.monotonic() < deadline, "the workers were never both busy again"
                    await asyncio.sleep(0.02)
                os.kill(workers[0].pid, signal.SIGKILL)
                worker_killed.append(running)

            def kill_node() -> None:
                assert nodes[0].process is not None
                os.killpg(nodes[0].process.pid, signal.SIGKILL)
                # Gone, sockets closed, before any other request starts: the loop waits too.
                nodes[0].process.wait(timeout=10)

            load = Load(base, kill_node, kill_worker)
            asyncio.run(load.run())
            workers[0].wait(timeout=10)
            assert worker_killed == [2], "the worker was killed while it ran a job"
            # nginx met the dead node (refused, or cut off mid-answer) and set it aside.
            assert "upstream server temporarily disabled" in nginx.log(), nginx.log()
            for i in range(2):  # nginx balanced the load over both nodes
                log = (tmp_path / f"node{i}" / "server.log").read_text()
                assert '"POST /api/v1/tools/' in log and '"GET /api/v1/tools/' in log, i

            # Reads kept succeeding: the only failed requests were in flight at the kill.
            failed = [o for o in load.log if o.status is None or o.status >= 500]
            assert load.node_killed_at is not None
            in_flight = sum(load.in_flight_at_kill.values())
            assert len(failed) <= in_flight, (failed, load.in_flight_at_kill)
            late = [o for o in failed if not o.before_kill]
            assert late == [], f"requests sent after the kill failed: {late}\n{nginx.log()}"
            reads = [o for o in load.log if o.kind == "read"]
            assert len(reads) > 150 and sum(1 for o in reads if not o.before_kill) > 50
            refused = [o for o in load.log if o.status is not None and 300 <= o.status < 500]
            assert refused == [], refused[:5]

            # Vote counts are exact.
            stored = VoteStore(rt.engine).communities(1, VOTE_TOOLS)
            actual = {
                s: (stored[s].ships, stored[s].skips) if s in stored else (0, 0) for s in VOTE_TOOLS
            }
            assert actual == expected_counts(load.log)
            assert sum(ships + skips for ships, skips in actual.values()) > 20

            # No job lost or run twice: every job done, one review per critic per tool,
            # and the LLM asked at most once more than that (the call the kill cut short).
            deadline = time.monotonic() + 120
            while jobs_by_status(rt.engine).get("succeeded", 0) < len(JOB_TOOLS):
                states = jobs_by_status(rt.engine)
                assert not states.get("failed"), f"a job was parked: {states}"
                assert time.monotonic() < deadline, f"jobs did not finish: {states}"
                time.sleep(0.2)
            assert jobs_by_status(rt.engine) == {"succeeded": len(JOB_TOOLS)}
            with rt.engine.connect() as conn:
                written = conn.execute(
                    sa.select(tools.c.slug, reviews.c.critic_id)
                    .join(tools, tools.c.id == reviews.c.tool_id)
                    .where(reviews.c.status == "ok")
                ).all()
                attempts = sorted(
                    conn.scalars(sa.text("SELECT attempts FROM procrastinate_jobs")).all()
                )
            critics = sorted(c.id for c in rt.critics())
            assert len(critics) == CRITICS
            for slug in JOB_TOOLS:
                assert sorted(c for s, c in written if s == slug) == critics, slug
            assert CRITICS * len(JOB_TOOLS) <= len(llm.requests) <= CRITICS * len(JOB_TOOLS) + 1
            # Procrastinate counts a finished run as an attempt: one job ran twice, the one
            # whose first run the kill ended, and only its missing critics were asked again.
            assert attempts == [1] * (len(JOB_TOOLS) - 1) + [2], attempts
            print(
                f"{len(load.log)} requests, {len(failed)} failed, in flight at the kill "
                f"{load.in_flight_at_kill}; votes {actual}; LLM calls {len(llm.requests)}; "
                f"job attempts {attempts}"
            )

            # A replacement node on the killed one's port; then a last vote.
            nodes[0] = LiveServer(tmp_path / "node0-again", settings)
            nodes[0].port = int(upstreams[0].rsplit(":", 1)[1])
            nodes[0].base_url = f"http://127.0.0.1:{nodes[0].port}"
            nodes[0].__enter__()
            assert_fresh_everywhere(base, nodes)
            errors = nginx.log()
            assert "[emerg]" not in errors and "[crit]" not in errors, errors
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
        for node in nodes:
            node.stop()
        rt.close()
    for node in nodes[1:]:
        node.assert_clean_log()


def assert_fresh_everywhere(base: str, nodes: list[LiveServer]) -> None:
    """A vote is on each node's page at once, and on nginx's copy within the freshness the
    app advertises for the page."""
    slug, path = VOTE_TOOLS[0], f"/tools/{VOTE_TOOLS[0]}"
    with httpx.Client(base_url=base, timeout=30) as client:
        # Each node's own page cache holds the page, at the database's count.
        counts = [shown_votes(httpx.get(node.url(path), timeout=30).text, slug) for node in nodes]
        assert counts[0] == counts[1], counts
        shown = counts[0]
        page = httpx.get(nodes[1].url(path), timeout=30)
        fresh, stale = freshness(page.headers.get("cache-control", ""))
        assert fresh > 0, f"pages are not for shared caches: {page.headers.get('cache-control')}"
        assert "set-cookie" not in page.headers
        bound = fresh + stale + MARGIN
        # nginx keeps the page (a HIT) and, within the bound, at that count.
        deadline = time.monotonic() + bound
        while True:
            cached = client.get(path)
            if cached.headers.get("x-cache-status") == "HIT" and (
                shown_votes(cached.text, slug) == shown
            ):
                break
            assert time.monotonic() < deadline, f"nginx never kept the page: {cached.headers}"
            time.sleep(0.1)

        session = client.get("/api/v1/session").json()
        answer = client.post(
            f"/api/v1/tools/{slug}/vote",
            json={"vote": "ship"},
            headers={"X-CSRF-Token": session["csrf_token"]},
        )
        voted = time.monotonic()
        assert answer.status_code == 200, answer.text
        assert answer.json()["votes"] == shown + 1
        for node in nodes:
            assert shown_votes(httpx.get(node.url(path), timeout=30).text, slug) == shown + 1

        while shown_votes(client.get(path).text, slug) != shown + 1:
            waited = time.monotonic() - voted
            assert waited < bound, f"nginx still shows the old count after {waited:.1f} s"
            time.sleep(0.1)
        print(f"nginx showed the vote after {time.monotonic() - voted:.1f} s (bound {bound} s)")
