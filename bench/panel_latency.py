"""Panel latency: wall time of a panel divided by its slowest single call.

A local OpenAI-compatible server answers every call after a latency that depends on the
critic (read from the system prompt), so the ideal panel takes as long as its slowest
critic. Ratio 1.0 is perfect concurrency; 7.0 would be fully serial.
"""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shiporskip.domain.tools import Tool
from shiporskip.panel.factory import open_panel
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings, replace

DELAYS = {
    "Builder": 0.30,
    "Skeptic": 0.45,
    "Futurist": 0.60,
    "Buyer": 0.35,
    "Operator": 0.50,
    "User": 0.25,
    "Scientist": 0.70,
}
BODY = " ".join(["measured"] * 100)


def _answer() -> str:
    return json.dumps(
        {"verdict": "ship", "score": 70, "one_liner": "ok", "body": BODY, "competitors": []}
    )


class LatencyServer:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        system = body["messages"][0]["content"]
        delay = next((d for name, d in DELAYS.items() if f"the {name}" in system), 0.4)
        await asyncio.sleep(delay)
        self.calls.append(delay)
        return JSONResponse(
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "bench",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": _answer()},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )


def start_server(state: LatencyServer) -> tuple[str, uvicorn.Server, threading.Thread]:
    app = Starlette(routes=[Route("/v1/chat/completions", state.chat, methods=["POST"])])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}/v1", server, thread


def _tool(name: str) -> Tool:
    return Tool.model_validate(
        {
            "name": name,
            "vendor": "Bench",
            "homepage": f"https://bench.example/{name.lower().replace(' ', '-')}",
            "category": "developer-tools",
            "tagline": "A tool for measuring the panel",
            "pricing": {"entry": "free"},
        }
    )


async def _panel(rt: Any, slugs: list[str], concurrency: int) -> float:
    critics = rt.critics()
    started = time.perf_counter()
    async with open_panel(rt, critics) as panel:
        await asyncio.gather(*(panel.review(slug, critics, rerun=True) for slug in slugs))
    return time.perf_counter() - started


def run(repeats: int = 5) -> dict[str, Any]:
    state = LatencyServer()
    base_url, server, thread = start_server(state)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(
                env={},
                overrides={
                    "data_dir": str(Path(tmp)),
                    "model": f"openai-compatible:bench@{base_url}",
                    "llm_concurrency": 8,
                },
            )
            rt = open_runtime(settings)
            for name in ("Bench One", "Bench Two"):
                rt.catalog.add(_tool(name))
            slowest = max(DELAYS.values())
            one = [asyncio.run(_panel(rt, ["bench-one"], 8)) for _ in range(repeats)]
            results["panel_ratio"] = min(one) / slowest
            results["panel_ratio_median"] = sorted(one)[len(one) // 2] / slowest
            default = load_settings(env={}).llm_concurrency
            rt.settings = replace(settings, llm_concurrency=default)
            two = [
                asyncio.run(_panel(rt, ["bench-one", "bench-two"], default)) for _ in range(repeats)
            ]
            ideal = _ideal_makespan(list(DELAYS.values()) * 2, default)
            results["compare_calls"] = 14
            results["compare_concurrency"] = default
            results["compare_ratio_vs_ideal"] = min(two) / ideal
            results["compare_ideal_s"] = ideal
            rt.close()
    finally:
        server.should_exit = True
        thread.join(timeout=5)
    return results


def _ideal_makespan(delays: list[float], workers: int) -> float:
    """Longest-first greedy schedule: the best a bound of `workers` calls can do."""
    lanes = [0.0] * workers
    for delay in sorted(delays, reverse=True):
        lanes[lanes.index(min(lanes))] += delay
    return max(lanes)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
