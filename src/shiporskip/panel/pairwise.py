"""Pairwise picks: each critic chooses between two tools, asked twice with the order swapped.

`ask_pair` asks and returns the records without storing anything (what an eval needs);
`Pairwise.compare` skips critics whose pick on the same inputs is stored, asks the rest and
stores every attempt.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from pydantic import ValidationError

from shiporskip.domain.categories import BY_SLUG
from shiporskip.domain.pairwise import (
    Choice,
    PairwiseAnswer,
    PairwiseTally,
    PickRecord,
    answer_json_schema,
    choice,
    job_of,
    pairwise_data,
    tally,
)
from shiporskip.domain.pricing import ENTRY_LABELS
from shiporskip.domain.reviews import ReviewRecord
from shiporskip.domain.tools import Tool
from shiporskip.domain.untrusted import Fence, clean
from shiporskip.errors import UserError
from shiporskip.llm.base import ChatMessage, CompletionRequest
from shiporskip.llm.registry import ModelSpec, estimate_cost
from shiporskip.llm.resilient import Attempted, CallFailed
from shiporskip.panel.critics import Critic
from shiporskip.panel.parsing import _candidates as json_candidates
from shiporskip.panel.run import CriticJob
from shiporskip.storage.catalog import CatalogStore
from shiporskip.storage.pairwise import PairwiseStore
from shiporskip.storage.reviews import ReviewStore

Order = Literal["first", "swapped"]
State = Literal["queued", "running", "repairing", "done", "failed", "cached"]
MAX_TOKENS = 300  # one letter and one sentence; a model that rambles past it is cut off

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@cache
def _source() -> str:
    return resources.files("shiporskip.prompts").joinpath("pairwise.yaml").read_text("utf-8")


@cache
def _templates() -> dict[str, Any]:
    data = yaml.safe_load(_source())
    return {key: _ENV.from_string(data[key]) for key in ("system", "user", "repair")}


def prompt_version(critic: Critic) -> str:
    """A short hash of the pairwise prompt and the critic's definition."""
    digest = hashlib.sha256(_source().encode())
    digest.update(json.dumps(critic.model_dump(mode="json"), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def earlier_take(record: ReviewRecord | None) -> str:
    """What the prompt says of the critic's own review: verdict and score, never its text."""
    if record is None or record.draft is None:
        return "you have not reviewed it"
    d = record.draft
    return f"{'Ship' if d.verdict.value == 'ship' else 'Skip'}, score {d.score} of 100"


def input_hash(
    a: Tool, b: Tool, critic: Critic, model_label: str, earlier: Mapping[str, str]
) -> str:
    """Same two tools, critic, prompt, model and the critic's own verdicts: not asked twice."""
    first, second = sorted((a, b), key=lambda t: t.slug)
    facts = [t.model_dump(mode="json", exclude={"sample"}) for t in (first, second)]
    takes = [earlier.get(t.slug, "") for t in (first, second)]
    payload = json.dumps(
        [facts, takes, critic.id, prompt_version(critic), model_label], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PairPrompt:
    system: str
    user: str
    fence: Fence


def build_prompt(
    critic: Critic,
    shown_a: Tool,
    shown_b: Tool,
    earlier: Mapping[str, str],
    *,
    fence: Fence | None = None,
) -> PairPrompt:
    """The messages for one order: `shown_a` is option A; maker text fenced per call."""
    fence = fence or Fence.new()
    options = []
    for letter, tool in (("A", shown_a), ("B", shown_b)):
        plans = [f"{clean(p.name)}: {p.describe()} ({p.period.value})" for p in tool.pricing.plans]
        options.append(
            {
                "letter": letter,
                "tool": tool.model_copy(
                    update={"name": clean(tool.name), "vendor": clean(tool.vendor)}
                ),
                "category": BY_SLUG[tool.category].name,
                "entry": ENTRY_LABELS[tool.pricing.entry],
                "plans": plans,
                "earlier": earlier.get(tool.slug, "you have not reviewed it"),
                "tagline": fence.wrap(f"option {letter} tagline", tool.tagline),
                "description": fence.wrap(
                    f"option {letter} description", tool.description or "(none)"
                ),
            }
        )
    context = {
        "critic": critic,
        "fence": fence,
        "job": job_of(shown_a.category, shown_b.category),
        "options": options,
    }
    templates = _templates()
    return PairPrompt(
        system=templates["system"].render(context).strip(),
        user=templates["user"].render(context).strip(),
        fence=fence,
    )


class AnswerParseError(ValueError):
    """Model output that is not a valid pick; the message is fed back for one repair."""


def parse_answer(text: str) -> PairwiseAnswer:
    """Find the JSON object in what a model wrote and validate it strictly."""
    if not text.strip():
        raise AnswerParseError("the answer was empty")
    data: Any = None
    for candidate in json_candidates(text):
        try:
            data = json.loads(candidate)
            break
        except json.JSONDecodeError:
            continue
    if not isinstance(data, dict):
        raise AnswerParseError("the answer is not a JSON object")
    try:
        return PairwiseAnswer.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'object'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise AnswerParseError(f"the JSON does not match the pick schema ({problems})") from None


@dataclass(frozen=True, slots=True)
class PairwiseEvent:
    critic_id: str
    state: State
    order: Order | None = None
    record: PickRecord | None = None


@dataclass(slots=True)
class PairwiseRun:
    """One run on a pair (a and b in slug order): who was asked, and the pair's picks after."""

    a: Tool
    b: Tool
    critics: list[Critic]
    records: dict[str, PickRecord] = field(default_factory=dict)
    cached: list[str] = field(default_factory=list)
    current: dict[str, PickRecord] = field(default_factory=dict)

    def ordered(self) -> list[PickRecord]:
        """The current picks in panel order."""
        return [self.current[c.id] for c in self.critics if c.id in self.current]

    @property
    def tally(self) -> PairwiseTally:
        return tally([r.pick for r in self.ordered()])

    @property
    def consistency(self) -> float | None:
        return self.tally.consistency

    def data(self) -> dict[str, Any]:
        """`{"picks": [{"critic", "first", "swapped", "kept"}], "consistency"}`."""
        return pairwise_data(self.ordered())


@dataclass(frozen=True, slots=True)
class _Answer:
    choice: Choice | None
    reason: str | None
    raw: str | None
    calls: tuple[Attempted, ...]
    error: str | None
    failed_attempts: int


async def _ask_order(
    job: CriticJob,
    critic: Critic,
    shown_a: Tool,
    shown_b: Tool,
    earlier: Mapping[str, str],
    swapped: bool,
    max_tokens: int,
    temperature: float,
    emit: Callable[[PairwiseEvent], None],
) -> _Answer:
    order: Order = "swapped" if swapped else "first"
    prompt = build_prompt(critic, shown_a, shown_b, earlier)
    request = CompletionRequest(
        system=prompt.system,
        messages=(ChatMessage("user", prompt.user),),
        schema=answer_json_schema(),
        schema_name="pick",
        max_tokens=max_tokens,
        temperature=temperature,
    )
    calls: list[Attempted] = []
    raws: list[str] = []
    try:
        calls.append(await job.caller.complete(request))
        raws.append(calls[-1].completion.text)
        try:
            answer = parse_answer(raws[-1])
        except AnswerParseError as first:
            emit(PairwiseEvent(critic.id, "repairing", order))
            repair = str(_templates()["repair"].render({"error": str(first)})).strip()
            retry = CompletionRequest(
                system=request.system,
                messages=(
                    *request.messages,
                    ChatMessage("assistant", raws[-1][:2000]),
                    ChatMessage("user", repair),
                ),
                schema=request.schema,
                schema_name=request.schema_name,
                max_tokens=max_tokens,
                temperature=temperature,
            )
            calls.append(await job.caller.complete(retry))
            raws.append(calls[-1].completion.text)
            answer = parse_answer(raws[-1])
    except CallFailed as exc:
        raw = "\n--- repair ---\n".join(raws) or None
        return _Answer(None, None, raw, tuple(calls), f"{order} order: {exc}", exc.attempts)
    except AnswerParseError as exc:
        error = f"{order} order: invalid output, also after one repair attempt: {exc}"
        return _Answer(None, None, "\n--- repair ---\n".join(raws), tuple(calls), error, 0)
    raw = "\n--- repair ---\n".join(raws)
    return _Answer(choice(answer.pick, swapped), answer.reason, raw, tuple(calls), None, 0)


async def ask_critic(
    job: CriticJob,
    critic: Critic,
    a: Tool,
    b: Tool,
    *,
    earlier: Mapping[str, str] | None = None,
    prices: Mapping[str, tuple[float, float]] | None = None,
    max_tokens: int = MAX_TOKENS,
    temperature: float = 0.4,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_event: Callable[[PairwiseEvent], None] | None = None,
) -> PickRecord:
    """Ask one critic both orders (a shown first, then b shown first), concurrently."""
    a, b = sorted((a, b), key=lambda t: t.slug)
    takes = dict(earlier or {})
    emit = on_event or (lambda _event: None)
    emit(PairwiseEvent(critic.id, "running"))
    first, second = await asyncio.gather(
        _ask_order(job, critic, a, b, takes, False, max_tokens, temperature, emit),
        _ask_order(job, critic, b, a, takes, True, max_tokens, temperature, emit),
    )
    calls = [*first.calls, *second.calls]
    errors = [e for e in (first.error, second.error) if e]
    record = PickRecord(
        a_slug=a.slug,
        b_slug=b.slug,
        critic_id=critic.id,
        status="failed" if errors else "ok",
        first=first.choice,
        swapped=second.choice,
        first_reason=first.reason,
        swapped_reason=second.reason,
        first_raw=first.raw,
        swapped_raw=second.raw,
        error="; ".join(errors) or None,
        provider=job.spec.kind,
        model=job.spec.label,
        prompt_version=prompt_version(critic),
        input_hash=input_hash(a, b, critic, job.spec.label, takes),
        params={
            "temperature": temperature,
            "max_tokens": max_tokens,
            "structured_output": getattr(job.caller.provider, "mode", "native"),
        },
        **_usage(job.spec, prices or {}, calls, first.failed_attempts + second.failed_attempts),
        created_at=clock(),
    )
    emit(PairwiseEvent(critic.id, "done" if record.ok else "failed", record=record))
    return record


async def ask_pair(
    jobs: Mapping[str, CriticJob],
    critics: Sequence[Critic],
    tool_a: Tool,
    tool_b: Tool,
    *,
    earlier: Mapping[str, Mapping[str, str]] | None = None,
    prices: Mapping[str, tuple[float, float]] | None = None,
    max_tokens: int = MAX_TOKENS,
    temperature: float = 0.4,
    on_event: Callable[[PairwiseEvent], None] | None = None,
) -> PairwiseRun:
    """Ask every critic about the pair, both orders, concurrently; nothing is stored.

    `earlier` maps critic id -> tool slug -> that critic's own take (see `earlier_take`).
    The run's `tally.consistency` is the swap consistency of these critics on this pair.
    """
    a, b = sorted((tool_a, tool_b), key=lambda t: t.slug)
    if a.slug == b.slug:
        raise UserError(f"both sides are {a.slug!r}; pick two different tools")
    run = PairwiseRun(a=a, b=b, critics=list(critics))

    async def one(critic: Critic) -> None:
        record = await ask_critic(
            jobs[critic.id],
            critic,
            a,
            b,
            earlier=(earlier or {}).get(critic.id),
            prices=prices,
            max_tokens=max_tokens,
            temperature=temperature,
            on_event=on_event,
        )
        run.records[critic.id] = run.current[critic.id] = record

    await asyncio.gather(*(one(c) for c in critics))
    return run


def _usage(
    spec: ModelSpec,
    prices: Mapping[str, tuple[float, float]],
    calls: list[Attempted],
    attempts_failed: int,
) -> dict[str, Any]:
    tokens_in = [c.completion.input_tokens for c in calls]
    tokens_out = [c.completion.output_tokens for c in calls]
    known = calls and all(t is not None for t in tokens_in + tokens_out)
    total_in = sum(t or 0 for t in tokens_in) if known else None
    total_out = sum(t or 0 for t in tokens_out) if known else None
    return {
        "input_tokens": total_in,
        "output_tokens": total_out,
        "cost_usd": estimate_cost(prices, spec, total_in, total_out) if calls else None,
        # Both orders run at once: the pick took as long as the slower of them.
        "latency_ms": max(c.latency_ms for c in calls) if calls else None,
        "attempts": sum(c.attempts for c in calls) + attempts_failed,
    }


class Pairwise:
    """Pairwise picks backed by the stores: cached per input hash, every attempt stored."""

    def __init__(
        self,
        *,
        catalog: CatalogStore,
        reviews: ReviewStore,
        picks: PairwiseStore,
        jobs: Mapping[str, CriticJob],
        prices: Mapping[str, tuple[float, float]],
        max_tokens: int = MAX_TOKENS,
        temperature: float = 0.4,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.catalog = catalog
        self.reviews = reviews
        self.picks = picks
        self.jobs = jobs
        self.prices = prices
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.clock = clock

    async def compare(
        self,
        x: str,
        y: str,
        critics: Sequence[Critic],
        *,
        rerun: bool = False,
        on_event: Callable[[PairwiseEvent], None] | None = None,
    ) -> PairwiseRun:
        """Ask the critics about tools x and y (either order); stored whether or not all answer."""
        if x == y:
            raise UserError(f"both sides are {x!r}; compare two different tools")
        a, b = sorted((self.catalog.get(x), self.catalog.get(y)), key=lambda t: t.slug)
        a_id, b_id = self.catalog.tool_id(a.slug), self.catalog.tool_id(b.slug)
        current_a, _ = self.reviews.current(a.slug)
        current_b, _ = self.reviews.current(b.slug)
        run = PairwiseRun(a=a, b=b, critics=list(critics))
        emit = on_event or (lambda _event: None)
        for critic in critics:
            emit(PairwiseEvent(critic.id, "queued"))

        async def one(critic: Critic) -> None:
            job = self.jobs[critic.id]
            takes = {
                a.slug: earlier_take(current_a.get(critic.id)),
                b.slug: earlier_take(current_b.get(critic.id)),
            }
            fingerprint = input_hash(a, b, critic, job.spec.label, takes)
            if not rerun and self.picks.has_ok(a_id, b_id, critic.id, fingerprint):
                run.cached.append(critic.id)
                emit(PairwiseEvent(critic.id, "cached"))
                return
            record = await ask_critic(
                job,
                critic,
                a,
                b,
                earlier=takes,
                prices=self.prices,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                clock=self.clock,
                on_event=emit,
            )
            self.picks.add(record, a_id, b_id)
            run.records[critic.id] = record

        await asyncio.gather(*(one(c) for c in critics))
        ids = {c.id for c in critics}
        run.current = {k: v for k, v in self.picks.current(a.slug, b.slug).items() if k in ids}
        return run
