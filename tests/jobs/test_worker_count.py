"""The worker's count of jobs run: its own jobs only, on both engines."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from shiporskip.errors import UserError
from shiporskip.jobs.api import JobInfo, task
from shiporskip.jobs.worker import open_queue, run_worker
from shiporskip.runtime import Runtime
from shiporskip.settings import replace

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


@pytest.fixture(params=["embedded", "procrastinate"])
def worker_runtime(request: pytest.FixtureRequest, runtime: Runtime) -> Runtime:
    if request.param == "procrastinate" and runtime.engine.dialect.name != "postgresql":
        pytest.skip("procrastinate runs on PostgreSQL only")
    runtime.settings = replace(
        runtime.settings, job_engine=request.param, daily_time="off", job_max_attempts=1
    )
    OTHER["finish"] = (
        "UPDATE jobs SET status = 'done' WHERE status = 'queued' AND task = 'test_count_ok'"
        if request.param == "embedded"
        else "UPDATE procrastinate_jobs SET status = 'succeeded' "
        "WHERE status = 'todo' AND args->>'task' = 'test_count_ok'"
    )
    return runtime


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
