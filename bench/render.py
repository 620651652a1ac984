"""Rendering cost: the tool and compare pages rendered on every request, against `/healthz`.

One `shiporskip serve` (one worker) runs with the page cache off
(`SHIPORSKIP_PAGE_CACHE_MB=0`) on the sample content, so every page request builds its
context from the database and renders its template. Each ratio is that page's request rate
÷ the same server's `/healthz` rate, measured one after the other in the same run with the
same load generator and concurrency: what a cache miss costs against the cheapest answer
the server gives. wrk when installed, otherwise an async httpx client in its own process.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.pages import COMPARE, TOOL, _port, _process, httpx_load, wrk_load

TARGET = 0.1  # rendered tool page ÷ /healthz
ENDPOINTS = (("healthz", "/healthz"), ("tool", TOOL), ("compare", COMPARE))
# The machine is shared: each round measures the three endpoints back to back, and the
# ratios are the medians over the rounds, so a burst of other load moves one round only.
ROUNDS = 3


def _cookie(base: str) -> dict[str, str]:
    """A returning visitor's cookie, if the server gives one, as the pages bench sends it."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/api/v1/session")
        voter = client.cookies.get("sos_voter")
        for path in (TOOL, COMPARE):
            client.get(path).raise_for_status()
    return {"Cookie": f"sos_voter={voter}"} if voter else {}


def run() -> dict[str, Any]:
    load = wrk_load if shutil.which("wrk") else httpx_load
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
        env.update(
            SHIPORSKIP_DATA_DIR=str(Path(tmp) / "data"),
            SHIPORSKIP_LOG_LEVEL="warning",
            SHIPORSKIP_PAGE_CACHE_MB="0",
        )
        port = _port()
        base = f"http://127.0.0.1:{port}"
        script = Path(sys.executable).with_name("shiporskip")
        serve = [str(script), "serve", "--port", str(port), "--workers", "1"]
        with _process(serve, env, f"{base}/healthz"):
            headers = _cookie(base)
            rounds = [
                {name: load(f"{base}{path}", headers) for name, path in ENDPOINTS}
                for _ in range(ROUNDS)
            ]
    ratios = {
        name: statistics.median(r[name]["rps"] / r["healthz"]["rps"] for r in rounds)
        for name in ("tool", "compare")
    }
    # The round whose tool ratio is the median stands for the run in the table.
    middle = sorted(rounds, key=lambda r: r["tool"]["rps"] / r["healthz"]["rps"])[ROUNDS // 2]
    return {
        "load": "wrk" if load is wrk_load else "httpx",
        "rounds": rounds,
        "rates": middle,
        "tool_ratio": ratios["tool"],
        "compare_ratio": ratios["compare"],
    }


def section(result: dict[str, Any]) -> list[str]:
    rates = result["rates"]
    lines = [
        "## Rendering cost",
        "",
        "`shiporskip serve` (one worker) with the page cache off (`SHIPORSKIP_PAGE_CACHE_MB=0`) "
        "on the sample content: every page request reads the database and renders its "
        f"template. Ratio = the page's requests/s ÷ the same server's `/healthz` requests/s "
        f"({result['load']}, 32 connections, the three measured back to back in each of "
        f"{len(result['rounds'])} rounds; the ratio is the median over the rounds, the "
        f"rates are those of the median round). Target for the tool page ≥ {TARGET}.",
        "",
        "| Endpoint | Requests/s | p50 ms | p99 ms | ÷ /healthz |",
        "|---|---|---|---|---|",
    ]
    ratio = {"healthz": 1.0, "tool": result["tool_ratio"], "compare": result["compare_ratio"]}
    for name, label in (
        ("healthz", "`/healthz`"),
        ("tool", f"`{TOOL}`, rendered"),
        ("compare", f"`{COMPARE}`, rendered"),
    ):
        r = rates[name]
        lines.append(
            f"| {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{ratio[name]:.3f} |"
        )
    lines.append("")
    return lines


if __name__ == "__main__":
    out = run()
    print(json.dumps(out, indent=2))
    print("\n".join(section(out)))
