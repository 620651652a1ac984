"""Whole-catalog pages: each page's time at a big catalog divided by its time at 1k tools,
served cold (page cache off) by the real server, on SQLite and on PostgreSQL.

The catalogs come from `bench.scale.generate` (bulk `executemany` inserts: 7 reviews and 10
votes per tool, then the panel summaries). For each catalog `shiporskip serve` runs in its
own process with `page_cache_mb=0`; each page is fetched twice to warm the process, then
REPEAT times over one keep-alive connection; the ratio divides the best times and the
ratio of the medians is reported beside it. The target is a ratio
of at most 2 for every page in PAGES. Both catalogs' servers run at once and each page is
fetched from one, then the other, in turn, so load from elsewhere on the machine weighs on
both sides alike. The sitemap's files are reported too: a file holds up
to 50,000 URLs, so its time grows with the catalog until it is full, and is reported per URL.

    python -m bench.catalog_scale [--tools 100000] [--small 1000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.pages import _port, _wait_ready
from bench.scale import BIG, SMALL, database, generate
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings

PAGES = (
    "/",
    "/critics",
    "/critics/builder",
    "/critics/builder?category=models",
    "/methodology",
    "/categories",
    "/categories/models",
    "/sitemap.xml",
    "/sitemaps/1.xml",
    "/api/v1/tools",
    "/api/v1/tools?sort=name",
    "/api/v1/critics",
    "/api/v1/home",
)
REPEAT = 15
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
TARGET = 2.0
COMMAND = Path(sys.executable).with_name("shiporskip")


@contextlib.contextmanager
def _serve(data_dir: Path, url: str) -> Iterator[str]:
    """`shiporskip serve` on the catalog, page cache off; yields its base URL."""
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
    env.update(
        SHIPORSKIP_DATA_DIR=str(data_dir),
        SHIPORSKIP_DATABASE_URL=url,
        SHIPORSKIP_PAGE_CACHE_MB="0",
        SHIPORSKIP_LOAD_SAMPLE="false",
    )
    cmd = [str(COMMAND), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(f"{base}/healthz", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _timed(http: httpx.Client, path: str) -> float:
    t0 = time.perf_counter()
    response = http.get(path)
    elapsed = time.perf_counter() - t0
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def _side_by_side(
    clients: dict[int, httpx.Client], path: str | dict[int, str]
) -> dict[int, tuple[float, float]]:
    """Median and best ms of one page on each server, fetched in turn (the small catalog,
    then the big one, REPEAT times), so a busy machine slows both alike."""
    paths = path if isinstance(path, dict) else dict.fromkeys(clients, path)
    times: dict[int, list[float]] = {n: [] for n in clients}
    for n, http in clients.items():
        for _ in range(2):
            _timed(http, paths[n])
    for _ in range(REPEAT):
        for n, http in clients.items():
            times[n].append(_timed(http, paths[n]))
    return {
        n: (round(1000 * statistics.median(t), 2), round(1000 * min(t), 2))
        for n, t in times.items()
    }


def _sitemap_files(http: httpx.Client) -> list[str]:
    index = ET.fromstring(http.get("/sitemap.xml").content)
    return [
        "/" + (s.findtext(f"{SM}loc") or "").split("/", 3)[3] for s in index.iter(f"{SM}sitemap")
    ]


def measure(servers: dict[int, str]) -> dict[str, Any]:
    """Median ms per page and catalog size, and the sitemap's first tools and compare
    files in ms per URL."""
    out: dict[str, Any] = {
        str(n): {"pages_ms": {}, "best_ms": {}, "bytes": {}, "per_url": {}} for n in servers
    }
    clients = {n: httpx.Client(base_url=base, timeout=600) for n, base in servers.items()}
    try:
        for path in PAGES:
            for n, (ms, best) in _side_by_side(clients, path).items():
                out[str(n)]["pages_ms"][path] = ms
                out[str(n)]["best_ms"][path] = best
                out[str(n)]["bytes"][path] = len(clients[n].get(path).content)
        files = {n: _sitemap_files(http) for n, http in clients.items()}
        for label, index in (("tools file", 1), ("compare file", -1)):
            wanted = {n: f[index] for n, f in files.items()}
            for n, (ms, _) in _side_by_side(clients, wanted).items():
                urls = clients[n].get(wanted[n]).text.count("<url>")
                out[str(n)]["per_url"][label] = {
                    "path": wanted[n],
                    "ms": ms,
                    "urls": urls,
                    "us_per_url": round(1000 * ms / max(urls, 1), 2),
                }
        for n, f in files.items():
            out[str(n)]["sitemap_files"] = len(f)
    finally:
        for http in clients.values():
            http.close()
    return out


def run_one(kind: str, big: int, small: int) -> dict[str, Any]:
    """Both catalogs built, both servers up, every page measured side by side."""
    result: dict[str, Any] = {}
    built: dict[int, float] = {}
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        os.environ["SHIPORSKIP_DATA_DIR"] = tmp
        servers: dict[int, str] = {}
        for n in (small, big):
            data_dir = Path(tmp) / f"d{n}"
            data_dir.mkdir()
            url, _ = stack.enter_context(database(kind, Path(tmp), f"c{n}"))
            runtime = open_runtime(
                load_settings(overrides={"database_url": url, "data_dir": str(data_dir)})
            )
            try:
                t0 = time.perf_counter()
                generate(runtime.engine, n)
                built[n] = round(time.perf_counter() - t0, 1)
            finally:
                runtime.close()
            print(kind, n, "built in", built[n], "s", flush=True)
            servers[n] = stack.enter_context(_serve(data_dir, url))
        result = measure(servers)
    for n in (small, big):
        result[str(n)]["build_seconds"] = built[n]
    for name, key in (("ratios", "best_ms"), ("median_ratios", "pages_ms")):
        small_ms, big_ms = result[str(small)][key], result[str(big)][key]
        result[name] = {k: round(big_ms[k] / small_ms[k], 2) for k in big_ms}
    print(kind, json.dumps(result["ratios"]), flush=True)
    return result


def run(
    big: int = BIG, small: int = SMALL, postgres: bool = True, sqlite: bool = True
) -> dict[str, Any]:
    """Ratios (big / small catalog) per page on SQLite and PostgreSQL; target <= 2."""
    out: dict[str, Any] = {"tools": big, "small": small, "target": TARGET}
    kinds = [k for k, wanted in (("sqlite", sqlite), ("postgresql", postgres)) if wanted]
    for kind in kinds:
        out[kind] = run_one(kind, big, small)
    out["met"] = all(
        ratio <= TARGET
        for kind in ("sqlite", "postgresql")
        if kind in out
        for ratio in out[kind]["ratios"].values()
    )
    return out


def section(result: dict[str, Any]) -> list[str]:
    """Markdown for docs/BENCHMARKS.md."""
    big, small = result["tools"], result["small"]
    kinds = [k for k in ("sqlite", "postgresql") if k in result]
    lines = [
        "## Whole-catalog pages at scale",
        "",
        f"Each page served cold (page cache off) by `shiporskip serve`, {REPEAT} requests "
        f"per page and catalog taken in turn, at {big:,} tools against {small:,} (7 reviews "
        "and 10 votes per tool). The ratio divides the best times (the machine is shared; "
        "the best time is the page's own cost); the ratio of the medians is in brackets. "
        f"Target: at most {result['target']}× for every page. "
        f"{'Met.' if result['met'] else 'Not met.'}",
        "",
        "| Page | "
        + " | ".join(
            f"{k} {small:,}: best / median ms | {k} {big:,}: best / median ms | ratio (median)"
            for k in kinds
        )
        + " |",
        "|---|" + "---:|---:|---:|" * len(kinds),
    ]
    for page in PAGES:
        cells = []
        for k in kinds:
            r = result[k]
            cells += [
                f"{r[str(small)]['best_ms'][page]} / {r[str(small)]['pages_ms'][page]}",
                f"{r[str(big)]['best_ms'][page]} / {r[str(big)]['pages_ms'][page]}",
                f"{r['ratios'][page]}× ({r['median_ratios'][page]}×)",
            ]
        lines.append(f"| `{page}` | " + " | ".join(cells) + " |")
    lines += ["", "Sitemap files (each at most 50,000 URLs; time per URL):", ""]
    for k in kinds:
        for n in (small, big):
            entry = result[k][str(n)]
            files = ", ".join(
                f"{label} `{v['path']}` {v['urls']:,} URLs in {v['ms']} ms "
                f"({v['us_per_url']} µs/URL)"
                for label, v in entry["per_url"].items()
            )
            lines.append(
                f"- {k}, {n:,} tools: {entry['sitemap_files']} files; {files}; "
                f"catalog built in {entry['build_seconds']} s"
            )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=BIG, help="size of the big catalog")
    parser.add_argument("--small", type=int, default=SMALL, help="size of the small catalog")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    result = run(args.tools, args.small, not args.no_postgres, not args.no_sqlite)
    print(json.dumps(result, indent=2))
    print("\n".join(section(result)))


if __name__ == "__main__":
    main()
