"""The embedded job queue on SQLite and PostgreSQL, and the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from shiporskip.errors import UserError
from shiporskip.jobs.api import TASKS, task
from shiporskip.jobs.embedded import EmbeddedQueue
from shiporskip.jobs.worker import Scheduler
from shiporskip.runtime import Runtime
from shiporskip.settings import replace
from shiporskip.storage.schema import jobs
from tests.factories import make_tool

CALLS: list[dict[str, Any]] = []


@task("test_echo")
def echo(_runtime: Runtime, args: dict[str, Any]) -> str:
    CALLS.append(args)
    if args.get("fail"):
        raise UserError(f"scripted failure {args['fail']}")
    return "ok"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(runtime: Runtime, clock: Clock) -> EmbeddedQueue:
    CALLS.clear()
    runtime.settings = replace(
        runtime.settings, job_max_attempts=3, job_retry_delay=10.0, job_lease=30.0
    )
    return EmbeddedQueue(runtime, clock=clock)


def test_enqueue_run_and_finish(queue: EmbeddedQueue) -> None:
    job_id = queue.enqueue("test_echo", {"n": 1})
    assert job_id is not None
    done = queue.run_one("w1")
    assert done is not None and done.status == "done" and done.attempts == 1
    assert CALLS == [{"n": 1}]
    assert queue.run_one("w1") is None


def test_keys_make_enqueue_idempotent(queue: EmbeddedQueue) -> None:
    assert queue.enqueue("test_echo", {}, key="daily:2026-11-22") is not None
    assert queue.enqueue("test_echo", {}, key="daily:2026-11-22") is None
    queue.run_one("w1")
    assert queue.enqueue("test_echo", {}, key="daily:2026-11-22") is None, "keys are for ever"


def test_unknown_task_is_refused(queue: EmbeddedQueue) -> None:
    with pytest.raises(UserError, match="unknown task 'nope'"):
        queue.enqueue("nope", {})


def test_failures_back_off_then_park_with_the_error(queue: EmbeddedQueue, clock: Clock) -> None:
    queue.enqueue("test_echo", {"fail": "boom"})
    first = queue.run_one("w1")
    assert first is not None and first.status == "queued"
    assert queue.run_one("w1") is None, "not due before its backoff"
    clock.now += timedelta(seconds=13)  # 10 s base, jitter at most +25%
    second = queue.run_one("w1")
    assert second is not None and second.status == "queued" and second.attempts == 2
    clock.now += timedelta(seconds=26)
    third = queue.run_one("w1")
    assert third is not None and third.status == "parked"
    parked = queue.list("parked")
    assert len(parked) == 1 and parked[0].last_error == "scripted failure boom"
    queue.retry(parked[0].id)
    assert queue.list("queued")[0].attempts == 0
    with pytest.raises(UserError, match="no parked job 999"):
        queue.retry(999)


def test_a_dead_workers_job_is_claimed_again_after_its_lease(
    queue: EmbeddedQueue, clock: Clock, runtime: Runtime
) -> None:
    job_id = queue.enqueue("test_echo", {"n": 2})
    claimed = queue._claim("dead-worker")
    assert claimed is not None and claimed.id == job_id
    assert queue.run_one("w2") is None, "leased to the first worker"
    clock.now += timedelta(seconds=31)
    rerun = queue.run_one("w2")
    assert rerun is not None and rerun.id == job_id and rerun.attempts == 2
    with runtime.engine.connect() as conn:
        assert conn.scalar(sa.select(jobs.c.status).where(jobs.c.id == job_id)) == "done"


def test_two_workers_never_claim_the_same_job(queue: EmbeddedQueue) -> None:
    queue.enqueue("test_echo", {"n": 3})
    assert queue._claim("a") is not None
    assert queue._claim("b") is None


def test_scheduler_queues_one_daily_review_after_daily_time(
    runtime: Runtime, queue: EmbeddedQueue
) -> None:
    runtime.catalog.add(make_tool("Alpha"))
    runtime.catalog.add(make_tool("Beta"))
    scheduler = Scheduler(runtime, queue)
    assert scheduler.tick(datetime(2026, 11, 22, 5, 59, tzinfo=UTC)) == []
    assert len(scheduler.tick(datetime(2026, 11, 22, 6, 0, tzinfo=UTC))) == 1
    assert scheduler.tick(datetime(2026, 11, 22, 18, 0, tzinfo=UTC)) == []
    queued = queue.list("queued")
    assert [j.args for j in queued] == [{"slug": "alpha"}]
    assert queued[0].key == "daily:2026-11-22"
    assert len(scheduler.tick(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))) == 1
    assert {j.args["slug"] for j in queue.list("queued")} == {"alpha", "beta"}


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("daily_time", "noon", "not a time"),
        ("digest_day", "someday", "not a weekday"),
    ],
)
def test_bad_schedule_settings(
    runtime: Runtime, queue: EmbeddedQueue, setting: str, value: str, message: str
) -> None:
    runtime.settings = replace(runtime.settings, **{setting: value})
    with pytest.raises(UserError, match=message):
        Scheduler(runtime, queue)


def test_task_registry_holds_the_real_tasks() -> None:
    assert "review_tool" in TASKS


def test_scheduler_queues_the_weekly_digest_once_when_mail_is_set_up(
    runtime: Runtime, queue: EmbeddedQueue
) -> None:
    runtime.settings = replace(runtime.settings, smtp_host="127.0.0.1", digest_day="monday")
    scheduler = Scheduler(runtime, queue)
    monday = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # ISO week 48; the digest is for W47
    scheduler.tick(monday)
    scheduler.tick(monday + timedelta(hours=3))
    digests = [j for j in queue.list("queued") if j.task == "send_digest"]
    assert [(j.args, j.key) for j in digests] == [({"week": "2026-W47"}, "digest:2026-W47")]
    runtime.settings = replace(runtime.settings, smtp_host="")
    assert Scheduler(runtime, queue).tick(monday + timedelta(days=7)) == []
