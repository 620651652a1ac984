"""A real OpenAI-compatible HTTP server that the tests script, to inject faults.

Each request takes the next behaviour from a queue (the last one repeats):
  ("ok", text)             200 with a chat completion whose content is `text`
  ("status", code, headers) an error status with optional headers (e.g. Retry-After)
  ("sleep", seconds)       answer only after `seconds` (to trip the client timeout)
  ("garbage",)             200 with a body that is not JSON
  ("quote_key", code)      an error status whose message quotes the Authorization header
  ("truncate", text)       a streamed answer cut off mid-way, without a finish reason
  ("stream", text)         a complete streamed answer
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

Behaviour = tuple[Any, ...]


def completion_body(text: str, model: str = "scripted") -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


def _chunk(text: str | None, finish: str | None) -> str:
    delta = {"content": text} if text is not None else {}
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


@dataclass
class FaultServer:
    script: list[Behaviour] = field(default_factory=lambda: [("ok", "{}")])
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # lower-case names
    base_url: str = ""
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self.script = list(behaviours)
            self.requests.clear()
            self.headers.clear()
            self.max_in_flight = 0

    def _next(self) -> Behaviour:
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(self._next(), body)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _answer(self, behaviour: Behaviour, body: dict[str, Any]) -> Response:
        kind = behaviour[0]
        if kind == "ok":
            if len(behaviour) > 2:
                await asyncio.sleep(behaviour[2])
            return JSONResponse(completion_body(behaviour[1], body.get("model", "scripted")))
        if kind == "status":
            headers = behaviour[2] if len(behaviour) > 2 else {}
            payload = {"error": {"message": f"scripted {behaviour[1]}"}}
            return JSONResponse(payload, status_code=behaviour[1], headers=headers)
        if kind == "quote_key":  # a careless server that quotes the key in its error
            quoted = self.headers[-1].get("authorization", "")
            payload = {"error": {"message": f"bad request from {quoted}"}}
            return JSONResponse(payload, status_code=behaviour[1])
        if kind == "sleep":
            await asyncio.sleep(behaviour[1])
            return JSONResponse(completion_body("{}"))
        if kind == "garbage":
            return PlainTextResponse(
                "<html>502 proxy error, not JSON", status_code=200, media_type="application/json"
            )
        if kind in ("truncate", "stream"):
            text: str = behaviour[1]

            async def events() -> AsyncIterator[str]:
                half = len(text) // 2
                yield _chunk(text[:half], None)
                if kind == "stream":
                    yield _chunk(text[half:], None)
                    yield _chunk(None, "stop")
                    yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        raise AssertionError(f"unknown behaviour {behaviour!r}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(server: FaultServer) -> Iterator[FaultServer]:
    """Run the scripted server on a free loopback port in a background thread."""

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", server.chat, methods=["POST"]),
            Route("/v1/models", models),
        ]
    )
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("scripted server did not start")
        time.sleep(0.02)
    server.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        uv.should_exit = True
        thread.join(timeout=5)
