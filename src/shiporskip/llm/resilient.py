"""Timeouts, retries with backoff and jitter, a concurrency bound and timing: around every
provider, once, instead of inside each adapter."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shiporskip.llm.base import (
    Completion,
    CompletionRequest,
    PermanentError,
    Provider,
    TransientError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    timeout: float = 120.0
    retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0


@dataclass(frozen=True, slots=True)
class Attempted:
    completion: Completion
    attempts: int
    latency_ms: int


class CallFailed(Exception):
    """Every attempt failed; `attempts` says how many were made."""

    def __init__(self, message: str, attempts: int, *, permanent: bool) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.permanent = permanent


class Resilient:
    """Wrap a provider with the panel's policy. Many wrappers may share one semaphore."""

    def __init__(
        self,
        provider: Provider,
        policy: RetryPolicy,
        semaphore: asyncio.Semaphore,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.provider = provider
        self.policy = policy
        self.semaphore = semaphore
        self._sleep = sleep
        self._jitter = jitter

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before the next attempt: the server's word, else backoff+jitter."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.policy.max_retry_after)
        backoff = min(self.policy.max_delay, self.policy.base_delay * 2**attempt)
        return float(backoff * (0.5 + self._jitter()))

    async def complete(self, request: CompletionRequest) -> Attempted:
        started = time.perf_counter()
        last = ""
        for attempt in range(self.policy.retries + 1):
            try:
                async with self.semaphore:
                    completion = await asyncio.wait_for(
                        self.provider.complete(request), self.policy.timeout
                    )
                latency = int((time.perf_counter() - started) * 1000)
                return Attempted(completion, attempt + 1, latency)
            except PermanentError as exc:
                raise CallFailed(str(exc), attempt + 1, permanent=True) from exc
            except TimeoutError:
                last = f"no answer within {self.policy.timeout:g} s"
                retry_after = None
            except TransientError as exc:
                last = str(exc)
                retry_after = exc.retry_after
            if attempt == self.policy.retries:
                break
            wait = self.delay(attempt, retry_after)
            log.info(
                "%s: attempt %d failed (%s); retrying in %.1f s",
                self.provider.describe(),
                attempt + 1,
                last,
                wait,
            )
            await self._sleep(wait)
        attempts = self.policy.retries + 1
        raise CallFailed(
            f"{self.provider.describe()} failed after {attempts} attempts: {last}",
            attempts,
            permanent=False,
        )
