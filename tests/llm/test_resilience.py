"""Resilience against a real local HTTP server that injects faults.

The OpenAI-compatible adapter talks to `fault_server.FaultServer` over loopback; only the
sleeps between retries are recorded instead of waited, so the tests stay fast while the
waits they would have taken are checked exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from shiporskip.llm.base import ChatMessage, CompletionRequest, StructuredMode
from shiporskip.llm.openai_compat import OpenAICompatible, parse_retry_after
from shiporskip.llm.resilient import Attempted, CallFailed, Resilient, RetryPolicy
from tests.llm.fault_server import FaultServer, serve
from tests.support import review_json

REQUEST = CompletionRequest(
    system="You are a critic.",
    messages=(ChatMessage("user", "Review it."),),
    schema={"type": "object"},
)


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


class Recorder:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def call(
    server: FaultServer,
    *,
    retries: int = 3,
    timeout: float = 5.0,
    stream: bool = False,
    mode: StructuredMode = StructuredMode.json_schema,
) -> tuple[Attempted | CallFailed, Recorder]:
    recorder = Recorder()

    async def go() -> Attempted | CallFailed:
        provider = OpenAICompatible(
            "scripted", base_url=server.base_url, api_key="k", mode=mode, stream=stream
        )
        caller = Resilient(
            provider,
            RetryPolicy(timeout=timeout, retries=retries, base_delay=0.5, max_delay=8),
            asyncio.Semaphore(4),
            sleep=recorder,
            jitter=lambda: 0.5,
        )
        try:
            return await caller.complete(REQUEST)
        except CallFailed as exc:
            return exc
        finally:
            await provider.aclose()

    return asyncio.run(go()), recorder


def test_ok_answer_carries_text_and_usage(server: FaultServer) -> None:
    server.set(("ok", review_json()))
    result, recorder = call(server)
    assert isinstance(result, Attempted)
    assert result.completion.text == review_json()
    assert result.completion.input_tokens == 100 and result.completion.output_tokens == 50
    assert result.attempts == 1 and recorder.waits == []


def test_429_with_retry_after_is_honoured(server: FaultServer) -> None:
    server.set(("status", 429, {"Retry-After": "7"}), ("ok", review_json()))
    result, recorder = call(server)
    assert isinstance(result, Attempted) and result.attempts == 2
    assert recorder.waits == [7.0]


def test_5xx_retries_with_exponential_backoff(server: FaultServer) -> None:
    server.set(("status", 500), ("status", 502), ("status", 503), ("ok", review_json()))
    result, recorder = call(server)
    assert isinstance(result, Attempted) and result.attempts == 4
    assert recorder.waits == [0.5, 1.0, 2.0], "base 0.5 s doubling, jitter factor 1.0"


def test_gives_up_after_the_retry_budget_with_a_clear_message(server: FaultServer) -> None:
    server.set(("status", 503))
    result, recorder = call(server, retries=2)
    assert isinstance(result, CallFailed) and result.attempts == 3
    assert "failed after 3 attempts" in str(result) and "HTTP 503" in str(result)
    assert len(recorder.waits) == 2 and len(server.requests) == 3


def test_timeout_is_retried_then_reported(server: FaultServer) -> None:
    server.set(("sleep", 2.0))
    result, _ = call(server, retries=1, timeout=0.3)
    assert isinstance(result, CallFailed)
    assert "no answer within 0.3 s" in str(result)


def test_malformed_json_body_is_a_transient_error(server: FaultServer) -> None:
    server.set(("garbage",), ("ok", review_json()))
    result, _ = call(server)
    assert isinstance(result, Attempted) and result.attempts == 2


def test_truncated_stream_is_retried(server: FaultServer) -> None:
    server.set(("truncate", review_json()), ("stream", review_json()))
    result, _ = call(server, stream=True)
    assert isinstance(result, Attempted) and result.attempts == 2
    assert result.completion.text == review_json()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "rejected the API key (HTTP 401)"),
        (403, "rejected the API key (HTTP 403)"),
        (404, "does not serve model 'scripted'"),
        (400, "refused the request (HTTP 400"),
    ],
)
def test_permanent_errors_fail_at_once(server: FaultServer, status: int, message: str) -> None:
    server.set(("status", status))
    result, recorder = call(server)
    assert isinstance(result, CallFailed) and result.permanent
    assert message in str(result)
    assert recorder.waits == [] and len(server.requests) == 1


def test_unreachable_server_is_named(server: FaultServer) -> None:
    async def go() -> CallFailed:
        provider = OpenAICompatible(
            "m", base_url="http://127.0.0.1:9/v1", api_key=None, mode=StructuredMode.json_schema
        )
        caller = Resilient(provider, RetryPolicy(retries=1), asyncio.Semaphore(1), sleep=Recorder())
        with pytest.raises(CallFailed) as info:
            await caller.complete(REQUEST)
        return info.value

    assert "cannot reach http://127.0.0.1:9/v1" in str(asyncio.run(go()))


@pytest.mark.parametrize(
    ("mode", "key", "expected"),
    [
        (StructuredMode.json_schema, "response_format", "json_schema"),
        (StructuredMode.json_object_schema, "response_format", "json_object"),
        (StructuredMode.json_object, "response_format", "json_object"),
        (StructuredMode.tool, "tool_choice", "function"),
    ],
)
def test_structured_modes_send_what_each_server_expects(
    server: FaultServer, mode: StructuredMode, key: str, expected: str
) -> None:
    server.set(("ok", review_json()))
    call(server, mode=mode)
    sent = server.requests[0]
    assert sent[key]["type"] == expected
    if mode is StructuredMode.json_object_schema:
        assert sent["response_format"]["schema"] == {"type": "object"}


def test_grammar_mode_clamps_string_bounds(server: FaultServer) -> None:
    from shiporskip.domain.reviews import review_json_schema

    server.set(("ok", review_json()))

    async def go() -> None:
        provider = OpenAICompatible(
            "m", base_url=server.base_url, api_key=None, mode=StructuredMode.json_object_schema
        )
        request = CompletionRequest(
            system="s", messages=REQUEST.messages, schema=review_json_schema()
        )
        await provider.complete(request)
        await provider.aclose()

    asyncio.run(go())
    sent = server.requests[0]["response_format"]["schema"]
    assert sent["properties"]["body"]["maxLength"] == 1000
    assert sent["properties"]["one_liner"]["maxLength"] == 200


def test_retry_after_parsing() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
