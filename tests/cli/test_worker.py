"""`shiporskip worker`: what it prints about the jobs it ran."""

from __future__ import annotations

from typing import Any

import pytest

from shiporskip.cli.main import main
from shiporskip.jobs.api import task
from shiporskip.jobs.worker import open_queue
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings

RUNS: list[int] = []


@task("test_interrupted")
def interrupted(_runtime: Runtime, args: dict[str, Any]) -> str:
    RUNS.append(args["n"])
    if args.get("ctrl_c"):
        raise KeyboardInterrupt  # what Ctrl+C does to the worker in the middle of a job
    return "ok"


def test_ctrl_c_after_jobs_reports_the_jobs_that_ran(capsys: pytest.CaptureFixture[str]) -> None:
    RUNS.clear()
    rt = open_runtime(load_settings(overrides={"daily_time": "off"}))
    try:
        queue = open_queue(rt)
        for n in (1, 2):
            queue.enqueue("test_interrupted", {"n": n})
        queue.enqueue("test_interrupted", {"n": 3, "ctrl_c": True})
    finally:
        rt.close()
    assert main(["worker", "--burst", "--poll", "0.1"]) == 0
    out = capsys.readouterr().out
    assert RUNS == [1, 2, 3]
    assert out.count(": done") == 2
    assert "Worker stopped after 2 jobs." in out
