"""The Anthropic adapter against a local server speaking the Messages API."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shiporskip.llm.anthropic_provider import AnthropicProvider
from shiporskip.llm.base import ChatMessage, CompletionRequest, PermanentError, TransientError
from tests.llm.fault_server import _free_port
from tests.support import review_json


class MessagesServer:
    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        self.base_url = ""

    async def messages(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"body": body, "key": request.headers.get("x-api-key")})
        if self.status != 200:
            error = {"type": "error", "error": {"type": "x", "message": "scripted"}}
            return JSONResponse(error, status_code=self.status, headers=self.headers)
        return JSONResponse(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [
                    {
                        "type": "tool_use",
                        "id": "tu_1",
                        "name": "submit_review",
                        "input": json.loads(review_json("skip", 30)),
                    }
                ],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": {"input_tokens": 321, "output_tokens": 123},
            }
        )


@pytest.fixture(scope="module")
def server() -> Iterator[MessagesServer]:
    state = MessagesServer()
    app = Starlette(routes=[Route("/v1/messages", state.messages, methods=["POST"])])
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.02)
    state.base_url = f"http://127.0.0.1:{port}"
    yield state
    uv.should_exit = True
    thread.join(timeout=5)


REQUEST = CompletionRequest(
    system="You are a critic.",
    messages=(ChatMessage("user", "Review it."),),
    schema={"type": "object", "properties": {"verdict": {"type": "string"}}},
)


def complete(server: MessagesServer) -> Any:
    async def go() -> Any:
        provider = AnthropicProvider("claude-test", api_key="sk-ant-test", base_url=server.base_url)
        try:
            return await provider.complete(REQUEST)
        finally:
            await provider.aclose()

    return asyncio.run(go())


def test_review_arrives_through_a_forced_tool_call(server: MessagesServer) -> None:
    server.status = 200
    completion = complete(server)
    assert json.loads(completion.text)["verdict"] == "skip"
    assert (completion.input_tokens, completion.output_tokens) == (321, 123)
    sent = server.requests[-1]
    assert sent["key"] == "sk-ant-test"
    assert sent["body"]["tool_choice"] == {"type": "tool", "name": "submit_review"}
    assert sent["body"]["system"] == "You are a critic."


def test_rate_limit_is_transient_with_retry_after(server: MessagesServer) -> None:
    server.status, server.headers = 429, {"retry-after": "3"}
    with pytest.raises(TransientError) as info:
        complete(server)
    assert info.value.retry_after == 3.0


@pytest.mark.parametrize(("status", "message"), [(401, "rejected the API key"), (404, "no model")])
def test_permanent_errors(server: MessagesServer, status: int, message: str) -> None:
    server.status, server.headers = status, {}
    with pytest.raises(PermanentError, match=message):
        complete(server)
