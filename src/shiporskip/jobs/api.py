"""The job API every engine implements, and the task registry the engines share."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shiporskip.runtime import Runtime

TaskFunction = Callable[[Runtime, dict[str, Any]], str]
TASKS: dict[str, TaskFunction] = {}


def task(name: str) -> Callable[[TaskFunction], TaskFunction]:
    """Register a task under a stable name; its return value is a one-line result."""

    def register(function: TaskFunction) -> TaskFunction:
        TASKS[name] = function
        return function

    return register


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: int
    task: str
    args: dict[str, Any]
    key: str | None
    status: str  # queued, running, done, parked
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime | None
    run_after: datetime | None = None


class JobQueue(Protocol):
    """What the worker, the scheduler, the CLI and the admin area need from an engine."""

    engine_name: str

    def enqueue(self, task: str, args: dict[str, Any], *, key: str | None = None) -> int | None:
        """Queue a job; None when a job with the same key already exists."""
        ...

    def run_one(self, worker_id: str) -> JobInfo | None:
        """Claim and run the next due job; None when there is nothing to do."""
        ...

    def list(self, status: str | None = None, limit: int = 100) -> list[JobInfo]: ...

    def retry(self, job_id: int) -> None:
        """Queue a parked job again with a fresh attempt budget."""
        ...

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
        """Run jobs until `stop` is set (or none is due, with burst); call `tick` between."""
        ...


def backoff(attempt: int, base: float, cap: float = 6 * 3600.0) -> float:
    """Seconds before retry `attempt` (1-based): exponential with ±25% jitter."""
    delay = min(cap, base * 2 ** (attempt - 1))
    return float(delay * random.uniform(0.75, 1.25))
