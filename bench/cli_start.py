"""CLI start-up: `shiporskip --help`, `version` and `tools list` against importing typer and rich.

Each command runs in a fresh interpreter, as a user runs it. Every round runs every case
once, in a shuffled order, so a busy moment on the shared machine falls on all of them
alike; each figure is the median over the rounds divided by the median of a bare
`python -c "import typer, rich"` measured in the same rounds. The code before the lazy
command loading (commit 272f6c9, taken with `git archive`) is measured in the same rounds.

Bytecode is cached (in a temporary PYTHONPYCACHEPREFIX, warmed before timing), as in an
installed copy; the development environment sets PYTHONDONTWRITEBYTECODE, which makes
every start compile every module from source and all figures several times larger.
Importing typer, rich and SQLAlchemy and building one pydantic model is measured too: the
floor of any command that reads the database.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
BEFORE = "272f6c9"
CLI = "import sys; from shiporskip.cli.main import run; run()"
FLOOR = "import typer, rich, sqlalchemy and one pydantic model"
IMPORTS = {
    "import typer, rich": "import typer, rich",
    # pydantic loads most of itself on the first model class, not on import.
    FLOOR: "import typer, rich, sqlalchemy, pydantic; pydantic.create_model('M', x=(int, 0))",
}
COMMANDS = {
    "shiporskip --help": ["--help"],
    "shiporskip version": ["version"],
    "shiporskip tools list": ["tools", "list"],
}
TARGETS = {"shiporskip --help": 2.0, "shiporskip version": 2.0, "shiporskip tools list": 3.0}


def _before_tree(into: Path) -> Path | None:
    """The package as it was before lazy loading, or None outside a git checkout."""
    try:
        archive = subprocess.run(
            ["git", "archive", BEFORE, "src"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _env(src: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    env["PYTHONPATH"] = str(src)
    env["COLUMNS"] = "100"
    return env


def _time(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[2:]} failed: {done.stderr.decode()[-500:]}")
    return elapsed, (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)


def run(rounds: int = 9) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cache = work / "pycache"
        trees = {"now": ROOT / "src"}
        before = _before_tree(work / "before")
        if before is not None:
            trees["before"] = before
        cases: dict[tuple[str, str], tuple[list[str], dict[str, str]]] = {}
        for label, code in IMPORTS.items():
            cases[("import", label)] = ([sys.executable, "-c", code], _env(trees["now"], cache))
        for tree, src in trees.items():
            env = _env(src, cache)
            data_dir = work / f"data-{tree}"
            # Each tree loads the sample into its own database with its own migrations.
            subprocess.run(
                [sys.executable, "-c", CLI, "--data-dir", str(data_dir), "sample", "load"],
                env=env,
                cwd=work,
                capture_output=True,
                check=True,
                timeout=600,
            )
            for label, args in COMMANDS.items():
                if args[0] == "tools":
                    args = ["--data-dir", str(data_dir), *args]
                cases[(tree, label)] = ([sys.executable, "-c", CLI, *args], env)
        for argv, env in cases.values():  # warm-up: fills the bytecode cache
            _time(argv, env, work)
        times: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in cases}
        order = list(cases)
        for _ in range(rounds):
            random.shuffle(order)
            for key in order:
                argv, env = cases[key]
                times[key].append(_time(argv, env, work))
    wall = {key: statistics.median(t[0] for t in values) for key, values in times.items()}
    cpu = {key: statistics.median(t[1] for t in values) for key, values in times.items()}
    base = ("import", "import typer, rich")
    floor = ("import", FLOOR)
    result: dict[str, Any] = {
        "rounds": rounds,
        "baseline_wall_s": wall[base],
        "baseline_cpu_s": cpu[base],
        "floor_ratio": wall[floor] / wall[base],
        "floor_cpu_ratio": cpu[floor] / cpu[base],
        "before_commit": BEFORE if "before" in trees else None,
    }
    for tree in trees:
        result[tree] = {
            label: {
                "wall_s": wall[(tree, label)],
                "cpu_s": cpu[(tree, label)],
                "ratio": wall[(tree, label)] / wall[base],
                "cpu_ratio": cpu[(tree, label)] / cpu[base],
            }
            for label in COMMANDS
        }
    return result


def section(result: dict[str, Any]) -> list[str]:
    """Markdown lines for docs/BENCHMARKS.md."""
    before = result.get("before")
    lines = [
        "## CLI start-up",
        "",
        "Each command in a fresh interpreter, with cached bytecode as in an installed copy; "
        f"median of {result['rounds']} interleaved rounds. Ratio = command ÷ "
        f'`python -c "import typer, rich"` ({result["baseline_wall_s"] * 1000:.0f} ms wall, '
        f"{result['baseline_cpu_s'] * 1000:.0f} ms CPU here), in wall time and in CPU time "
        "(user + system; steadier when the machine is shared). "
        "Importing typer, rich and SQLAlchemy and building one pydantic model alone is "
        f"{result['floor_ratio']:.2f}× ({result['floor_cpu_ratio']:.2f}× CPU): the floor of "
        "any command that reads the database, so `tools list` cannot meet its target while "
        "it reads through SQLAlchemy into pydantic models.",
        "",
    ]
    if before:
        lines += [
            f"| Command | Before ({result['before_commit']}), wall / CPU | Now | Target |",
            "|---|---|---|---|",
        ]
    else:
        lines += ["| Command | Now wall / CPU | Target |", "|---|---|---|"]
    for label, target in TARGETS.items():
        now = f"{result['now'][label]['ratio']:.2f}× / {result['now'][label]['cpu_ratio']:.2f}×"
        if before:
            was = f"{before[label]['ratio']:.2f}× / {before[label]['cpu_ratio']:.2f}×"
            lines.append(f"| `{label}` | {was} | {now} | ≤ {target:g}× |")
        else:
            lines.append(f"| `{label}` | {now} | ≤ {target:g}× |")
    lines.append("")
    return lines


if __name__ == "__main__":
    figures = run()
    print(json.dumps(figures, indent=2))
    print("\n".join(section(figures)))
