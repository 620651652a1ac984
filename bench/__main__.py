"""Run the benchmark suite and write docs/BENCHMARKS.md.

Every figure is a ratio of two measurements taken side by side in the same run, because
the machines this runs on are shared and noisy: an absolute time means little.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import panel_latency, votes_load

OUT = Path(__file__).parents[1] / "docs" / "BENCHMARKS.md"


def machine() -> str:
    cpus = os.cpu_count()
    return f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {sys.version.split()[0]}"


def main() -> None:
    panel = panel_latency.run()
    lines = [
        "# Benchmarks",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()} with `make bench`.",
        "Every figure is a ratio measured side by side in one run.",
        "",
        "## Panel latency",
        "",
        "A local OpenAI-compatible server answers each critic after its own latency "
        "(0.25–0.70 s). Ratio = panel wall time / slowest single call (1.0 is perfect "
        "concurrency, 7.0 fully serial). Target ≤ 1.15.",
        "",
        "| Measure | Ratio |",
        "|---|---|",
        f"| Seven-critic panel, best of 5 | {panel['panel_ratio']:.3f} |",
        f"| Seven-critic panel, median of 5 | {panel['panel_ratio_median']:.3f} |",
        f"| Two unreviewed tools (14 calls, concurrency {panel['compare_concurrency']}) / "
        f"best possible schedule ({panel['compare_ideal_s']:.2f} s) | "
        f"{panel['compare_ratio_vs_ideal']:.3f} |",
        "",
    ]
    lines += [
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
    for result in votes_load.run():
        lines.append(
            f"| {result['database']} | {result['requests']} | {result['server_errors']} | "
            f"{'yes' if result['counts_match'] else 'NO'} | {result['ratio']:.2f} |"
        )
    lines.append("")
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
