"""Build a panel from settings: one provider per distinct model, one shared concurrency bound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from shiporskip.llm.base import Provider
from shiporskip.llm.registry import ModelSpec, build_provider, critic_specs, price_table
from shiporskip.llm.resilient import Resilient, RetryPolicy
from shiporskip.panel.critics import Critic
from shiporskip.panel.pairwise import MAX_TOKENS, Pairwise
from shiporskip.panel.run import CriticJob, Panel
from shiporskip.runtime import Runtime


def retry_policy(runtime: Runtime) -> RetryPolicy:
    s = runtime.settings
    return RetryPolicy(timeout=s.llm_timeout, retries=s.llm_retries)


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
    semaphore = asyncio.Semaphore(settings.llm_concurrency)
    policy = retry_policy(runtime)
    callers = {spec: Resilient(p, policy, semaphore) for spec, p in providers.items()}
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
