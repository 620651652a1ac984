"""Panel latency: wall time of a panel divided by its slowest single call.

A local OpenAI-compatible server answers every call after a latency that depends on the
critic (read from the system prompt), so the ideal panel takes as long as its slowest
critic. Ratio 1.0 is perfect concurrency; 7.0 would be fully serial. The panel runs with the
default settings and a hosted kind, as an operator with an API key gets it out of the box.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
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
from shiporskip.llm.registry import default_concurrency, parse_spec
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


async def _panel(rt: Any, slugs: list[str]) -> float:
    critics = rt.critics()
    started = time.perf_counter()
    async with open_panel(rt, critics) as panel:
        await asyncio.gather(*(panel.review(slug, critics, rerun=True) for slug in slugs))
    return time.perf_counter() - started


def run(repeats: int = 5) -> dict[str, Any]:
    """Default settings with a hosted kind (`openai`, here pointed at the latency server), and
    for comparison the same panel at the old default (4 calls in flight) and a local kind."""
    state = LatencyServer()
    base_url, server, thread = start_server(state)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            hosted = f"openai:bench@{base_url}"
            settings = load_settings(env={}, overrides={"data_dir": str(Path(tmp))})
            rt = open_runtime(replace(settings, model=hosted))
            for name in ("Bench One", "Bench Two"):
                rt.catalog.add(_tool(name))
            critics = len(rt.critics())
            default = default_concurrency(parse_spec(hosted), critics)
            local = default_concurrency(parse_spec(f"llamacpp:bench@{base_url}"), critics)
            slowest = max(DELAYS.values())
            setups = {
                "default": replace(settings, model=hosted),
                "before": replace(settings, model=hosted, llm_concurrency=4),
                "local": replace(settings, model=f"llamacpp:bench@{base_url}"),
            }
            for setup in setups.values():  # warm-up: imports, first connections
                rt.settings = setup
                asyncio.run(_panel(rt, ["bench-one"]))
            # Interleaved, so a busy moment on the machine falls on every setup alike.
            times: dict[str, list[float]] = {name: [] for name in setups}
            for _ in range(repeats):
                for name, setup in setups.items():
                    rt.settings = setup
                    times[name].append(asyncio.run(_panel(rt, ["bench-one"])))
            one = times["default"]
            results["panel_ratio"] = min(one) / slowest
            results["panel_ratio_median"] = statistics.median(one) / slowest
            results["panel_concurrency"] = default
            results["panel_ratio_before_median"] = statistics.median(times["before"]) / slowest
            results["panel_ratio_local_median"] = statistics.median(times["local"]) / slowest
            results["local_concurrency"] = local
            rt.settings = setups["default"]
            two = [asyncio.run(_panel(rt, ["bench-one", "bench-two"])) for _ in range(repeats)]
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


def section(result: dict[str, Any]) -> list[str]:
    """Markdown lines for docs/BENCHMARKS.md."""
    return [
        "## Panel latency",
        "",
        "A local OpenAI-compatible server answers each critic after its own latency "
        "(0.25–0.70 s). Ratio = panel wall time / slowest single call (1.0 is perfect "
        "concurrency, 7.0 fully serial). Default settings, the `openai` kind pointed at that "
        "server: a hosted kind, so every critic is in flight at once. Target ≤ 1.15.",
        "",
        "| Measure | Ratio |",
        "|---|---|",
        f"| Seven-critic panel, default settings (hosted kind, {result['panel_concurrency']} "
        f"in flight), best of 5 | {result['panel_ratio']:.3f} |",
        f"| The same, median of 5 | {result['panel_ratio_median']:.3f} |",
        "| The same panel at the old default (4 in flight), median of 5 | "
        f"{result['panel_ratio_before_median']:.3f} |",
        f"| A local kind (`llamacpp`) at its default ({result['local_concurrency']} in flight), "
        f"median of 5 | {result['panel_ratio_local_median']:.3f} |",
        f"| Two unreviewed tools (14 calls, concurrency {result['compare_concurrency']}) / "
        f"best possible schedule ({result['compare_ideal_s']:.2f} s) | "
        f"{result['compare_ratio_vs_ideal']:.3f} |",
        "",
    ]


def _ideal_makespan(delays: list[float], workers: int) -> float:
    """Longest-first greedy schedule: the best a bound of `workers` calls can do."""
    lanes = [0.0] * workers
    for delay in sorted(delays, reverse=True):
        lanes[lanes.index(min(lanes))] += delay
    return max(lanes)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
