"""Helpers shared by panel tests: a scripted in-process provider and valid review JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from shiporskip.llm.base import Completion, CompletionRequest, Provider

BODY = " ".join(["word"] * 100)


def review_json(verdict: str = "ship", score: int | None = None, **extra: Any) -> str:
    """A review that passes the quality gate; the score agrees with the verdict by default."""
    data: dict[str, Any] = {
        "verdict": verdict,
        "score": score if score is not None else (70 if verdict == "ship" else 30),
        "one_liner": f"A {verdict} from a scripted critic.",
        "body": BODY,
        "competitors": ["Rival One"],
        "prediction": {"claim": "It will still be maintained", "horizon_months": 12},
    }
    data.update(extra)
    return json.dumps(data)


Script = Callable[[CompletionRequest, int], str | Exception]


class ScriptedProvider(Provider):
    """Answers from a function of (request, call number); records calls and concurrency."""

    kind = "scripted"

    def __init__(self, script: Script, delay: float = 0.0, model: str = "scripted") -> None:
        super().__init__(model)
        self.script = script
        self.delay = delay
        self.calls: list[CompletionRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def complete(self, request: CompletionRequest) -> Completion:
        self.calls.append(request)
        number = len(self.calls)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            answer = self.script(request, number)
        finally:
            self.in_flight -= 1
        if isinstance(answer, Exception):
            raise answer
        return Completion(text=answer, model=self.model, input_tokens=1000, output_tokens=200)


def critic_of(request: CompletionRequest) -> str:
    """Which critic a request is for, read from the system prompt."""
    first_line = request.system.splitlines()[0]
    for critic in ("builder", "skeptic", "futurist", "buyer", "operator", "user", "scientist"):
        if critic.capitalize() in first_line:
            return critic
    raise AssertionError(first_line)


def always(text: str) -> Script:
    return lambda _request, _n: text
