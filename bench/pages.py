"""Page serving: the tool and compare pages against the same server's trivial endpoint and
against a static file server serving the same HTML bytes, all in one run.

The site runs as `shiporskip serve --workers N` with the sample content (loaded into its
empty data dir at start-up), and a second time on the same data with the page cache off
(`SHIPORSKIP_PAGE_CACHE_MB=0`), so the cost of rendering is measured in the same run.
The pages are fetched once as one returning visitor (with a `sos_voter` cookie, as the
load then sends them) and written to a temp dir, which a
Starlette `StaticFiles` app serves under uvicorn with the same worker count. That static
server is chosen over `python -m http.server` because it shares everything with the site
except producing the page (same HTTP server, keep-alive, h11, worker processes): the ratio
then isolates the cost of the page itself. `http.server` speaks HTTP/1.0 without
keep-alive and would make every static request pay a new connection.

Two load generators, each in its own process with a fixed concurrency after a warm-up:
`wrk` (C, when installed) and an async httpx client. On a small machine the Python client
costs more CPU per request than the server, so it caps every endpoint near the same rate;
wrk's figures are the ones the targets are judged on when it is available.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import memory

TOOL = "/tools/claude-sonnet-4"
COMPARE = "/compare/claude-sonnet-4-vs-smolvlm2-2b"
CONCURRENCY = 32
SECONDS = 4.0
WARMUP = 1.0
ROOT = Path(__file__).parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server for {url} did not start")
        time.sleep(0.2)


@contextmanager
def _process(cmd: list[str], env: dict[str, str], ready: str) -> Any:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(ready, proc)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def static_app() -> Any:
    """The static file server: uvicorn factory serving BENCH_STATIC_DIR."""
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    directory = os.environ["BENCH_STATIC_DIR"]
    return Starlette(routes=[Mount("/", StaticFiles(directory=directory))])


# -- load generators -----------------------------------------------------------------------


async def _load(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Any:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:

        async def worker(until: float, record: bool) -> None:
            while time.perf_counter() < until:
                started = time.perf_counter()
                r = await client.get(url)
                if record:
                    latencies.append(time.perf_counter() - started)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        warm = time.perf_counter() + WARMUP
        await asyncio.gather(*(worker(warm, False) for _ in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(worker(started + seconds, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "requests": len(latencies),
        "statuses": statuses,
    }


def httpx_load(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Run the async httpx client in its own process."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.pages", "load", url, json.dumps(headers)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def wrk_load(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Run wrk (one thread, CONCURRENCY connections) after a warm-up run."""
    args = ["wrk", "-t1", f"-c{CONCURRENCY}", "--timeout", "30s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    subprocess.run([*args, f"-d{WARMUP:.0f}s", url], capture_output=True, check=True)
    out = subprocess.run(
        [*args, f"-d{SECONDS:.0f}s", url], capture_output=True, text=True, check=True
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)[ \t]*$", out, re.MULTILINE))
    if set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.MULTILINE)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "bad_status": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


# -- the run -------------------------------------------------------------------------------


def _fetch_pages(base: str) -> tuple[dict[str, str], dict[str, bytes], dict[str, str]]:
    """A returning visitor's cookie, the two pages as served to it, and their ETags."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/api/v1/session").raise_for_status()
        cookie = {"Cookie": f"sos_voter={client.cookies['sos_voter']}"}
        bodies, tags = {}, {}
        for name, path in (("tool", TOOL), ("compare", COMPARE)):
            r = client.get(path)
            r.raise_for_status()
            bodies[name], tags[name] = r.content, r.headers["etag"]
            again = client.get(path, headers={"If-None-Match": tags[name]})
            if again.status_code != 304:
                raise RuntimeError(f"{path} does not revalidate: {again.status_code}")
    return cookie, bodies, tags


def run_workers(workers: int, tools: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data, static = Path(tmp) / "data", Path(tmp) / "static"
        static.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
        env.update(SHIPORSKIP_DATA_DIR=str(data), SHIPORSKIP_LOG_LEVEL="warning")
        port, static_port = _port(), _port()
        base, static_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{static_port}"
        script = Path(sys.executable).with_name("shiporskip")
        serve = [str(script), "serve", "--port", str(port), "--workers", str(workers)]
        # The same site with the page cache off, on the same data: every request renders.
        plain_port = _port()
        plain_base = f"http://127.0.0.1:{plain_port}"
        plain = [str(script), "serve", "--port", str(plain_port), "--workers", str(workers)]
        plain_env = dict(env, SHIPORSKIP_PAGE_CACHE_MB="0")
        with (
            _process(serve, env, f"{base}/healthz") as site,
            _process(plain, plain_env, f"{plain_base}/healthz"),
        ):
            cookie, bodies, tags = _fetch_pages(base)
            for name, body in bodies.items():
                (static / f"{name}.html").write_bytes(body)
            static_env = dict(env, BENCH_STATIC_DIR=str(static), PYTHONPATH=str(ROOT))
            static_cmd = [
                *(sys.executable, "-m", "uvicorn", "bench.pages:static_app", "--factory"),
                *("--port", str(static_port), "--workers", str(workers)),
                *("--log-level", "warning"),
            ]
            with _process(static_cmd, static_env, f"{static_base}/tool.html"):
                same = all(
                    httpx.get(f"{static_base}/{n}.html").content == b for n, b in bodies.items()
                )
                targets = {
                    "healthz": (f"{base}/healthz", cookie),
                    "tool": (f"{base}{TOOL}", cookie),
                    "compare": (f"{base}{COMPARE}", cookie),
                    "tool 304": (f"{base}{TOOL}", {**cookie, "If-None-Match": tags["tool"]}),
                    "compare 304": (
                        f"{base}{COMPARE}",
                        {**cookie, "If-None-Match": tags["compare"]},
                    ),
                    "tool, rendered": (f"{plain_base}{TOOL}", cookie),
                    "compare, rendered": (f"{plain_base}{COMPARE}", cookie),
                    "static tool": (f"{static_base}/tool.html", {}),
                    "static compare": (f"{static_base}/compare.html", {}),
                }
                results: dict[str, dict[str, Any]] = {}
                for tool in tools:
                    load = wrk_load if tool == "wrk" else httpx_load
                    results[tool] = {name: load(url, h) for name, (url, h) in targets.items()}
            pids = memory.children(site.pid) if workers > 1 else [site.pid]
            peak = max(memory.vm_hwm(pid) for pid in pids)
    return {
        "workers": workers,
        "same_bytes": same,
        "page_bytes": {n: len(b) for n, b in bodies.items()},
        "results": results,
        "worker_peak_rss": peak,
    }


def run(workers: tuple[int, ...] = (1, 2)) -> list[dict[str, Any]]:
    tools = (["wrk"] if shutil.which("wrk") else []) + ["httpx"]
    return [run_workers(n, tools) for n in workers]


if __name__ == "__main__":
    if sys.argv[1:2] == ["load"]:
        url, headers = sys.argv[2], json.loads(sys.argv[3])
        print(json.dumps(asyncio.run(_load(url, headers, SECONDS, CONCURRENCY))))
    else:
        print(json.dumps(run(), indent=2))
