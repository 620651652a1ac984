"""The embedded engine: a jobs table in the main database (SQLite or PostgreSQL).

Claiming is an optimistic conditional UPDATE, so several workers can share the table. A
running job holds a lease; a heartbeat thread extends it while the task runs. When a worker
dies (even by SIGKILL) its lease runs out and the job is claimed again. Tasks are written
to be re-run safely: the panel only asks critics that have not reported yet.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shiporskip.errors import NotFoundError, UserError
from shiporskip.jobs.api import TASKS, JobInfo, backoff
from shiporskip.runtime import Runtime
from shiporskip.storage.schema import is_row_id, jobs

log = logging.getLogger(__name__)

DUE = sa.or_(
    sa.and_(jobs.c.status == "queued", jobs.c.run_after <= sa.bindparam("now")),
    sa.and_(jobs.c.status == "running", jobs.c.locked_until < sa.bindparam("now")),
)


def _info(row: Any) -> JobInfo:
    return JobInfo(
        id=row.id,
        task=row.task,
        args=row.args or {},
        key=row.key,
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        run_after=row.run_after,
    )


class EmbeddedQueue:
    engine_name = "embedded"

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.clock = clock
        settings = runtime.settings
        self.lease = settings.job_lease
        self.max_attempts = settings.job_max_attempts
        self.retry_delay = settings.job_retry_delay

    def enqueue(self, task: str, args: dict[str, Any], *, key: str | None = None) -> int | None:
        if task not in TASKS:
            raise UserError(f"unknown task {task!r}; known tasks: {', '.join(sorted(TASKS))}")
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    sa.insert(jobs).values(
                        task=task,
                        args=args,
                        key=key,
                        status="queued",
                        attempts=0,
                        max_attempts=self.max_attempts,
                        run_after=now,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return None  # a job with this key exists: scheduling stays idempotent
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    def _claim(self, worker_id: str) -> JobInfo | None:
        now = self.clock()
        with self.engine.connect() as conn:
            candidates = list(
                conn.scalars(
                    sa.select(jobs.c.id).where(DUE).order_by(jobs.c.run_after, jobs.c.id).limit(5),
                    {"now": now},
                )
            )
        for job_id in candidates:
            with self.engine.begin() as conn:
                claimed = conn.execute(
                    sa.update(jobs)
                    .where(jobs.c.id == job_id)
                    .where(DUE)
                    .values(
                        status="running",
                        locked_by=worker_id,
                        locked_until=now + timedelta(seconds=self.lease),
                        attempts=jobs.c.attempts + 1,
                    ),
                    {"now": now},
                )
                if claimed.rowcount == 1:
                    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).one()
                    return _info(row)
        return None

    def _heartbeat(self, job_id: int, worker_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease / 3):
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.locked_by == worker_id)
                    .values(locked_until=self.clock() + timedelta(seconds=self.lease))
                )

    def run_one(self, worker_id: str) -> JobInfo | None:
        job = self._claim(worker_id)
        if job is None:
            return None
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job.id, worker_id, stop), daemon=True)
        beat.start()
        try:
            result = TASKS[job.task](self.runtime, job.args)
        except Exception as exc:  # a failing task is retried or parked, never lost
            stop.set()
            beat.join()
            error = str(exc) if isinstance(exc, UserError) else _short_traceback(exc)
            return self._failed(job, error)
        stop.set()
        beat.join()
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job.id)
                .values(
                    status="done",
                    finished_at=self.clock(),
                    locked_until=None,
                    last_error=None,
                )
            )
        log.info("job %s %s done: %s", job.id, job.task, result)
        return _replace(job, status="done", last_error=None)

    def _failed(self, job: JobInfo, error: str) -> JobInfo:
        parked = job.attempts >= job.max_attempts
        values: dict[str, Any] = {"last_error": error, "locked_until": None, "locked_by": None}
        if parked:
            values |= {"status": "parked", "finished_at": self.clock()}
        else:
            delay = backoff(job.attempts, self.retry_delay)
            values |= {"status": "queued", "run_after": self.clock() + timedelta(seconds=delay)}
        with self.engine.begin() as conn:
            conn.execute(sa.update(jobs).where(jobs.c.id == job.id).values(**values))
        log.warning(
            "job %s %s failed (attempt %s of %s)%s: %s",
            job.id,
            job.task,
            job.attempts,
            job.max_attempts,
            ", parked" if parked else "",
            error,
        )
        return _replace(job, status="parked" if parked else "queued", last_error=error)

    def work(
        self,
        worker_id: str,
        *,
        tick: Callable[[], object],
        burst: bool,
        poll: float,
        stop: threading.Event,
        on_job: Callable[[JobInfo], None] | None,
    ) -> int:
        ran = 0
        while not stop.is_set():
            tick()
            job = self.run_one(worker_id)
            if job is not None:
                ran += 1
                if on_job:
                    on_job(job)
                continue
            if burst:
                break
            stop.wait(poll)
        return ran

    def list(self, status: str | None = None, limit: int = 100) -> list[JobInfo]:
        query = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)
        if status:
            query = query.where(jobs.c.status == status)
        with self.engine.connect() as conn:
            return [_info(r) for r in conn.execute(query)]

    def retry(self, job_id: int) -> None:
        if not is_row_id(job_id):
            raise NotFoundError(
                f"no parked job {job_id}; see `shiporskip jobs list --status parked`"
            )
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == "parked")
                .values(status="queued", attempts=0, run_after=self.clock(), finished_at=None)
            )
        if updated.rowcount != 1:
            raise NotFoundError(
                f"no parked job {job_id}; see `shiporskip jobs list --status parked`"
            )


def _replace(job: JobInfo, **changes: Any) -> JobInfo:
    from dataclasses import replace

    return replace(job, **changes)


def _short_traceback(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()[:2000]
