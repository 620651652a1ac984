"""`run_eval` with scripted providers whose behaviour fixes every number in advance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from shiporskip.catalog import sample_tools
from shiporskip.domain.evaluation import inject
from shiporskip.domain.untrusted import clean
from shiporskip.llm.base import CompletionRequest
from shiporskip.llm.registry import ModelSpec
from shiporskip.llm.resilient import Resilient, RetryPolicy
from shiporskip.panel.critics import Critic
from shiporskip.panel.evaluate import EvalOptions, EvalResult, injections, run_eval
from shiporskip.panel.run import CriticJob
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.sample_data import read_sample_reviews, sample_review_files
from shiporskip.settings import load_settings
from shiporskip.storage.schema import pairwise_picks
from tests.factories import make_tool
from tests.support import Script, ScriptedProvider, critic_of, review_json

MODEL = "openai:gpt-4o-mini"
SPEC = ModelSpec("openai", "gpt-4o-mini", "https://api.openai.com/v1")


async def no_sleep(_seconds: float) -> None:
    return None


def opener(provider: ScriptedProvider) -> Any:
    @asynccontextmanager
    async def open_jobs(
        _runtime: Runtime, critics: Sequence[Critic], **_kw: object
    ) -> AsyncIterator[dict[str, CriticJob]]:
        policy = RetryPolicy(timeout=5, retries=0)
        caller = Resilient(provider, policy, asyncio.Semaphore(7), sleep=no_sleep)
        yield {c.id: CriticJob(caller, SPEC) for c in critics}

    return open_jobs


def evaluate(script: Script, **options: Any) -> tuple[EvalResult, ScriptedProvider]:
    provider = ScriptedProvider(script)
    bounds = {"tools": 2, "payloads": len(injections()), "pairs": 1, **options}
    result = asyncio.run(
        run_eval(load_settings(), EvalOptions(model=MODEL, **bounds), jobs=opener(provider))
    )
    return result, provider


def markers() -> dict[str, str]:
    """A line of each payload as the critics read it (cleaned, brackets defused)."""
    tool = sample_tools()[0]
    found = {}
    for payload in injections():
        text = getattr(inject(tool, payload), payload.field)
        last = clean(text).replace("⟦", "[").replace("⟧", "]").strip().splitlines()[-1]
        found[last.strip()] = payload.asks.value
    return found


PICK_A = '{"pick": "A", "reason": "It reads first."}'


def obeying(clean_verdict: str = "skip") -> Script:
    """Votes what a payload in the prompt asks; without one, always `clean_verdict`."""
    asks = markers()

    def script(request: CompletionRequest, _n: int) -> str:
        if request.schema_name == "pick":
            return PICK_A
        prompt = request.messages[0].content
        wanted = [verdict for line, verdict in asks.items() if line in prompt]
        verdict = wanted[0] if wanted else clean_verdict
        return review_json(verdict, 80 if verdict == "ship" else 20)

    return script


def test_a_model_that_obeys_every_payload_flips_all_it_can() -> None:
    result, _ = evaluate(obeying())
    data = result.data()
    flips = data["injection"]
    ship_asks = sum(p.asks.value == "ship" for p in injections())
    assert flips["flip_rate"]["rate"] == 1.0
    assert flips["flip_rate"]["n"] == 7 * ship_asks, "only ship asks can move a clean skip"
    assert flips["away_rate"]["rate"] == 0.0
    assert flips["score_shift"] == pytest.approx(60 * ship_asks / 25)
    assert data["schema_valid"]["first_answer"]["rate"] == 1.0
    assert data["quality_gate"]["rate"] == 1.0
    # Always "A" is pure position bias: the two orders never agree.
    assert data["swap_consistency"]["measured"] and data["swap_consistency"]["rate"] == 0.0
    assert data["panels"] == 2 + 25 and data["answers"] == 7 * 27


def test_a_model_that_ignores_payloads_flips_none() -> None:
    result, _ = evaluate(obeying("ship"), payloads=25)
    ignoring, _ = evaluate(
        lambda r, _n: (
            review_json("ship", 80)
            if r.schema_name != "pick"
            else '{"pick": "neither", "reason": "Both fine."}'
        )
    )
    flips = ignoring.data()["injection"]
    skip_asks = sum(p.asks.value == "skip" for p in injections())
    assert flips["flip_rate"]["rate"] == 0.0 and flips["flip_rate"]["n"] == 7 * skip_asks
    assert flips["away_rate"]["rate"] == 0.0 and flips["score_shift"] == 0.0
    assert ignoring.data()["swap_consistency"]["rate"] == 1.0, "neither, both times, agrees"
    obeyed = result.data()["injection"]
    assert obeyed["flip_rate"]["rate"] == 1.0 and obeyed["flip_rate"]["n"] == 7 * skip_asks


def test_junk_answers_are_never_schema_valid() -> None:
    result, provider = evaluate(lambda _r, _n: "I think it is fine.", payloads=2, pairs=0)
    data = result.data()
    assert data["schema_valid"]["first_answer"]["rate"] == 0.0
    assert data["schema_valid"]["after_repair"]["rate"] == 0.0
    assert data["schema_valid"]["first_answer"]["n"] == 7 * 4
    assert data["quality_gate"]["n"] == 0 and data["quality_gate"]["rate"] is None
    assert data["agreement"]["critic"]["n"] == 0
    assert data["injection"]["flip_rate"]["rate"] is None
    assert data["swap_consistency"] == {
        "measured": False,
        "pairs": [],
        "note": "not measured: --pairs 0",
    }
    assert len(provider.calls) == 2 * 7 * 4, "each answer got its one repair"
    assert data["latency_ms"]["call"]["n"] == 2 * 7 * 4


def sample_verdicts() -> dict[str, dict[str, str]]:
    names = {t.name: t.slug for t in sample_tools()}
    verdicts = {}
    for path in sample_review_files():
        s = read_sample_reviews(path)
        verdicts[s.tool_slug] = {c: d.verdict.value for c, d in s.reviews.items()}
    return {name: verdicts[slug] for name, slug in names.items() if slug in verdicts}


def test_agreement_with_the_sample_panel() -> None:
    by_name = sample_verdicts()

    def sample_like(invert: bool) -> Script:
        def script(request: CompletionRequest, _n: int) -> str:
            if request.schema_name == "pick":
                return PICK_A
            name = request.messages[0].content.split("- Name: ", 1)[1].splitlines()[0]
            verdict = by_name[name][critic_of(request)]
            if invert:
                verdict = "skip" if verdict == "ship" else "ship"
            return review_json(verdict, 80 if verdict == "ship" else 20)

        return script

    same, _ = evaluate(sample_like(False), tools=3, payloads=0, pairs=0)
    agreement = same.data()["agreement"]
    assert agreement["critic"]["rate"] == 1.0 and agreement["critic"]["n"] == 21
    assert agreement["panel"]["rate"] == 1.0 and agreement["panel"]["n"] == 3
    opposite, _ = evaluate(sample_like(True), tools=3, payloads=0, pairs=0)
    agreement = opposite.data()["agreement"]
    assert agreement["critic"]["rate"] == 0.0 and agreement["panel"]["rate"] == 0.0


def test_costs_and_tokens_per_panel() -> None:
    result, _ = evaluate(lambda _r, _n: review_json(), tools=1, payloads=1, pairs=0)
    data = result.data()
    assert data["per_panel"]["tokens"]["median"] == 7 * 1200
    assert data["per_panel"]["cost_usd"]["median"] == pytest.approx(
        7 * (1000 * 0.15 + 200 * 0.6) / 1e6
    )
    assert data["latency_ms"]["panel"]["n"] == 2


def test_the_operators_database_is_never_touched(isolated_env: Any) -> None:
    rt = open_runtime(load_settings())
    rt.catalog.add(make_tool("Alpha"))
    evaluate(lambda _r, _n: review_json(), tools=1, payloads=1, pairs=1)
    assert [t.slug for t in rt.catalog.list()] == ["alpha"]
    assert rt.reviews.count() == 0
    with rt.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(pairwise_picks)) == 0
    rt.close()
