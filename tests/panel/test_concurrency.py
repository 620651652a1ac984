"""Out of the box a hosted API gets every critic's call at once; a server you run gets a few.

The end-to-end cases count requests in flight on a real OpenAI-compatible HTTP server,
never time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shiporskip.domain.tools import Tool
from shiporskip.llm.registry import (
    LOCAL_CONCURRENCY,
    default_concurrency,
    is_hosted,
    parse_spec,
)
from shiporskip.panel.factory import bounds, open_panel
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from tests.llm.fault_server import FaultServer, completion_body, serve
from tests.support import review_json

CRITICS = 7  # the built-in panel

HOSTED = [
    "openai:gpt-4o-mini",
    "anthropic:claude-sonnet-4-0",
    "openai-compatible:llama-3.1-70b@https://api.together.xyz/v1",
    "openai-compatible:m@http://34.120.1.2:8000/v1",
    # the kind says it is OpenAI's API, e.g. through a gateway on this machine
    "openai:gpt-4o-mini@http://127.0.0.1:4000/v1",
]
LOCAL = [
    "ollama:llama3.1",
    "llamacpp:local",
    "vllm:m",
    "lmstudio:m",
    "gguf:/models/smollm2.gguf",
    "ollama:llama3.1@https://ollama.example.com/v1",
    "openai-compatible:m@http://127.0.0.1:8080/v1",
    "openai-compatible:m@http://localhost:8080/v1",
    "openai-compatible:m@http://192.168.1.20:8080/v1",
    "openai-compatible:m@http://[::1]:8080/v1",
    "openai-compatible:m@http://gpu-box:8000/v1",
    "openai-compatible:m@http://gpu.lan:8000/v1",
]


@pytest.mark.parametrize("text", HOSTED)
def test_a_hosted_api_takes_every_critic_at_once(text: str) -> None:
    spec = parse_spec(text)
    assert is_hosted(spec)
    assert default_concurrency(spec, CRITICS) >= CRITICS
    assert default_concurrency(spec, 12) >= 12, "a larger panel is still one round trip"


@pytest.mark.parametrize("text", LOCAL)
def test_a_server_you_run_keeps_a_few_slots(text: str) -> None:
    spec = parse_spec(text)
    assert not is_hosted(spec)
    assert default_concurrency(spec, CRITICS) == LOCAL_CONCURRENCY < CRITICS


def test_the_default_setting_decides_per_server() -> None:
    assert load_settings(env={}).llm_concurrency == 0
    hosted, local = parse_spec("openai:gpt-4o-mini"), parse_spec("ollama:llama3.1")
    other_local = parse_spec("ollama:qwen2.5")  # same server, another model
    limits = bounds(0, [hosted, local, other_local], CRITICS)
    assert limits[local] is limits[other_local], "models on one server share its slots"
    assert limits[hosted] is not limits[local]
    assert limits[hosted]._value == default_concurrency(hosted, CRITICS)
    assert limits[local]._value == LOCAL_CONCURRENCY


def test_a_set_concurrency_wins_and_is_shared() -> None:
    hosted, local = parse_spec("openai:gpt-4o-mini"), parse_spec("ollama:llama3.1")
    limits = bounds(2, [hosted, local], CRITICS)
    assert limits[hosted] is limits[local]
    assert limits[hosted]._value == 2
    settings = load_settings(env={"SHIPORSKIP_LLM_CONCURRENCY": "16"})
    assert settings.llm_concurrency == 16


class GatedServer(FaultServer):
    """Holds each call until `release_at` calls are in flight together (or 10 s passed),
    then answers every call after a short pause, so calls beyond a bound would overlap."""

    release_at: int = 1
    released: bool = False

    def reset(self, release_at: int) -> None:
        with self._lock:
            self.release_at, self.released, self.max_in_flight = release_at, False, 0

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            deadline = time.monotonic() + 10
            while not self.released and time.monotonic() < deadline:
                with self._lock:
                    self.released = self.in_flight >= self.release_at
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
            return JSONResponse(completion_body(review_json(), body.get("model", "scripted")))
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture(scope="module")
def server() -> Iterator[GatedServer]:
    gated = GatedServer()
    for _ in serve(gated):
        yield gated


def _review_with(model: str, server: GatedServer, expected: int, **overrides: object) -> int:
    """Review one tool with the whole panel; how many calls the server had in flight at once."""
    server.reset(expected)
    settings = load_settings(overrides={"model": model, "llm_retries": 0, **overrides})
    rt = open_runtime(settings)
    try:
        tool = Tool.model_validate(
            {
                "name": "Gate Tool",
                "vendor": "Tests",
                "homepage": "https://gate.example",
                "category": "developer-tools",
                "tagline": "A tool for counting calls in flight",
                "pricing": {"entry": "free"},
            }
        )
        rt.catalog.add(tool)
        critics = rt.critics()
        assert len(critics) == CRITICS

        async def review() -> None:
            async with open_panel(rt, critics) as panel:
                run = await panel.review("gate-tool", critics, rerun=True)
            assert len(run.records) == CRITICS and not run.failed

        asyncio.run(review())
    finally:
        rt.close()
    return server.max_in_flight


def test_by_default_a_hosted_kind_has_every_critic_in_flight_at_once(
    server: GatedServer,
) -> None:
    # The `openai` kind pointed at this server (as at a gateway): hosted by its kind.
    assert _review_with(f"openai:gpt-4o-mini@{server.base_url}", server, CRITICS) == CRITICS


def test_by_default_a_local_server_gets_its_few_slots(
    server: GatedServer,
) -> None:
    model = f"llamacpp:local@{server.base_url}"
    assert _review_with(model, server, LOCAL_CONCURRENCY) == LOCAL_CONCURRENCY


def test_a_set_concurrency_bounds_a_hosted_kind_too(
    server: GatedServer,
) -> None:
    model = f"openai:gpt-4o-mini@{server.base_url}"
    assert _review_with(model, server, 5, llm_concurrency=5) == 5
