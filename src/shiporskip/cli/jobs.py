"""`shiporskip worker`, `daily` and `jobs …`: background work from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shiporskip.cli.common import cells, console, print_json, runtime
from shiporskip.errors import UserError
from shiporskip.jobs import tasks
from shiporskip.jobs.api import TASKS, JobInfo
from shiporskip.jobs.worker import enqueue_review, open_queue, run_worker

jobs_app = typer.Typer(help="The job queue: list jobs, retry parked ones.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def job_data(job: JobInfo) -> dict[str, object]:
    return {
        "id": job.id,
        "task": job.task,
        "args": job.args,
        "key": job.key,
        "status": job.status,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "last_error": job.last_error,
        "run_after": job.run_after.isoformat() if job.run_after else None,
    }


def worker(
    ctx: typer.Context,
    burst: Annotated[
        bool, typer.Option("--burst", help="Stop when no job is due instead of waiting.")
    ] = False,
    poll: Annotated[float, typer.Option(help="Seconds between checks when idle.")] = 5.0,
) -> None:
    """Run background jobs: the daily review (at daily_time) and queued work.

    Example: shiporskip worker
    """
    if poll <= 0:
        raise UserError("--poll must be greater than 0")
    with runtime(ctx) as rt:
        queue = open_queue(rt)
        console.print(
            f"Worker started ({queue.engine_name} engine); daily review at "
            f"{rt.settings.daily_time} UTC. Ctrl+C or SIGTERM stops it between jobs.",
            markup=False,
        )

        def report(job: JobInfo) -> None:
            line = f"job {job.id} {job.task} {job.args}: {job.status}"
            if job.last_error:
                line += f" — {job.last_error}"
            console.print(line, markup=False)

        ran = run_worker(rt, queue, burst=burst, poll=poll, on_job=report)
    console.print(f"Worker stopped after {ran} jobs.", markup=False)


def daily(
    ctx: typer.Context,
    now: Annotated[
        bool, typer.Option("--now", help="Review the next tool right away, in this process.")
    ] = False,
    slug: Annotated[
        str | None, typer.Option("--tool", help="Review this tool instead of the next in line.")
    ] = None,
) -> None:
    """Review the next tool in line and publish its comparisons.

    Example: shiporskip daily --now
    """
    if not now:
        raise UserError(
            "the worker runs the daily review on schedule; pass --now to run it once here"
        )
    with runtime(ctx) as rt:
        target = slug or tasks.next_tool(rt)
        if target is None:
            console.print("Every tool already has a complete panel; nothing to review.")
            return
        rt.catalog.get(target)
        console.print(f"Reviewing {target}…", markup=False)
        result = TASKS["review_tool"](rt, {"slug": target})
    console.print(result, markup=False)


@jobs_app.command("list")
def jobs_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="Only jobs in this state: queued, running, done, parked.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List recent jobs, newest first, with the error of failed ones.

    Example: shiporskip jobs list --status parked
    """
    if status not in (None, "queued", "running", "done", "parked"):
        raise UserError(f"--status {status!r} is not a state; use queued, running, done or parked")
    with runtime(ctx) as rt:
        found = open_queue(rt).list(status)
    if as_json:
        print_json({"count": len(found), "jobs": [job_data(j) for j in found]})
        return
    table = Table(title=f"{len(found)} jobs", title_justify="left")
    for column in ("id", "task", "args", "status", "attempts", "last error"):
        table.add_column(column)
    for j in found:
        table.add_row(
            *cells(
                j.id,
                j.task,
                j.args,
                j.status,
                f"{j.attempts}/{j.max_attempts}",
                (j.last_error or "")[:120],
            )
        )
    console.print(table)


@jobs_app.command("retry")
def jobs_retry(
    ctx: typer.Context, job_id: Annotated[int, typer.Argument(metavar="ID", help="A parked job.")]
) -> None:
    """Queue a parked job again with a fresh attempt budget.

    Example: shiporskip jobs retry 12
    """
    with runtime(ctx) as rt:
        open_queue(rt).retry(job_id)
    console.print(f"Job {job_id} is queued again.")


@jobs_app.command("review")
def jobs_review(
    ctx: typer.Context, slug: Annotated[str, typer.Argument(help="The tool to review.")]
) -> None:
    """Queue a panel review of one tool for the worker.

    Example: shiporskip jobs review cursor
    """
    with runtime(ctx) as rt:
        rt.catalog.get(slug)
        job = enqueue_review(open_queue(rt), slug)
    console.print(f"Queued the review of {slug} as job {job}.", markup=False)
