"""Run the panel: every critic concurrently, each failure stored and shown, nothing sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from shiporskip.domain.panel import read_panel
from shiporskip.domain.quality import check, describe
from shiporskip.domain.reviews import (
    PanelSummary,
    ReviewDraft,
    ReviewRecord,
    review_json_schema,
)
from shiporskip.domain.tools import Tool
from shiporskip.llm.base import ChatMessage, CompletionRequest
from shiporskip.llm.registry import ModelSpec, estimate_cost
from shiporskip.llm.resilient import Attempted, CallFailed, Resilient
from shiporskip.panel.critics import Critic
from shiporskip.panel.parsing import ReviewParseError, parse_review
from shiporskip.panel.prompting import (
    Prompt,
    build_prompt,
    input_hash,
    prompt_version,
    repair_message,
)
from shiporskip.storage.catalog import CatalogStore
from shiporskip.storage.reviews import CurrentPanel, ReviewStore, attempt_of

State = Literal["queued", "running", "repairing", "done", "failed", "cached"]


@dataclass(frozen=True, slots=True)
class CriticJob:
    """Who answers for one critic: a wrapped provider and the spec it was built from."""

    caller: Resilient
    spec: ModelSpec


@dataclass(frozen=True, slots=True)
class PanelEvent:
    critic_id: str
    state: State
    record: ReviewRecord | None = None


@dataclass(slots=True)
class PanelRun:
    """One run: who was asked (`records`, `cached`) and the tool's panel after it.

    `critics`, `current` and `failed` cover the whole panel, not only the critics asked, so
    re-running one critic reports the tool's real state ("6 of 7 critics reported").
    """

    tool: Tool
    critics: list[Critic]
    records: dict[str, ReviewRecord] = field(default_factory=dict)
    cached: list[str] = field(default_factory=list)
    current: dict[str, ReviewRecord] = field(default_factory=dict)
    failed: dict[str, ReviewRecord] = field(default_factory=dict)

    panel: CurrentPanel | None = None  # the read model after the run (`domain/panel.py`)

    @property
    def summary(self) -> PanelSummary:
        if self.panel is not None:
            return self.panel.summary
        return panel_summary(self.critics, self.current, self.failed)


def panel_summary(
    critics: Sequence[Critic],
    current: Mapping[str, ReviewRecord],
    failed: Mapping[str, ReviewRecord],
) -> PanelSummary:
    """The read model's summary over these critics of the given records."""
    records = [*current.values(), *failed.values()]
    return read_panel([c.id for c in critics], [attempt_of(r) for r in records]).summary


@dataclass(frozen=True, slots=True)
class Rejection:
    """An answer that cannot be published: what the repair request says, what is stored."""

    feedback: str
    error: str


def accept(text: str, tool: Tool, prompt: Prompt) -> ReviewDraft | Rejection:
    """A review that parses and passes the quality gate, or why not."""
    try:
        draft = parse_review(text)
    except ReviewParseError as exc:
        return Rejection(str(exc), f"invalid output, also after one repair attempt: {exc}")
    failures = check(draft, tool=tool, prompt=prompt)
    if failures:
        reasons = describe(failures)
        return Rejection(
            f"it did not pass the quality gate ({reasons})", f"quality gate: {reasons}"
        )
    return draft


class Panel:
    def __init__(
        self,
        *,
        catalog: CatalogStore,
        reviews: ReviewStore,
        jobs: Mapping[str, CriticJob],
        prices: Mapping[str, tuple[float, float]],
        max_tokens: int = 1200,
        temperature: float = 0.4,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        whole_panel: Sequence[Critic] | None = None,
    ) -> None:
        """`whole_panel` is the configured panel that results are summarised over; without
        it, the critics asked in each run are taken as the panel."""
        self.catalog = catalog
        self.reviews = reviews
        self.jobs = jobs
        self.prices = prices
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.clock = clock
        self.whole_panel = list(whole_panel) if whole_panel is not None else None

    async def review(
        self,
        slug: str,
        critics: Sequence[Critic],
        *,
        rerun: bool = False,
        on_event: Callable[[PanelEvent], None] | None = None,
    ) -> PanelRun:
        """Review one tool with these critics, concurrently. Stored whether or not all answer."""
        tool = self.catalog.get(slug)
        tool_id = self.catalog.tool_id(slug)
        members = list(critics)
        if self.whole_panel is not None:
            known = {c.id for c in self.whole_panel}
            members = [*self.whole_panel, *(c for c in critics if c.id not in known)]
        run = PanelRun(tool=tool, critics=members)
        emit = on_event or (lambda _event: None)
        for critic in critics:
            emit(PanelEvent(critic.id, "queued"))

        async def one(critic: Critic) -> None:
            record = await self._review_one(tool, tool_id, critic, rerun, emit)
            if record is None:
                run.cached.append(critic.id)
            else:
                run.records[critic.id] = record

        try:
            await asyncio.gather(*(one(c) for c in critics))
        finally:
            written = [r.id for r in run.records.values() if r.id is not None]
            self.reviews.record_history(tool_id, written)
        run.panel = self.reviews.panel(slug, [c.id for c in members])
        run.current = run.panel.current
        run.failed = run.panel.failed
        return run

    async def _review_one(
        self,
        tool: Tool,
        tool_id: int,
        critic: Critic,
        rerun: bool,
        emit: Callable[[PanelEvent], None],
    ) -> ReviewRecord | None:
        job = self.jobs[critic.id]
        label = job.spec.label
        fingerprint = input_hash(tool, critic, label)
        if not rerun and self.reviews.has_ok(tool_id, critic.id, fingerprint):
            emit(PanelEvent(critic.id, "cached"))
            return None
        emit(PanelEvent(critic.id, "running"))
        prompt = build_prompt(tool, critic, today=self.clock().date())
        schema = review_json_schema()
        if critic.prediction == "never":
            schema["properties"].pop("prediction")
        request = CompletionRequest(
            system=prompt.system,
            messages=(ChatMessage("user", prompt.user),),
            schema=schema,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
        )
        base: dict[str, Any] = {
            "tool_slug": tool.slug,
            "critic_id": critic.id,
            "provider": job.spec.kind,
            "model": label,
            "prompt_version": prompt_version(critic),
            "input_hash": fingerprint,
            "params": {
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "structured_output": getattr(job.caller.provider, "mode", "native"),
            },
        }
        calls: list[Attempted] = []
        raws: list[str] = []
        draft: ReviewDraft | None = None
        error: str | None = None
        try:
            calls.append(await job.caller.complete(request))
            raws.append(calls[-1].completion.text)
            first = accept(raws[-1], tool, prompt)
            if isinstance(first, Rejection):
                emit(PanelEvent(critic.id, "repairing"))
                repair = CompletionRequest(
                    system=request.system,
                    messages=(
                        *request.messages,
                        ChatMessage("assistant", raws[-1][:4000]),
                        ChatMessage("user", repair_message(critic, first.feedback)),
                    ),
                    schema=request.schema,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                )
                calls.append(await job.caller.complete(repair))
                raws.append(calls[-1].completion.text)
                second = accept(raws[-1], tool, prompt)
                if isinstance(second, Rejection):
                    error = second.error
                else:
                    draft = second
            else:
                draft = first
        except CallFailed as exc:
            error = str(exc)
            attempts_failed = exc.attempts
        else:
            attempts_failed = 0
        record = ReviewRecord(
            **base,
            status="ok" if draft is not None else "failed",
            draft=draft,
            raw_output="\n--- repair ---\n".join(raws) if raws else None,
            error=error,
            notes=tuple(draft.quality_notes(wants_prediction=critic.prediction)) if draft else (),
            **self._usage(job.spec, calls, attempts_failed),
            created_at=self.clock(),
        )
        record = replace(record, id=self.reviews.add(record, tool_id, history=False))
        emit(PanelEvent(critic.id, "done" if record.ok else "failed", record))
        return record

    def _usage(
        self, spec: ModelSpec, calls: list[Attempted], attempts_failed: int
    ) -> dict[str, Any]:
        tokens_in = [c.completion.input_tokens for c in calls]
        tokens_out = [c.completion.output_tokens for c in calls]
        known = calls and all(t is not None for t in tokens_in + tokens_out)
        total_in = sum(t or 0 for t in tokens_in) if known else None
        total_out = sum(t or 0 for t in tokens_out) if known else None
        return {
            "input_tokens": total_in,
            "output_tokens": total_out,
            "cost_usd": estimate_cost(self.prices, spec, total_in, total_out) if calls else None,
            "latency_ms": sum(c.latency_ms for c in calls) if calls else None,
            "attempts": sum(c.attempts for c in calls) + attempts_failed,
        }
