"""The worker: a scheduler that queues the daily review (and the weekly digest), and a loop
that runs due jobs one at a time. Stop it with SIGTERM or Ctrl+C between jobs."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from shiporskip.errors import UserError
from shiporskip.jobs import tasks
from shiporskip.jobs.api import JobInfo, JobQueue
from shiporskip.jobs.embedded import EmbeddedQueue
from shiporskip.runtime import Runtime

log = logging.getLogger(__name__)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def open_queue(runtime: Runtime) -> JobQueue:
    """The engine chosen by the job_engine setting."""
    engine = runtime.settings.job_engine
    if engine == "embedded":
        return EmbeddedQueue(runtime)
    if engine == "procrastinate":
        from shiporskip.jobs.procrastinate_engine import ProcrastinateQueue

        return ProcrastinateQueue(runtime)
    raise UserError(f"job_engine {engine!r} is unknown; use embedded or procrastinate")


def daily_time(runtime: Runtime) -> time | None:
    """The daily review time, or None when the schedule is off."""
    text = runtime.settings.daily_time
    if text.strip().lower() == "off":
        return None
    try:
        hours, minutes = (int(x) for x in text.split(":"))
        return time(hours, minutes, tzinfo=UTC)
    except ValueError:
        raise UserError(
            f"daily_time {text!r} is not a time; write HH:MM, e.g. 06:00, or off"
        ) from None


class Scheduler:
    """Queues the day's review once per day, whichever worker gets there first."""

    def __init__(self, runtime: Runtime, queue: JobQueue) -> None:
        self.runtime = runtime
        self.queue = queue
        self.at = daily_time(runtime)
        if runtime.settings.digest_day.lower() not in DAYS:
            raise UserError(
                f"digest_day {runtime.settings.digest_day!r} is not a weekday; use e.g. monday"
            )

    def tick(self, now: datetime) -> list[int]:
        queued: list[int] = []
        if self.at is None or (now.hour, now.minute) < (self.at.hour, self.at.minute):
            return queued
        slug = tasks.next_tool(self.runtime)
        if slug is not None:
            job = self.queue.enqueue("review_tool", {"slug": slug}, key=f"daily:{now.date()}")
            if job is not None:
                log.info("queued the daily review of %s (job %s)", slug, job)
                queued.append(job)
        weekday = DAYS[now.weekday()]
        if weekday == self.runtime.settings.digest_day.lower() and self.runtime.settings.smtp_host:
            year, week, _ = (now - timedelta(days=7)).isocalendar()
            label = f"{year}-W{week:02d}"
            job = self.queue.enqueue("send_digest", {"week": label}, key=f"digest:{label}")
            if job is not None:
                log.info("queued the digest of %s (job %s)", label, job)
                queued.append(job)
        return queued


def enqueue_review(queue: JobQueue, slug: str) -> int | None:
    """Queue a review of one tool (used by `daily --now` and by moderators)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return queue.enqueue("review_tool", {"slug": slug}, key=f"review:{slug}:{stamp}")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(
    runtime: Runtime,
    queue: JobQueue,
    *,
    burst: bool = False,
    poll: float = 5.0,
    stop: threading.Event | None = None,
    on_job: Callable[[JobInfo], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Run due jobs until stopped (or, with burst, until none is due). Returns jobs run.

    SIGTERM or a first Ctrl+C stops the worker between jobs; a second Ctrl+C interrupts the
    job in hand (it runs again after its lease). Either way the count covers every job
    finished before the stop.
    """
    stop = stop or threading.Event()
    scheduler = Scheduler(runtime, queue)
    restore = _install_signal_handlers(stop)
    finished = 0

    def counted(job: JobInfo) -> None:
        nonlocal finished
        finished += 1
        if on_job:
            on_job(job)

    try:
        return queue.work(
            worker_id(),
            tick=lambda: scheduler.tick(clock()),
            burst=burst,
            poll=poll,
            stop=stop,
            on_job=counted,
        )
    except KeyboardInterrupt:
        # The interrupt unwinds past the queue's own count, so use the jobs reported here.
        return finished
    finally:
        restore()


def _install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    """Handlers for SIGTERM and SIGINT; returns what puts the previous ones back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_term(_signum: int, _frame: Any) -> None:
        stop.set()

    def on_int(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # asked twice: do not wait for the job in hand
        stop.set()

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, on_term),
        signal.SIGINT: signal.signal(signal.SIGINT, on_int),
    }

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore
