"""`shiporskip submissions …` and `votes …`: moderation from the command line."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from shiporskip import moderation
from shiporskip.cli.common import cells, console, print_json, runtime
from shiporskip.errors import UserError
from shiporskip.runtime import Runtime
from shiporskip.storage.submissions import STATUSES, Submission, SubmissionStore
from shiporskip.storage.votes import VoteStore

submissions_app = typer.Typer(
    help="The moderation queue of submitted tools: list, show, approve, reject."
)
votes_app = typer.Typer(help="Community votes: the audit log, and voiding abusive votes.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
IdArg = Annotated[int, typer.Argument(metavar="ID", help="The submission's number.")]


def _store(rt: Runtime) -> SubmissionStore:
    return SubmissionStore(rt.engine, rt.catalog)


def _show(submission: Submission) -> None:
    t = submission.tool
    lines = [
        f"Submission {submission.id}: {t.name} ({submission.status})",
        f"  vendor: {t.vendor}",
        f"  homepage: {t.homepage}",
        f"  category: {t.category}",
        f"  tagline: {t.tagline}",
        f"  entry: {t.pricing.entry.value}",
        *(f"  plan: {p.name}: {p.describe()}" for p in t.pricing.plans),
        f"  sent: {submission.created_at:%Y-%m-%d %H:%M} UTC from {submission.ip}"
        + (f" by {submission.email}" if submission.email else ""),
    ]
    if t.description:
        lines.append(f"  description: {t.description}")
    if submission.reason:
        lines.append(f"  reason: {submission.reason}")
    if submission.tool_slug:
        lines.append(
            f"  in the catalog as: {submission.tool_slug} (review job {submission.job_id})"
        )
    lines += [f"  FLAG {f['field']}: {f['reason']}: {f['excerpt']!r}" for f in submission.flags]
    console.print("\n".join(lines), markup=False)


@submissions_app.command("list")
def submissions_list(
    ctx: typer.Context,
    status: Annotated[
        str, typer.Option(help="Only submissions in this state: pending, approved, rejected.")
    ] = "pending",
    as_json: JsonOpt = False,
) -> None:
    """List submissions, newest first (pending ones unless --status says otherwise).

    Example: shiporskip submissions list --status rejected
    """
    if status not in STATUSES:
        raise UserError(f"--status {status!r} is not a state; use pending, approved or rejected")
    with runtime(ctx) as rt:
        found = _store(rt).list(status)
    if as_json:
        print_json({"count": len(found), "submissions": [s.to_data() for s in found]})
        return
    table = Table(title=f"{len(found)} {status} submissions", title_justify="left")
    for column in ("id", "name", "vendor", "homepage", "sent", "flags"):
        table.add_column(column)
    for s in found:
        table.add_row(
            *cells(
                s.id,
                s.tool.name,
                s.tool.vendor,
                s.tool.homepage,
                f"{s.created_at:%Y-%m-%d %H:%M}",
                len(s.flags) or "",
            )
        )
    console.print(table)


@submissions_app.command("show")
def submissions_show(ctx: typer.Context, submission_id: IdArg, as_json: JsonOpt = False) -> None:
    """Show one submission: the tool as submitted, who sent it, injection flags, the decision.

    Example: shiporskip submissions show 3
    """
    with runtime(ctx) as rt:
        found = _store(rt).get(submission_id)
    if as_json:
        print_json(found.to_data())
        return
    _show(found)


@submissions_app.command("approve")
def submissions_approve(ctx: typer.Context, submission_id: IdArg) -> None:
    """Put a pending submission into the catalog and queue its review by the panel.

    Example: shiporskip submissions approve 3
    """
    with runtime(ctx) as rt:
        done = moderation.approve(rt, submission_id)
    console.print(
        f"Approved submission {done.id}: {done.tool.name} is in the catalog as "
        f"{done.tool_slug}; its review is queued as job {done.job_id}.",
        markup=False,
    )


@submissions_app.command("reject")
def submissions_reject(
    ctx: typer.Context,
    submission_id: IdArg,
    reason: Annotated[
        str, typer.Option(help="Why, in one sentence; the submitter sees it on the status page.")
    ],
) -> None:
    """Reject a pending submission with a reason.

    Example: shiporskip submissions reject 3 --reason "Not an AI tool."
    """
    with runtime(ctx) as rt:
        done = _store(rt).reject(submission_id, reason)
    console.print(f"Rejected submission {done.id} ({done.tool.name}).", markup=False)


@votes_app.command("void")
def votes_void(
    ctx: typer.Context,
    voter: Annotated[str | None, typer.Option(help="Void every vote of this voter id.")] = None,
    ip: Annotated[
        str | None,
        typer.Option(help="Void every vote from this IP address or range, e.g. 203.0.113.0/24."),
    ] = None,
) -> None:
    """Void the votes of a voter or an IP range and suspend the voters; counts recompute.

    Example: shiporskip votes void --ip 203.0.113.0/24
    """
    if (voter is None) == (ip is None):
        raise UserError("give either --voter ID or --ip CIDR (one of them)")
    with runtime(ctx) as rt:
        count, who = moderation.void(rt, voter or "", ip or "")
    console.print(
        f"Voided {count} votes of {who}; the community counts now leave them out.",
        markup=False,
    )


def _event_data(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in event.items()}


@votes_app.command("log")
def votes_log(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many events, newest first.", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Show the vote audit log: every vote, change, refusal and void, newest first.

    Example: shiporskip votes log --limit 20
    """
    with runtime(ctx) as rt:
        events = VoteStore(rt.engine).events(limit)
    if as_json:
        print_json({"count": len(events), "events": [_event_data(e) for e in events]})
        return
    table = Table(title=f"{len(events)} vote events", title_justify="left")
    for column in ("when (UTC)", "tool", "voter", "ip", "action", "result"):
        table.add_column(column)
    for e in events:
        result = "accepted" if e["accepted"] else "refused"
        table.add_row(
            *cells(
                f"{e['created_at']:%Y-%m-%d %H:%M:%S}",
                e["slug"] or "—",
                e["voter_id"],
                e["ip"],
                e["action"],
                result + (f": {e['reason']}" if e["reason"] else ""),
            )
        )
    console.print(table)
