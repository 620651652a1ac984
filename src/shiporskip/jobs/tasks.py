"""The tasks: what the daily review and the weekly digest actually do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shiporskip.comparisons import comparisons_for
from shiporskip.errors import UserError
from shiporskip.jobs.api import task
from shiporskip.panel.factory import open_pairwise, open_panel
from shiporskip.runtime import Runtime
from shiporskip.storage.reviews import panels
from shiporskip.storage.schema import comparisons, jobs, tools


def next_tool(runtime: Runtime) -> str | None:
    """The next tool to review: incomplete panel, not already queued, oldest in the catalog."""
    critic_ids = {c.id for c in runtime.critics()}
    current = panels(runtime.engine)
    with runtime.engine.connect() as conn:
        pending = {
            str((row.args or {}).get("slug"))
            for row in conn.execute(
                sa.select(jobs.c.args).where(
                    jobs.c.task == "review_tool", jobs.c.status.in_(("queued", "running"))
                )
            )
        }
        slugs = list(conn.scalars(sa.select(tools.c.slug).order_by(tools.c.created_at, tools.c.id)))
    for slug in slugs:
        panel = current.get(slug)
        reported = set(panel.votes) if panel else set()
        if not critic_ids <= reported and slug not in pending:
            return str(slug)
    return None


@task("review_tool")
def review_tool(runtime: Runtime, args: dict[str, Any]) -> str:
    """Review a tool with the whole panel, then publish its comparisons.

    Safe to run again after a crash: critics that already reported are not asked twice.
    An incomplete panel raises, so the job is retried (for the missing critics only).
    """
    slug = str(args["slug"])
    critics = runtime.critics()

    async def go() -> Any:
        async with open_panel(runtime, critics) as panel:
            return await panel.review(slug, critics)

    run = asyncio.run(go())
    summary = run.summary
    if not summary.complete:
        errors = sorted({r.error or "failed" for r in run.failed.values()})
        raise UserError(f"{summary.status}: {'; '.join(errors)[:500]}")
    published = publish_comparisons(runtime, slug)
    picked = pick_comparisons(runtime, slug)
    return (
        f"{slug}: {summary.tally} ({summary.status}); {published} comparisons published; {picked}"
    )


def pick_comparisons(runtime: Runtime, slug: str) -> str:
    """Pairwise picks for the tool's published comparisons (critics with a stored pick on
    the same inputs are not asked again). A failed critic raises, so the job is retried."""
    critics = runtime.critics()
    tool = runtime.catalog.get(slug)
    pairs = comparisons_for(runtime, tool)

    async def go() -> list[Any]:
        async with open_pairwise(runtime, critics) as pairwise:
            return [await pairwise.compare(a, b, critics) for a, b in pairs]

    runs = asyncio.run(go()) if pairs else []
    failed = [r for run in runs for r in run.records.values() if not r.ok]
    if failed:
        errors = sorted({r.error or "failed" for r in failed})
        raise UserError(f"{len(failed)} pairwise picks failed: {'; '.join(errors)[:500]}")
    asked = sum(len(run.records) for run in runs)
    return f"pairwise picks on {len(runs)} comparisons ({asked} critics asked)"


def publish_comparisons(runtime: Runtime, slug: str) -> int:
    """Record the tool's comparisons with its nearest competitors (once each)."""
    tool = runtime.catalog.get(slug)
    added = 0
    for a, b in comparisons_for(runtime, tool):
        a_id, b_id = runtime.catalog.tool_id(a), runtime.catalog.tool_id(b)
        try:
            with runtime.engine.begin() as conn:
                conn.execute(
                    sa.insert(comparisons).values(
                        a_tool_id=a_id, b_tool_id=b_id, created_at=datetime.now(UTC)
                    )
                )
            added += 1
        except IntegrityError:
            continue
    return added


@task("send_digest")
def send_digest(runtime: Runtime, args: dict[str, Any]) -> str:
    """Send a week's digest to confirmed subscribers; resumes where a crashed run stopped."""
    from shiporskip.newsletter.campaign import send_digest as send

    report = send(runtime, args.get("week"))
    if report.empty:
        return f"week {report.week}: nothing new, no issue sent"
    return f"week {report.week}: {report.sent_now} sent now"
