"""The worker's count of jobs run: its own jobs only, on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from shiporskip.errors import UserError
from shiporskip.jobs.api import JobInfo, task
from shiporskip.jobs.worker import open_queue, run_worker
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings, replace
from tests.conftest import postgres_schema_url

OTHER: dict[str, Any] = {}


@task("test_count_ok")
def count_ok(_runtime: Runtime, _args: dict[str, Any]) -> str:
    return "ok"


@task("test_count_fail")
def count_fail(_runtime: Runtime, _args: dict[str, Any]) -> str:
    raise UserError("scripted failure")


@task("test_count_other_worker")
def other_worker(runtime: Runtime, _args: dict[str, Any]) -> str:
    """Finish the queued jobs behind this worker's back, as a second worker would."""
    with runtime.engine.begin() as conn:
        conn.execute(sa.text(OTHER["finish"]))
    return "ok"


# Procrastinate runs on PostgreSQL only, so it has one case where the embedded engine has two.
ENGINES = [
    pytest.param(("embedded", "sqlite"), id="embedded-sqlite"),
    pytest.param(("embedded", "postgresql"), id="embedded-postgresql", marks=pytest.mark.postgres),
    pytest.param(
        ("procrastinate", "postgresql"), id="procrastinate-postgresql", marks=pytest.mark.postgres
    ),
]


@pytest.fixture(params=ENGINES)
def worker_runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    engine, database = request.param
    if database == "sqlite":
        yield from _worker_runtime(engine, f"sqlite:///{tmp_path / 'test.db'}")
    else:
        for url in postgres_schema_url():
            yield from _worker_runtime(engine, url)


def _worker_runtime(engine: str, url: str) -> Iterator[Runtime]:
    runtime = open_runtime(load_settings(overrides={"database_url": url}))
    runtime.settings = replace(
        runtime.settings, job_engine=engine, daily_time="off", job_max_attempts=1
    )
    OTHER["finish"] = (
        "UPDATE jobs SET status = 'done' WHERE status = 'queued' AND task = 'test_count_ok'"
        if engine == "embedded"
        else "UPDATE procrastinate_jobs SET status = 'succeeded' "
        "WHERE status = 'todo' AND args->>'task' = 'test_count_ok'"
    )
    try:
        yield runtime
    finally:
        runtime.close()


def test_the_count_is_the_jobs_this_worker_ran(worker_runtime: Runtime) -> None:
    queue = open_queue(worker_runtime)
    queue.enqueue("test_count_ok", {})
    queue.enqueue("test_count_fail", {})
    seen: list[JobInfo] = []
    assert run_worker(worker_runtime, queue, burst=True, on_job=seen.append) == 2
    assert sorted(j.status for j in seen) == ["done", "parked"]
    assert [j.last_error for j in seen if j.status == "parked"] == ["scripted failure"]


def test_jobs_other_workers_finish_are_not_counted(worker_runtime: Runtime) -> None:
    queue = open_queue(worker_runtime)
    queue.enqueue("test_count_other_worker", {})
    queue.enqueue("test_count_ok", {})
    seen: list[JobInfo] = []
    assert run_worker(worker_runtime, queue, burst=True, on_job=seen.append) == 1
    assert [j.task for j in seen] == ["test_count_other_worker"]
