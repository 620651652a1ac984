"""Run the benchmark suite and write docs/BENCHMARKS.md.

Every figure is a ratio of two measurements taken side by side in the same run, because
the machines this runs on are shared and noisy: an absolute time means little.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import (
    cache_mix,
    catalog_scale,
    cli_start,
    memory,
    nginx_cache,
    pages,
    panel_latency,
    render,
    scale,
    shared_pages,
    votes_load,
)

OUT = Path(__file__).parents[1] / "docs" / "BENCHMARKS.md"


def machine() -> str:
    cpus = os.cpu_count()
    return f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {sys.version.split()[0]}"


def votes_section(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Community votes under load",
        "",
        "A separate client process runs 60 concurrent voters; each casts, changes and "
        "withdraws 15 votes over four tools against `shiporskip serve --workers 3`. Afterwards "
        "the stored counts are compared with the accepted votes replayed from the client's "
        "log. Ratio = vote requests/s ÷ the same server's `/healthz` requests/s with the same "
        "concurrency, measured just before.",
        "",
        "| Database | Requests | 5xx | Counts match replay | Votes/s ÷ /healthz/s |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        lines.append(
            f"| {result['database']} | {result['requests']} | {result['server_errors']} | "
            f"{'yes' if result['counts_match'] else 'NO'} | {result['ratio']:.2f} |"
        )
    return [*lines, ""]


def served_sections(served: list[dict[str, Any]]) -> list[str]:
    """Page serving, and the memory the server workers reached while serving."""
    peaks = {
        f"one server worker after the page load (`--workers {w['workers']}`)": w["worker_peak_rss"]
        for w in served
    }
    return page_section(served) + memory_section(memory.run(peaks))


# name -> (measure, markdown): `python -m bench NAME ...` runs some, and prints them.
PARTS: dict[str, tuple[Callable[[], Any], Callable[[Any], list[str]]]] = {
    "panel": (panel_latency.run, panel_latency.section),
    "cli": (cli_start.run, cli_start.section),
    "votes": (votes_load.run, votes_section),
    "cache-mix": (cache_mix.run, cache_mix.section),
    "shared-pages": (shared_pages.run, shared_pages.section),
    "render": (render.run, render.section),
    "nginx": (nginx_cache.run, nginx_cache.section),
    "pages": (pages.run, served_sections),
    "catalog-scale": (catalog_scale.run, catalog_scale.section),
    "scale": (scale.run, lambda result: scale_section(result)),
}


def main(names: list[str]) -> None:
    if names in (["--help"], ["-h"]):
        print(f"python -m bench [PART ...]; parts: {', '.join(PARTS)}")
        return
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        raise SystemExit(f"Unknown benchmark {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    chosen = names or list(PARTS)
    lines = [
        "# Benchmarks",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()} with `make bench`.",
        "Every figure is a ratio measured side by side in one run.",
        "",
    ]
    for name in chosen:
        measure, markdown = PARTS[name]
        started = time.monotonic()
        part = markdown(measure())
        print("\n".join(part), flush=True)
        print(f"({name}: {time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
        lines += part
    if names:
        return  # a subset is printed, never written over the whole suite's figures
    OUT.write_text("\n".join(lines), encoding="utf-8")


ENDPOINTS = (
    "healthz",
    "tool",
    "compare",
    "tool 304",
    "compare 304",
    "tool, rendered",
    "compare, rendered",
    "static tool",
    "static compare",
)
PAGES = ("tool", "compare", "tool 304", "compare 304")


def scale_section(result: dict[str, Any]) -> list[str]:
    """Page latency on a big catalog divided by the same on a small one."""
    big = str(result["tools"])
    lines = [
        "## Scale",
        "",
        f"Generated catalogs of {result['small']:,} and {result['tools']:,} tools, each tool "
        "with 7 reviews, plus 10 votes per tool on average (1M votes at 100k). Ratio = median "
        "in-process request time on the big catalog ÷ the same on the small one, with the "
        "page cache off so that every request queries and renders (a page served from memory "
        "costs the same at any catalog size). Target ≤ 2.",
        "",
        "| Page | SQLite | PostgreSQL |",
        "|---|---|---|",
    ]
    kinds = [k for k in ("sqlite", "postgresql") if k in result]
    for page in result[kinds[0]]["ratios"]:
        cells = [f"{result[k]['ratios'][page]:.2f}" for k in kinds]
        lines.append(f"| {page} | " + " | ".join(cells) + " |")
    lines += ["", "| Figure | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    lines.append(
        "| Generation time (s) | "
        + " | ".join(str(result[k][big]["generated"].get("seconds", "?")) for k in kinds)
        + " |"
    )
    lines.append(
        f"| Database size at {result['tools']:,} tools (MB) | "
        + " | ".join(str(result[k][big]["database_mb"]) for k in kinds)
        + " |"
    )
    lines.append(
        "| Real import path into the big catalog (tools/s) | "
        + " | ".join(str(result[k][big].get("import_tools_per_s")) for k in kinds)
        + " |"
    )
    lines.append(f"\nAll ratios within target: {'yes' if result['met'] else 'no'}.\n")
    return lines


def page_section(served: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Page serving",
        "",
        f"`shiporskip serve --workers N` with the sample content and its page cache "
        f"(`page_cache_mb`, on by default), the same site with the cache off (*rendered* "
        f"rows: every request queries the database and renders), and a static file server "
        f"(Starlette `StaticFiles` under uvicorn, same worker count: the same HTTP stack "
        f"without the page work) serving the byte-identical tool page "
        f"(`{pages.TOOL}`) and compare page (`{pages.COMPARE}`) as rendered for one "
        f"returning visitor, whose `sos_voter` cookie every request carries. Each load "
        f"generator runs in its own process: {pages.CONCURRENCY} connections, "
        f"{pages.WARMUP:.0f} s warm-up, {pages.SECONDS:.0f} s measured. *304* rows send the "
        f"page's `If-None-Match` (checked before the load to answer 304). The server logs "
        f"at `warning` (no access log). The load generator shares the machine's CPUs with "
        f"the servers. "
        "wrk (C) produces the figures the targets are judged on; the async httpx client "
        "spends more CPU per request than the static server, so it caps /healthz and the "
        "static pages at about the same rate and its ratios against them read too high.",
        "",
    ]
    for w in served:
        same = "identical" if w["same_bytes"] else "NOT identical"
        lines += [
            f"### `--workers {w['workers']}` (static copies {same}: tool "
            f"{w['page_bytes']['tool']} B, compare {w['page_bytes']['compare']} B)",
            "",
            "| Endpoint | Load generator | Requests/s | p50 ms | p99 ms | p99 ÷ p50 |",
            "|---|---|---|---|---|---|",
        ]
        for name in ENDPOINTS:
            for tool, results in w["results"].items():
                r = results[name]
                lines.append(
                    f"| {name} | {tool} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
                    f"{r['p99_ms']:.1f} | {r['p99_ms'] / r['p50_ms']:.2f} |"
                )
        lines.append("")
    columns = [(w, tool) for w in served for tool in w["results"]]
    lines += [
        "### Ratios",
        "",
        "| Ratio | Target | "
        + " | ".join(f"`--workers {w['workers']}`, {tool}" for w, tool in columns)
        + " |",
        "|---|---|" + "---|" * len(columns),
    ]

    def ratio(label: str, target: str, value: Any) -> None:
        cells = " | ".join(f"{value(w['results'][tool]):.3f}" for w, tool in columns)
        lines.append(f"| {label} | {target} | {cells} |")

    ratio("compare ÷ static compare (rps)", "≥ 0.5", lambda r: _rps(r, "compare", "static compare"))
    ratio("tool ÷ static tool (rps)", "", lambda r: _rps(r, "tool", "static tool"))
    ratio("tool ÷ /healthz (rps)", "", lambda r: _rps(r, "tool", "healthz"))
    ratio("compare ÷ /healthz (rps)", "", lambda r: _rps(r, "compare", "healthz"))
    ratio("compare 304 ÷ compare 200 (rps)", "", lambda r: _rps(r, "compare 304", "compare"))
    ratio("compare ÷ compare rendered (rps)", "", lambda r: _rps(r, "compare", "compare, rendered"))
    ratio(
        "compare rendered ÷ static compare (rps)",
        "",
        lambda r: _rps(r, "compare, rendered", "static compare"),
    )
    ratio("static compare ÷ /healthz (rps)", "", lambda r: _rps(r, "static compare", "healthz"))
    for name in PAGES:
        ratio(f"{name}: p99 ÷ p50", "≤ 3", lambda r, n=name: r[n]["p99_ms"] / r[n]["p50_ms"])
    lines.append("")
    return lines


def _rps(results: dict[str, Any], top: str, bottom: str) -> float:
    return float(results[top]["rps"] / results[bottom]["rps"])


def memory_section(result: dict[str, Any]) -> list[str]:
    lines = [
        "## Memory",
        "",
        "Peak RSS is the kernel's high-water mark (`VmHWM`): of the running server worker "
        "after the page load above, of a bare `python -c 'import shiporskip.web.app'` "
        "process at its own end, and of `shiporskip review --rerun` (a seven-critic panel "
        "against the panel benchmark's local OpenAI-compatible server) polled every 10 ms "
        "until it exits. Ratio = peak RSS ÷ the bare import's, measured in the same run.",
        "",
        "| Process | Peak RSS (MB) | ÷ bare import |",
        "|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['process']} | {row['mb']:.1f} | {row['ratio']:.2f} |")
    lines.append("")
    return lines


if __name__ == "__main__":
    main(sys.argv[1:])
