"""`shiporskip eval`: run a model as the whole panel on sample tools and measure it.

Everything happens in a throwaway SQLite database in a temporary directory, loaded with the
sample catalog; the operator's database is never opened. The scoring itself is pure
(`domain/evaluation.py`); this module runs the panels and collects what they did.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from shiporskip import catalog as catalog_files
from shiporskip.domain.evaluation import (
    CLEAN,
    Answer,
    Injection,
    critic_agreement,
    flips,
    gate_pass,
    inject,
    panel_agreement,
    proportion_data,
    schema_valid,
    spread,
)
from shiporskip.domain.reviews import ReviewDraft, ReviewRecord, Verdict
from shiporskip.domain.stats import Proportion
from shiporskip.errors import UserError
from shiporskip.llm.base import Completion, CompletionRequest, Provider
from shiporskip.llm.registry import critic_specs, price_table
from shiporskip.llm.resilient import Resilient
from shiporskip.panel import pairwise
from shiporskip.panel.critics import Critic, find_critic
from shiporskip.panel.factory import open_jobs
from shiporskip.panel.parsing import ReviewParseError, parse_review
from shiporskip.panel.run import CriticJob, Panel, PanelEvent
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.sample_data import read_sample_reviews, sample_review_files
from shiporskip.settings import Settings, replace

Phase = Literal["clean", "pairs", "injection"]
# Who answers for each critic; tests pass a scripted one.
JobsOpener = Callable[..., AbstractAsyncContextManager[dict[str, CriticJob]]]
REPAIR_SEPARATOR = "\n--- repair ---\n"  # how `Panel` joins an answer and its repair
GATE_PREFIX = "quality gate"


@cache
def injections() -> tuple[Injection, ...]:
    """The fixed list of injection payloads, in order (`panel/injections.yaml`)."""
    text = resources.files("shiporskip.panel").joinpath("injections.yaml").read_text("utf-8")
    return tuple(Injection.model_validate(p) for p in yaml.safe_load(text)["payloads"])


@dataclass(frozen=True, slots=True)
class EvalOptions:
    model: str | None = None
    tools: int = 3
    payloads: int = len(injections())
    pairs: int = 1
    critics: tuple[str, ...] = ()  # only these critics (default: the whole panel)


@dataclass(frozen=True, slots=True)
class EvalEvent:
    """Progress: one more critic answered (or failed) in a phase."""

    phase: Phase
    done: int
    total: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class PanelCost:
    run: str
    tool: str
    wall_ms: int
    tokens: int | None
    cost_usd: float | None


@dataclass(slots=True)
class EvalResult:
    """What an eval run did; `data()` is the report's numbers."""

    model: str
    started_at: datetime
    options: EvalOptions
    tools: list[str]
    injection_tool: str
    payloads: list[Injection]
    sample: dict[str, dict[str, Verdict]]
    answers: list[Answer] = field(default_factory=list)
    call_ms: list[int] = field(default_factory=list)
    panels: list[PanelCost] = field(default_factory=list)
    swap: Proportion | None = None
    pairs: list[tuple[str, str, Proportion]] = field(default_factory=list)
    swap_note: str = ""
    wall_s: float = 0.0

    def data(self) -> dict[str, Any]:
        first, final = schema_valid(self.answers)
        tokens = [p.tokens for p in self.panels]
        costs = [p.cost_usd for p in self.panels]
        return {
            "model": self.model,
            "date": self.started_at.isoformat(timespec="seconds"),
            "wall_seconds": round(self.wall_s, 1),
            "tools": self.tools,
            "critics_per_panel": len({a.critic for a in self.answers}),
            "panels": len(self.panels),
            "answers": len(self.answers),
            "no_answer": sum(not a.answered for a in self.answers),
            "schema_valid": {
                "first_answer": proportion_data(first),
                "after_repair": proportion_data(final),
            },
            "quality_gate": proportion_data(gate_pass(self.answers)),
            "agreement": {
                "critic": proportion_data(critic_agreement(self._clean(), self.sample)),
                "panel": proportion_data(panel_agreement(self._clean(), self.sample)),
            },
            "swap_consistency": {
                "measured": self.swap is not None,
                **(proportion_data(self.swap) if self.swap is not None else {}),
                "pairs": [{"a": a, "b": b, **proportion_data(p)} for a, b, p in self.pairs],
                "note": self.swap_note,
            },
            "injection": {
                "tool": self.injection_tool,
                "payloads": [p.id for p in self.payloads],
                **flips(self.answers, self.payloads).data(),
            },
            "latency_ms": {
                "call": spread(self.call_ms).data(),
                "panel": spread(p.wall_ms for p in self.panels).data(),
            },
            "per_panel": {
                "tokens": spread(t for t in tokens if t is not None).data(),
                "cost_usd": (
                    None
                    if not costs or any(c is None for c in costs)
                    else spread(c for c in costs if c is not None).data()
                ),
            },
        }

    def _clean(self) -> list[Answer]:
        return [a for a in self.answers if a.run == CLEAN]


def _parses(text: str) -> ReviewDraft | None:
    try:
        return parse_review(text)
    except ReviewParseError:
        return None


def answer_of(run: str, record: ReviewRecord) -> Answer:
    """Read one stored attempt: did the model answer, parse at once, parse after repair."""
    raws = record.raw_output.split(REPAIR_SEPARATOR) if record.raw_output else []
    drafts = [_parses(raw) for raw in raws]
    parsed = [d for d in drafts if d is not None]
    draft = record.draft or (parsed[-1] if parsed else None)
    error = record.error or ""
    return Answer(
        run=run,
        tool=record.tool_slug,
        critic=record.critic_id,
        answered=bool(raws),
        valid_first=bool(drafts) and drafts[0] is not None,
        valid=bool(parsed) or record.draft is not None,
        published=record.ok,
        gate_failed=not record.ok and error.lower().startswith(GATE_PREFIX),
        verdict=draft.verdict if draft else None,
        score=draft.score if draft else None,
        error=record.error,
    )


class _Timed(Provider):
    """Times each call inside the concurrency bound (so queueing is not counted)."""

    def __init__(self, inner: Provider, sink: list[int]) -> None:
        super().__init__(inner.model)
        self.inner = inner
        self.sink = sink
        self.kind = inner.kind
        self.record = True
        if hasattr(inner, "mode"):
            self.mode = inner.mode

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        completion = await self.inner.complete(request)
        if self.record:
            self.sink.append(int((time.perf_counter() - started) * 1000))
        return completion

    def describe(self) -> str:
        return self.inner.describe()


def _timed_jobs(
    jobs: Mapping[str, CriticJob], sink: list[int]
) -> tuple[dict[str, CriticJob], list[_Timed]]:
    wrapped: dict[int, Resilient] = {}
    timers: list[_Timed] = []
    out = {}
    for critic_id, job in jobs.items():
        key = id(job.caller)
        if key not in wrapped:
            timer = _Timed(job.caller.provider, sink)
            timers.append(timer)
            wrapped[key] = Resilient(timer, job.caller.policy, job.caller.semaphore)
        out[critic_id] = CriticJob(wrapped[key], job.spec)
    return out, timers


def _sample_verdicts() -> dict[str, dict[str, Verdict]]:
    sample = {}
    for path in sample_review_files():
        reviews = read_sample_reviews(path)
        sample[reviews.tool_slug] = {c: d.verdict for c, d in reviews.reviews.items()}
    return sample


def check_options(options: EvalOptions, available: int) -> None:
    """Refuse bounds that cannot run, before any model is loaded."""
    if not 1 <= options.tools <= available:
        raise UserError(f"--tools must be between 1 and {available} (the sample tools reviewed)")
    if not 0 <= options.payloads <= len(injections()):
        raise UserError(f"--payloads must be between 0 and {len(injections())}")
    if not 0 <= options.pairs <= available - 1:
        raise UserError(f"--pairs must be between 0 and {available - 1}")


async def run_eval(
    settings: Settings,
    options: EvalOptions,
    *,
    env: Mapping[str, str] | None = None,
    on_event: Callable[[EvalEvent], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    jobs: JobsOpener = open_jobs,
) -> EvalResult:
    """Run the model as the panel on sample tools in a throwaway database and measure it."""
    sample = _sample_verdicts()
    check_options(options, len(sample))
    with tempfile.TemporaryDirectory(prefix="shiporskip-eval-") as tmp:
        database = f"sqlite:///{Path(tmp) / 'eval.db'}"
        rt = open_runtime(replace(settings, database_url=database))
        try:
            return await _run(rt, settings, options, sample, env, on_event, clock, jobs)
        finally:
            rt.close()


async def _run(
    rt: Runtime,
    settings: Settings,
    options: EvalOptions,
    sample: dict[str, dict[str, Verdict]],
    env: Mapping[str, str] | None,
    on_event: Callable[[EvalEvent], None] | None,
    clock: Callable[[], datetime],
    open_jobs: JobsOpener,
) -> EvalResult:
    catalog_files.load_sample_if_empty(rt.catalog)
    panel_critics = rt.critics()
    critics = [find_critic(panel_critics, c) for c in options.critics] or panel_critics
    known = [slug for slug in sample if rt.catalog.find(slug) is not None]
    specs = critic_specs(settings, [c.id for c in panel_critics], options.model)
    if any(s.kind == "gguf" for s in specs.values()):
        # llama.cpp in-process answers one call at a time anyway; one at a time also keeps
        # the per-call latency free of time spent waiting for the model.
        rt = replace_settings(rt, replace(settings, llm_concurrency=1))
    tools = known[: options.tools]
    payloads = list(injections()[: options.payloads])
    started = time.perf_counter()
    result = EvalResult(
        model=", ".join(sorted({s.label for s in specs.values()})),
        started_at=clock(),
        options=options,
        tools=tools,
        injection_tool=tools[0],
        payloads=payloads,
        sample={t: sample[t] for t in tools},
    )
    sizes = {
        "clean": len(tools) * len(critics),
        "pairs": options.pairs * len(critics),
        "injection": len(payloads) * len(critics),
    }
    counts = dict.fromkeys(sizes, 0)
    emit = on_event or (lambda _e: None)

    def step(phase: Phase, label: str) -> None:
        counts[phase] += 1
        emit(EvalEvent(phase, counts[phase], sizes[phase], label))

    async with open_jobs(rt, critics, model=options.model, env=env) as raw_jobs:
        jobs, timers = _timed_jobs(raw_jobs, result.call_ms)
        panel = Panel(
            catalog=rt.catalog,
            reviews=rt.reviews,
            jobs=jobs,
            prices=price_table(settings),
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            clock=clock,
            whole_panel=critics,
        )

        async def one_panel(run: str, slug: str, phase: Phase) -> dict[str, ReviewRecord]:
            def seen(event: PanelEvent) -> None:
                if event.state in ("done", "failed"):
                    step(phase, f"{run} · {slug} · {event.critic_id}")

            begun = time.perf_counter()
            done = await panel.review(slug, critics, rerun=True, on_event=seen)
            records = list(done.records.values())
            result.answers += [answer_of(run, r) for r in records]
            tokens = [(r.input_tokens, r.output_tokens) for r in records]
            costs = [r.cost_usd for r in records]
            result.panels.append(
                PanelCost(
                    run=run,
                    tool=slug,
                    wall_ms=int((time.perf_counter() - begun) * 1000),
                    tokens=None
                    if any(i is None or o is None for i, o in tokens)
                    else sum((i or 0) + (o or 0) for i, o in tokens),
                    cost_usd=None if any(c is None for c in costs) else sum(c or 0 for c in costs),
                )
            )
            return done.records

        for index, slug in enumerate(tools):
            records = await one_panel(CLEAN, slug, "clean")
            if index == 0 and not any(a.answered for a in result.answers):
                errors = sorted({r.error or "" for r in records.values()})
                raise UserError(f"the model did not answer: {errors[0] or 'no output'}")

        for timer in timers:
            timer.record = False  # pairwise calls are short; call latency is of reviews
        await _pairs(rt, result, jobs, critics, known, options, settings, step)
        for timer in timers:
            timer.record = True

        target = tools[0]
        original = rt.catalog.get(target)
        for payload in payloads:
            rt.catalog.replace(target, inject(original, payload))
            await one_panel(payload.id, target, "injection")
        rt.catalog.replace(target, original)
    result.wall_s = time.perf_counter() - started
    return result


def replace_settings(rt: Runtime, settings: Settings) -> Runtime:
    """The same runtime (engine and stores) read with other settings."""
    return dataclasses.replace(rt, settings=settings)


async def _pairs(
    rt: Runtime,
    result: EvalResult,
    jobs: Mapping[str, CriticJob],
    critics: Sequence[Critic],
    known: Sequence[str],
    options: EvalOptions,
    settings: Settings,
    step: Callable[[Phase, str], None],
) -> None:
    """Swap consistency: each critic picks between two sample tools, in both orders."""
    if options.pairs == 0:
        result.swap_note = "not measured: --pairs 0"
        return
    agreed = answered = 0
    for index in range(options.pairs):
        a, b = rt.catalog.get(known[index]), rt.catalog.get(known[index + 1])
        earlier = {
            c.id: {t.slug: pairwise.earlier_take(_clean_record(rt, t.slug, c.id)) for t in (a, b)}
            for c in critics
        }

        def seen(event: pairwise.PairwiseEvent, label: str = f"{a.slug} vs {b.slug}") -> None:
            if event.state in ("done", "failed") and event.order is None:
                step("pairs", f"{label} · {event.critic_id}")

        run = await pairwise.ask_pair(
            jobs,
            critics,
            a,
            b,
            earlier=earlier,
            prices=price_table(settings),
            max_tokens=min(settings.llm_max_tokens, pairwise.MAX_TOKENS),
            temperature=settings.llm_temperature,
            on_event=seen,
        )
        tally = run.tally
        agreed, answered = agreed + tally.agreed, answered + tally.answered
        result.pairs.append((run.a.slug, run.b.slug, Proportion(tally.agreed, tally.answered)))
    result.swap = Proportion(agreed, answered)


def _clean_record(rt: Runtime, slug: str, critic_id: str) -> ReviewRecord | None:
    """This eval's own review of a tool by a critic, if the clean run covered it."""
    current, _ = rt.reviews.current(slug)
    return current.get(critic_id)
