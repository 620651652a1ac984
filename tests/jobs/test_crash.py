"""Crash safety with a real SIGKILL: a worker killed mid-panel, restarted, finishes the panel
with no duplicate review and nothing lost — on the embedded engine (SQLite) and on
Procrastinate (PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shiporskip.jobs.worker import enqueue_review, open_queue
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.schema import reviews
from tests.conftest import postgres_schema_url
from tests.factories import make_tool
from tests.llm.fault_server import FaultServer, serve
from tests.support import review_json

LEASE = 2.0
CALL_SECONDS = 0.6


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


@pytest.fixture(params=["embedded", "procrastinate"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "embedded":
        yield "embedded", f"sqlite:///{tmp_path / 'crash.db'}"
    else:
        for url in postgres_schema_url():
            yield "procrastinate", url


def worker_env(data_dir: Path, url: str, engine: str, server: FaultServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
    env.update(
        SHIPORSKIP_DATA_DIR=str(data_dir),
        SHIPORSKIP_DATABASE_URL=url,
        SHIPORSKIP_JOB_ENGINE=engine,
        SHIPORSKIP_MODEL=f"openai-compatible:scripted@{server.base_url}",
        SHIPORSKIP_LLM_CONCURRENCY="1",
        SHIPORSKIP_JOB_LEASE=str(LEASE),
        SHIPORSKIP_DAILY_TIME="off",
    )
    return env


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).with_name("shiporskip")
    return subprocess.Popen(
        [str(script), "worker", "--burst", "--poll", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def ok_reviews(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(reviews.c.critic_id).where(reviews.c.status == "ok")))


def test_sigkill_mid_panel_then_restart_completes_the_panel(
    engine: tuple[str, str], server: FaultServer, tmp_path: Path
) -> None:
    name, url = engine
    settings = load_settings(
        env={},
        overrides={
            "data_dir": str(tmp_path / "data"),
            "database_url": url,
            "job_engine": name,
            "job_lease": LEASE,
        },
    )
    rt = open_runtime(settings)
    rt.catalog.add(make_tool("Alpha"))
    queue = open_queue(rt)
    assert enqueue_review(queue, "alpha") is not None
    server.set(("ok", review_json(), CALL_SECONDS))
    env = worker_env(tmp_path / "data", url, name, server)

    first = start_worker(env)
    deadline = time.monotonic() + 60
    while len(ok_reviews(rt.engine)) < 2:
        assert first.poll() is None, first.stdout.read().decode() if first.stdout else ""
        assert time.monotonic() < deadline, "the worker never got going"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = len(ok_reviews(rt.engine))
    assert 2 <= at_kill < 7, "killed in the middle of the panel"

    time.sleep(LEASE + 1.5)  # the dead worker's lease / heartbeat must run out first
    second = start_worker(env)
    output = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, output

    critics = ok_reviews(rt.engine)
    assert sorted(critics) == sorted(c.id for c in rt.critics()), "7 reviews, one per critic"
    done = queue.list("done")
    assert len(done) == 1 and done[0].args == {"slug": "alpha"}
    assert queue.list("parked") == [] and queue.list("queued") == []
    # Every critic was asked once, plus at most the one call in flight when the worker died.
    assert 7 <= len(server.requests) <= 8
    rt.close()


def test_a_job_that_keeps_failing_is_parked_with_its_error(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shiporskip.cli.main import main

    url = f"sqlite:///{tmp_path / 'park.db'}"
    env = worker_env(tmp_path / "data", url, "embedded", server)
    env.update(
        SHIPORSKIP_JOB_MAX_ATTEMPTS="2",
        SHIPORSKIP_JOB_RETRY_DELAY="0.1",
        SHIPORSKIP_LLM_RETRIES="0",
    )
    server.set(("status", 401))
    os.environ.update(env)
    try:
        rt = open_runtime(load_settings())
        rt.catalog.add(make_tool("Alpha"))
        enqueue_review(open_queue(rt), "alpha")
        proc = start_worker(env)
        proc.communicate(timeout=60)
        time.sleep(0.3)
        proc = start_worker(env)
        proc.communicate(timeout=60)
        assert main(["jobs", "list", "--status", "parked", "--json"]) == 0
        out = capsys.readouterr().out
        assert '"status": "parked"' in out and "(HTTP 401)" in out
        assert "SHIPORSKIP_LLM_SERVER_KEYS" in out
        rt.close()
    finally:
        for key in env:
            if key.startswith("SHIPORSKIP_"):
                os.environ.pop(key, None)
