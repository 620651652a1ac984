"""The distributed engine: Procrastinate on PostgreSQL, for workers on several machines.

The same tasks run through one Procrastinate task that dispatches by name. Procrastinate
tracks worker heartbeats; a job whose worker stopped beating (killed, machine lost) is
retried when a worker starts. Errors of failing attempts are kept in our job_errors table
so the CLI and the admin area can show why a job was parked.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import procrastinate
import sqlalchemy as sa
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.engine import make_url

from shiporskip.errors import NotFoundError, UserError
from shiporskip.jobs.api import TASKS, JobInfo
from shiporskip.runtime import Runtime
from shiporskip.storage.schema import is_row_id, job_errors

log = logging.getLogger(__name__)

TASK_NAME = "shiporskip.run"
STATUS = {
    "todo": "queued",
    "doing": "running",
    "succeeded": "done",
    "failed": "parked",
    "cancelled": "cancelled",
    "aborting": "running",
    "aborted": "cancelled",
}
OUR_STATUS_TO_THEIRS = {
    "queued": "todo",
    "running": "doing",
    "done": "succeeded",
    "parked": "failed",
}


def conninfo(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise UserError(
            "job_engine procrastinate needs PostgreSQL: set SHIPORSKIP_DATABASE_URL to a "
            "postgresql+psycopg:// URL, or use job_engine embedded"
        )
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateQueue:
    engine_name = "procrastinate"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.lease = settings.job_lease
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(settings.sqlalchemy_url))
        self.app = procrastinate.App(connector=connector)
        retry = procrastinate.RetryStrategy(
            max_attempts=max(settings.job_max_attempts - 1, 0),
            exponential_wait=max(int(settings.job_retry_delay), 1),
        )

        @self.app.task(name=TASK_NAME, retry=retry, pass_context=True)
        def run(context: procrastinate.JobContext, task: str, args: dict[str, Any]) -> None:
            try:
                result = TASKS[task](runtime, args)
            except Exception as exc:
                self._ran_one(
                    context.job, task, args, self._record_error(context.job.id, task, exc)
                )
                raise
            log.info("job %s %s done: %s", context.job.id, task, result)
            self._ran_one(context.job, task, args, None)

        self.task = run
        self._schema_ready = False
        # Jobs this process ran in the current `work`, counted where they run: the table's
        # totals also move with other workers' jobs.
        self._ran = 0
        self._on_job: Callable[[JobInfo], None] | None = None

    def _ran_one(self, job: Any, task: str, args: dict[str, Any], error: str | None) -> None:
        attempts = int(job.attempts) + 1
        most = self.runtime.settings.job_max_attempts
        status = "done" if error is None else ("parked" if attempts >= most else "queued")
        self._ran += 1
        if self._on_job:
            self._on_job(
                JobInfo(
                    id=int(job.id),
                    task=task,
                    args=dict(args),
                    key=job.queueing_lock,
                    status=status,
                    attempts=attempts,
                    max_attempts=most,
                    last_error=error,
                    created_at=None,
                )
            )

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self.runtime.engine.connect() as conn:
            exists = sa.inspect(conn).has_table("procrastinate_jobs")
        if not exists:
            with self.app.open():
                self.app.schema_manager.apply_schema()
        self._schema_ready = True

    def _record_error(self, job_id: int | None, task: str, exc: BaseException) -> str:
        message = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        with self.runtime.engine.begin() as conn:
            conn.execute(
                sa.insert(job_errors).values(
                    engine_job_id=job_id or 0,
                    task=task,
                    error=message[:2000],
                    created_at=datetime.now(UTC),
                )
            )
        return message

    def enqueue(self, task: str, args: dict[str, Any], *, key: str | None = None) -> int | None:
        if task not in TASKS:
            raise UserError(f"unknown task {task!r}; known tasks: {', '.join(sorted(TASKS))}")
        self._ensure_schema()
        with self.app.open():
            if key and self.app.job_manager.list_jobs(queueing_lock=key):
                return None  # keys are for ever, as in the embedded engine
            try:
                return int(self.task.configure(queueing_lock=key).defer(task=task, args=args))
            except AlreadyEnqueued:
                return None

    def _info(self, job: Any) -> JobInfo:
        kwargs = job.task_kwargs or {}
        return JobInfo(
            id=int(job.id),
            task=str(kwargs.get("task", job.task_name)),
            args=dict(kwargs.get("args", {})),
            key=job.queueing_lock,
            status=STATUS.get(str(getattr(job.status, "value", job.status)), "queued"),
            attempts=int(job.attempts),
            max_attempts=self.runtime.settings.job_max_attempts,
            last_error=self._last_error(int(job.id)),
            created_at=None,
            run_after=job.scheduled_at,
        )

    def _last_error(self, job_id: int) -> str | None:
        with self.runtime.engine.connect() as conn:
            return conn.scalar(
                sa.select(job_errors.c.error)
                .where(job_errors.c.engine_job_id == job_id)
                .order_by(job_errors.c.id.desc())
                .limit(1)
            )

    def list(self, status: str | None = None, limit: int = 100) -> list[JobInfo]:
        self._ensure_schema()
        theirs = OUR_STATUS_TO_THEIRS.get(status) if status else None
        with self.app.open():
            found = self.app.job_manager.list_jobs(task=TASK_NAME, status=theirs)
        found.sort(key=lambda j: -int(j.id or 0))
        return [self._info(j) for j in found[:limit]]

    def retry(self, job_id: int) -> None:
        self._ensure_schema()
        with self.app.open():
            found = is_row_id(job_id)  # procrastinate's ids are 64-bit; larger ones would raise
            jobs = self.app.job_manager.list_jobs(id=job_id, status="failed") if found else []
        if not jobs:
            raise NotFoundError(
                f"no parked job {job_id}; see `shiporskip jobs list --status parked`"
            )

        async def go() -> None:
            async with self.app.open_async():
                await self.app.job_manager.retry_job_by_id_async(job_id, retry_at=datetime.now(UTC))

        asyncio.run(go())

    def run_one(self, worker_id: str) -> JobInfo | None:
        raise NotImplementedError("the procrastinate engine runs jobs through `work`")

    def requeue_stalled(self) -> int:
        """Retry jobs whose worker stopped sending heartbeats (killed or lost)."""

        async def go() -> int:
            async with self.app.open_async():
                manager = self.app.job_manager
                found = await manager.get_stalled_jobs(seconds_since_heartbeat=self.lease)
                stalled = list(found)
                for job in stalled:
                    log.warning("job %s ran on a worker that stopped; retrying it", job.id)
                    await manager.retry_job(job)
                return len(stalled)

        return asyncio.run(go())

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
        self._ensure_schema()
        self._ran, self._on_job = 0, on_job
        try:
            while not stop.is_set():
                self.requeue_stalled()
                tick()
                before = self._ran
                with self.app.open():
                    self.app.run_worker(
                        wait=False,
                        concurrency=1,
                        install_signal_handlers=False,
                        update_heartbeat_interval=max(self.lease / 3, 1.0),
                        stalled_worker_timeout=self.lease,
                        listen_notify=False,
                    )
                if burst:
                    break
                if self._ran == before:
                    stop.wait(poll)
        finally:
            self._on_job = None
        return self._ran
