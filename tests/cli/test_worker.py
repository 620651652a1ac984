"""`shiporskip worker`: what it prints about the jobs it ran."""

from __future__ import annotations

import os
import signal
import time
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


@task("test_ctrl_c_mid_job")
def ctrl_c_mid_job(_runtime: Runtime, args: dict[str, Any]) -> str:
    RUNS.append(args["n"])
    if args.get("ctrl_c"):
        os.kill(os.getpid(), signal.SIGINT)  # the operator presses Ctrl+C during this job
        time.sleep(0.2)  # the handler runs here; the job must still finish
    RUNS.append(-args["n"])
    return "ok"


def test_ctrl_c_stops_between_jobs_and_counts_the_job_in_hand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    RUNS.clear()
    before = signal.getsignal(signal.SIGINT)
    rt = open_runtime(load_settings(overrides={"daily_time": "off"}))
    try:
        queue = open_queue(rt)
        queue.enqueue("test_ctrl_c_mid_job", {"n": 1, "ctrl_c": True})
        queue.enqueue("test_ctrl_c_mid_job", {"n": 2})
    finally:
        rt.close()
    assert main(["worker", "--poll", "0.1"]) == 0
    out = capsys.readouterr().out
    assert RUNS == [1, -1], "the job in hand finished; the next one waits for a worker"
    assert "Worker stopped after 1 jobs." in out
    assert signal.getsignal(signal.SIGINT) is before, "the previous handler is back"
