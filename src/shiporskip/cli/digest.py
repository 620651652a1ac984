"""`shiporskip digest …` and `shiporskip newsletter …`: the weekly digest and its subscribers."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from shiporskip.cli.common import cells, console, print_json, runtime
from shiporskip.newsletter import SubscriberStore, send_digest
from shiporskip.newsletter.preview import write_preview

app = typer.Typer(help="The weekly digest: preview it, send it.")
newsletter_app = typer.Typer(help="The newsletter's subscribers.")

WeekOpt = Annotated[
    str | None,
    typer.Option(
        "--week",
        help="ISO week such as 2026-W47 (default: the last complete week, Monday-Sunday UTC).",
    ),
]


@app.command("preview")
def preview(
    ctx: typer.Context,
    week: WeekOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="HTML file to write (the text part goes next to it as .txt); "
            "default: DATA_DIR/digests/WEEK.html.",
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the HTML file in a web browser.")
    ] = False,
) -> None:
    """Write a week's digest as a subscriber would get it (HTML and text) and print the paths.

    Example: shiporskip digest preview --week 2026-W47 --open
    """
    with runtime(ctx) as rt:
        result = write_preview(rt, week, output)
    d = result.digest
    note = " (week in progress)" if d.in_progress else ""
    console.print(f"{d.week}{note}: {d.summary}", markup=False)
    console.print(str(result.html), markup=False)
    console.print(str(result.text), markup=False)
    if open_browser:
        webbrowser.open(result.html.resolve().as_uri())


@app.command("send")
def send(ctx: typer.Context, week: WeekOpt = None) -> None:
    """Send a week's digest to every confirmed subscriber, at most once each.

    Safe to run again: a run that was stopped resumes where it stopped, and a message that
    may or may not have gone out when it stopped is reported as unknown, never re-sent.

    Example: SHIPORSKIP_SMTP_HOST=smtp.example.com shiporskip digest send --week 2026-W47
    """
    with (
        runtime(ctx) as rt,
        Progress(
            TextColumn("Sending"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("send", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = send_digest(rt, week, progress=advance)
    for line in report.lines():
        console.print(line, markup=False)
    for email, state, reason in report.failures[:20]:
        console.print(f"  {state}: {email}: {reason}", markup=False)
    if len(report.failures) > 20:
        console.print(f"  … and {len(report.failures) - 20} more", markup=False)


@newsletter_app.command("subscribers")
def subscribers(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Count subscribers by status: pending, confirmed, unsubscribed, bounced.

    Example: shiporskip newsletter subscribers --json
    """
    with runtime(ctx) as rt:
        counts = SubscriberStore(rt.engine).counts()
    if as_json:
        print_json({"count": sum(counts.values()), "statuses": counts})
        return
    table = Table(title=f"{sum(counts.values())} subscribers", title_justify="left")
    table.add_column("status")
    table.add_column("count", justify="right")
    for status, n in counts.items():
        table.add_row(*cells(status, n))
    console.print(table, markup=False)
