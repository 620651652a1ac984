"""`shiporskip digest …` and `shiporskip newsletter …`: the weekly digest and its subscribers."""

from __future__ import annotations

import webbrowser
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from shiporskip.cli.common import cells, console, print_json, runtime
from shiporskip.errors import UserError
from shiporskip.newsletter import IsoWeek, SubscriberStore, parse_week, resolve_week, send_digest
from shiporskip.newsletter.campaign import digest_status, utcnow
from shiporskip.newsletter.issues import IssueStatus
from shiporskip.newsletter.preview import write_preview

app = typer.Typer(help="The weekly digest: preview it, send it, see where it stands.")
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
    """Send a week's digest to every confirmed subscriber, at least once each.

    Safe to run again: a run that was stopped resumes where it stopped, and a message that
    may or may not have gone out when it stopped is sent again with the same Message-ID.

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


def _week_argument(text: str) -> IsoWeek:
    # A malformed week is a usage error (exit code 2), named in one sentence.
    try:
        return parse_week(text)
    except UserError as exc:
        raise typer.BadParameter(str(exc)) from None


# Shown in this order; the three states a run can still change come right after "sent".
_STATUS_ORDER = ("sent", "unknown", "failed", "pending", "sending", "refused", "skipped")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _status_json(status: IssueStatus) -> dict[str, object]:
    issue = status.issue
    return {
        "week": issue.week,
        "subject": issue.subject,
        "recipients": sum(status.counts.values()),
        "counts": {state: status.counts[state] for state in _STATUS_ORDER},
        "last_attempt_at": _iso(status.last_attempt_at),
        "completed_at": _iso(issue.completed_at),
        "sender": status.sender,
    }


def _status_lines(status: IssueStatus) -> list[str]:
    issue, counts = status.issue, status.counts
    when = status.last_attempt_at
    out = [f"Last attempted {when:%Y-%m-%d %H:%M:%S} UTC." if when else "Not attempted yet."]
    if status.sender:
        out.append(f"Being sent now by {status.sender}.")
    elif counts["sending"]:
        out.append(
            f"{counts['sending']} message(s) were in flight when their sender stopped; the next "
            f"`digest send --week {issue.week}` sends them again with the same Message-ID."
        )
    if not status.sender and (counts["pending"] or counts["unknown"]):
        out.append(f"Run `shiporskip digest send --week {issue.week}` to continue.")
    elif issue.completed_at:
        out.append(f"Complete since {issue.completed_at:%Y-%m-%d %H:%M:%S} UTC.")
    return out


@app.command("status")
def status(
    ctx: typer.Context,
    week: Annotated[
        IsoWeek | None,
        typer.Argument(
            metavar="WEEK",
            parser=_week_argument,
            help="ISO week such as 2026-W47 (default: the last complete week).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show where a week's digest stands: recipients sent, unknown, failed, pending.

    Example: shiporskip digest status 2026-W47 --json
    """
    with runtime(ctx) as rt:
        found = digest_status(rt, resolve_week(week, utcnow()))
    if as_json:
        print_json(_status_json(found))
        return
    table = Table(
        title=f"{found.issue.week}: {found.issue.subject}", title_justify="left", show_edge=False
    )
    table.add_column("state")
    table.add_column("recipients", justify="right")
    for state in _STATUS_ORDER:
        table.add_row(*cells(state, found.counts[state]))
    console.print(table, markup=False)
    for line in _status_lines(found):
        console.print(line, markup=False)


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
