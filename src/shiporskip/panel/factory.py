"""Build a panel from settings: one provider per distinct model, a calls-in-flight bound per
server (or one shared bound when llm_concurrency is set)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from shiporskip.llm.base import Provider
from shiporskip.llm.registry import (
    ModelSpec,
    build_provider,
    critic_specs,
    default_concurrency,
    destination,
    price_table,
)
from shiporskip.llm.resilient import Resilient, RetryPolicy
from shiporskip.panel.critics import Critic
from shiporskip.panel.pairwise import MAX_TOKENS, Pairwise
from shiporskip.panel.run import CriticJob, Panel
from shiporskip.runtime import Runtime


def retry_policy(runtime: Runtime) -> RetryPolicy:
    s = runtime.settings
    return RetryPolicy(timeout=s.llm_timeout, retries=s.llm_retries)


def bounds(
    concurrency: int, specs: Sequence[ModelSpec], critics: int
) -> dict[ModelSpec, asyncio.Semaphore]:
    """The calls-in-flight bound each model's calls wait on.

    A set llm_concurrency is one bound shared by every model. 0 gives each server its own
    bound, by what it can take (registry.default_concurrency): a hosted API every critic at
    once, a local server its usual few slots, whichever other servers the panel also uses.
    """
    if concurrency:
        shared = asyncio.Semaphore(concurrency)
        return dict.fromkeys(specs, shared)
    per_server: dict[str, asyncio.Semaphore] = {}
    for spec in specs:
        if destination(spec) not in per_server:
            per_server[destination(spec)] = asyncio.Semaphore(default_concurrency(spec, critics))
    return {spec: per_server[destination(spec)] for spec in specs}


@asynccontextmanager
async def open_jobs(
    runtime: Runtime,
    critics: Sequence[Critic],
    *,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[dict[str, CriticJob]]:
    """Who answers for each critic, wired to the configured models; providers closed on exit."""
    settings = runtime.settings
    specs = critic_specs(settings, [c.id for c in runtime.critics()], model)
    providers: dict[ModelSpec, Provider] = {}
    for critic in critics:
        spec = specs[critic.id]
        if spec not in providers:
            providers[spec] = build_provider(settings, spec, env)
    limits = bounds(settings.llm_concurrency, list(providers), len(specs))
    policy = retry_policy(runtime)
    callers = {spec: Resilient(p, policy, limits[spec]) for spec, p in providers.items()}
    try:
        yield {c.id: CriticJob(callers[specs[c.id]], specs[c.id]) for c in critics}
    finally:
        for provider in providers.values():
            await provider.aclose()


@asynccontextmanager
async def open_panel(
    runtime: Runtime,
    critics: Sequence[Critic],
    *,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Panel]:
    """A panel wired to the configured models; providers are closed on exit."""
    settings = runtime.settings
    async with open_jobs(runtime, critics, model=model, env=env) as jobs:
        yield Panel(
            catalog=runtime.catalog,
            reviews=runtime.reviews,
            jobs=jobs,
            prices=price_table(settings),
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            whole_panel=runtime.critics(),
        )


@asynccontextmanager
async def open_pairwise(
    runtime: Runtime,
    critics: Sequence[Critic],
    *,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Pairwise]:
    """Pairwise picks wired to the same models as the panel; providers closed on exit."""
    settings = runtime.settings
    async with open_jobs(runtime, critics, model=model, env=env) as jobs:
        yield Pairwise(
            catalog=runtime.catalog,
            reviews=runtime.reviews,
            picks=runtime.pairwise,
            jobs=jobs,
            prices=price_table(settings),
            max_tokens=min(settings.llm_max_tokens, MAX_TOKENS),
            temperature=settings.llm_temperature,
        )
