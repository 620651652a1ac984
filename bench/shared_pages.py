"""Shared pages served by the app alone: the tool and compare pages against /healthz.

Side by side in one run of `shiporskip serve` (page cache on, sample catalog), wrk on
`/healthz`, a tool page and a compare page, as a returning visitor (with the visitor cookie)
and as a first visit (no cookie). The ratios page ÷ /healthz say what serving a kept page
costs beyond the framework's floor; they are comparable across machines and across
versions of the code, unlike raw rates on a shared machine.

Before pages were the same bytes for everyone, a kept page was filled in per request (the
visitor's CSRF token, pressed buttons, newsletter token: one read of their votes and two
signatures), and a first visit also minted a visitor id and its cookie. Run it against an
older tree to compare: `python -m bench.shared_pages --src /path/to/old/checkout/src`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.nginx_cache import free_port, wrk

PAGES = {"tool": "/tools/cursor", "compare": "/compare/aider-vs-cursor"}
ROUNDS = 3


@contextlib.contextmanager
def _serve(env: dict[str, str], port: int) -> Iterator[str]:
    command = [str(Path(sys.executable).with_name("shiporskip")), "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("shiporskip serve did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(src: str | None = None) -> dict[str, Any]:
    """The figures for the code in `src` (a checkout's `src` folder), or this tree's."""
    if shutil.which("wrk") is None:
        return {"skipped": "needs wrk (apt-get install wrk)"}
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
        env.update(SHIPORSKIP_DATA_DIR=str(Path(tmp) / "data"), SHIPORSKIP_LOG_LEVEL="warning")
        if src:
            env["PYTHONPATH"] = src
        with _serve(env, free_port()) as base:
            with httpx.Client(base_url=base, timeout=30) as client:
                client.get("/api/v1/session").raise_for_status()
                cookie = {"Cookie": f"sos_voter={client.cookies['sos_voter']}"}
                headers = {name: client.get(path).headers for name, path in PAGES.items()}
            visitors = {"returning": cookie, "first_visit": {}}
            # Rounds of healthz, tool, compare back to back, the ratio taken within each
            # round and the median kept: other load on the machine moves all three alike.
            rounds: dict[str, list[dict[str, float]]] = {who: [] for who in visitors}
            for _ in range(ROUNDS):
                for who, sent in visitors.items():
                    rates = {"healthz": wrk(base + "/healthz", sent)["rps"]}
                    for name, path in PAGES.items():
                        rates[name] = wrk(base + path, sent)["rps"]
                    rounds[who].append(rates)
    results = {
        who: {url: statistics.median(r[url] for r in runs) for url in ("healthz", *PAGES)}
        for who, runs in rounds.items()
    }
    ratios = {
        who: {name: statistics.median(r[name] / r["healthz"] for r in runs) for name in PAGES}
        for who, runs in rounds.items()
    }
    return {
        "pages": PAGES,
        "cache_control": {n: h.get("cache-control", "") for n, h in headers.items()},
        "results": results,
        "ratios": ratios,
    }


def section(result: dict[str, Any]) -> list[str]:
    lines = [
        "## Shared pages from the app alone",
        "",
        "wrk (1 thread, 32 connections, 4 s after a 1 s warm-up) against one "
        "`shiporskip serve` with its page cache: `/healthz`, the tool page and the compare "
        f"page back to back, as a returning visitor (cookie) and a first visit, {ROUNDS} "
        "rounds; medians of the rates and of each round's page ÷ `/healthz`.",
        "",
    ]
    if "skipped" in result:
        return [*lines, f"Not measured: {result['skipped']}.", ""]
    lines += [
        "| Visitor | /healthz req/s | tool req/s | tool ÷ healthz | compare req/s "
        "| compare ÷ healthz |",
        "|---|---|---|---|---|---|",
    ]
    for who, r in result["results"].items():
        ratio = result["ratios"][who]
        lines.append(
            f"| {who.replace('_', ' ')} | {r['healthz']:,.0f} | {r['tool']:,.0f} "
            f"| {ratio['tool']:.2f} | {r['compare']:,.0f} | {ratio['compare']:.2f} |"
        )
    lines += ["", f"Pages' Cache-Control: `{result['cache_control']['tool']}`.", ""]
    return lines


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="measure the code in this `src` folder instead")
    outcome = run(parser.parse_args().src)
    print(json.dumps(outcome, indent=2))
    print("\n".join(section(outcome)))
