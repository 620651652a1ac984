"""Memory: peak RSS of a server worker under the page benchmark and of a panel run.

Peak RSS is the kernel's high-water mark, `VmHWM` in /proc/<pid>/status: read after the
page benchmark for the server, by the process itself at its end for the bare import, and
polled every 10 ms until exit for the panel run (it only rises, so the last reading is the
peak up to 10 ms before exit). Not `ru_maxrss` from wait4(): Linux charges a spawned
child with the high-water mark of the memory it was forked from, here the benchmark
process itself. Compared with a bare `python -c "import shiporskip.web.app"` measured in
the same run. Linux only.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.panel_latency import LatencyServer, _tool, start_server
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings

MB = 1024 * 1024


def vm_hwm(pid: int) -> int:
    """Peak resident set size of a running process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def children(pid: int) -> list[int]:
    """Direct children of a process (uvicorn's worker processes)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


def _run_peak(cmd: list[str], env: dict[str, str]) -> tuple[int, int, str]:
    """Run a command to completion; its exit status, peak RSS (bytes) and output."""
    peak = 0
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            # While it exits the mm is gone: the last reading stands.
            with contextlib.suppress(OSError, RuntimeError):
                peak = max(peak, vm_hwm(proc.pid))
            time.sleep(0.01)
        out.seek(0)
        return proc.returncode, peak, out.read().decode(errors="replace")


def bare_import() -> int:
    """Peak RSS of a Python process that only imports the web app module."""
    code = (
        "import shiporskip.web.app, pathlib; print(pathlib.Path('/proc/self/status').read_text())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def panel_run() -> dict[str, Any]:
    """Peak RSS of `shiporskip review` (a seven-critic panel) against the latency server."""
    state = LatencyServer()
    base_url, server, thread = start_server(state)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt = open_runtime(load_settings(env={}, overrides={"data_dir": tmp}))
            rt.catalog.add(_tool("Bench Memory"))
            rt.close()
            env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
            env.update(SHIPORSKIP_DATA_DIR=tmp, SHIPORSKIP_LOAD_SAMPLE="false")
            script = Path(sys.executable).with_name("shiporskip")
            started = time.perf_counter()
            code, peak, output = _run_peak(
                [
                    str(script),
                    "review",
                    "bench-memory",
                    "--rerun",
                    "--json",
                    "--model",
                    f"openai-compatible:bench@{base_url}",
                ],
                env,
            )
            seconds = time.perf_counter() - started
            if code != 0:
                raise RuntimeError(f"shiporskip review failed: {output[-2000:]}")
    finally:
        server.should_exit = True
        thread.join(timeout=5)
    return {"peak": peak, "calls": len(state.calls), "seconds": seconds}


def run(server_peaks: dict[str, int]) -> dict[str, Any]:
    """`server_peaks`: label -> peak RSS of one server worker, from the page benchmark."""
    base = bare_import()
    panel = panel_run()
    rows = [("bare `import shiporskip.web.app`", base)]
    rows += [(label, peak) for label, peak in server_peaks.items()]
    rows.append((f"`shiporskip review` ({panel['calls']} critic calls)", panel["peak"]))
    return {
        "baseline": base,
        "rows": [{"process": p, "mb": peak / MB, "ratio": peak / base} for p, peak in rows],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run({}), indent=2))
