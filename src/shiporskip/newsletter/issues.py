"""Digest issues and their sends: the archive, the sender lease, and per-recipient states.

Send states: pending -> sending -> sent | refused | failed | unknown, and pending ->
skipped when the subscriber left before their turn. A row is marked "sending" and
committed before the SMTP conversation starts, so after a crash a "sending" row means
"may have been delivered": it becomes "unknown", and the next run sends it again with the
same Message-ID (at least once; a receiver that already has it can drop the copy).
"""

from __future__ import annotations

import builtins
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from shiporskip.errors import UserError
from shiporskip.newsletter.digest import Digest
from shiporskip.newsletter.render import IssueContent
from shiporskip.newsletter.subscribers import CONFIRMED
from shiporskip.storage.schema import newsletter_issues as issues
from shiporskip.storage.schema import newsletter_sends as sends
from shiporskip.storage.schema import newsletter_subscribers as subs

PENDING, SENDING, SENT = "pending", "sending", "sent"
REFUSED, FAILED, UNKNOWN, SKIPPED = "refused", "failed", "unknown", "skipped"
SEND_STATES = (PENDING, SENDING, SENT, UNKNOWN, REFUSED, FAILED, SKIPPED)
# A sender that has not renewed its lease for this long is presumed dead.
LEASE_TTL = timedelta(seconds=120)


@dataclass(frozen=True, slots=True)
class Issue:
    id: int
    week: str
    subject: str
    digest: Digest
    content: IssueContent
    is_sample: bool
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SendRow:
    id: int
    subscriber_id: int
    email: str
    attempts: int
    subscriber_status: str


@dataclass(frozen=True, slots=True)
class IssueStatus:
    """Where an issue's delivery stands: rows by state, the last attempt, a live sender."""

    issue: Issue
    counts: dict[str, int]
    last_attempt_at: datetime | None
    sender: str | None  # host:pid of a sender holding a live lease, None when none runs


def _issue(row: Any) -> Issue:
    digest = Digest.model_validate(row.data)
    return Issue(
        id=row.id,
        week=row.week,
        subject=row.subject,
        digest=digest,
        content=IssueContent(row.subject, digest.summary, row.html, row.text),
        is_sample=row.is_sample,
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


def this_process() -> str:
    """Who holds a lease: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(holder: str) -> bool:
    """False only when the holder is a process on this host that no longer exists."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class IssueStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, week: str) -> Issue | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(issues).where(issues.c.week == week)).first()
        return _issue(row) if row else None

    def list(self) -> list[Issue]:
        """Every issue, newest week first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(issues).order_by(issues.c.week.desc())).all()
        return [_issue(r) for r in rows]

    def create(self, digest: Digest, content: IssueContent, now: datetime) -> Issue:
        """Freeze a week's issue; if another process froze it first, return theirs."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(issues).values(
                        week=digest.week,
                        subject=content.subject,
                        data=digest.model_dump(mode="json"),
                        html=content.body_html,
                        text=content.text,
                        is_sample=digest.sample,
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass
        issue = self.get(digest.week)
        assert issue is not None
        return issue

    @contextmanager
    def lease(self, issue: Issue, now: datetime) -> Iterator[str]:
        """Hold the issue's sender lease for the block, or raise UserError if it is held."""
        me = self._acquire(issue, now)
        try:
            yield me
        finally:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(issues)
                    .where(issues.c.id == issue.id, issues.c.sender == me)
                    .values(sender=None, sender_seen_at=None)
                )

    def _acquire(self, issue: Issue, now: datetime) -> str:
        me = this_process()
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(issues.c.sender, issues.c.sender_seen_at).where(issues.c.id == issue.id)
            ).one()
            holder, seen = row.sender, row.sender_seen_at
            fresh = seen is not None and now - seen < LEASE_TTL
            if holder and holder != me and fresh and _alive(holder):
                raise UserError(
                    f"another `digest send` for {issue.week} is running ({holder}); wait for "
                    "it to finish, or up to two minutes if it was killed on another machine"
                )
            same = issues.c.sender.is_(None) if holder is None else issues.c.sender == holder
            taken = conn.execute(
                sa.update(issues)
                .where(issues.c.id == issue.id, same)
                .values(sender=me, sender_seen_at=now)
            )
        if taken.rowcount != 1:
            raise UserError(f"another `digest send` for {issue.week} started at the same moment")
        return me

    def renew(self, issue_id: int, me: str, now: datetime) -> None:
        """Extend the lease; UserError if another process took it over."""
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(issues)
                .where(issues.c.id == issue_id, issues.c.sender == me)
                .values(sender_seen_at=now)
            )
        if result.rowcount != 1:
            raise UserError("another `digest send` took over this issue; stopping here")

    def recover(self, issue_id: int, now: datetime) -> int:
        """Rows a dead sender left in 'sending' become 'unknown' (see `resend_unknown`)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(sends)
                .where(sends.c.issue_id == issue_id, sends.c.state == SENDING)
                .values(
                    state=UNKNOWN,
                    error="the sender stopped during delivery; it may or may not have arrived",
                    updated_at=now,
                )
            )
        return int(result.rowcount)

    def resend_unknown(self, issue_id: int, now: datetime, max_attempts: int) -> int:
        """'unknown' rows with attempts left become pending again, due now; returns how many.

        The cap keeps a message that kills its sender every time from being sent forever.
        """
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(sends)
                .where(sends.c.issue_id == issue_id, sends.c.state == UNKNOWN)
                .where(sends.c.attempts < max_attempts)
                .values(state=PENDING, next_attempt_at=None, updated_at=now)
            )
        return int(result.rowcount)

    def enqueue(self, issue_id: int, now: datetime) -> int:
        """A pending row for each confirmed subscriber without one; returns how many."""
        have = sa.select(sends.c.subscriber_id).where(sends.c.issue_id == issue_id)
        missing = sa.select(subs.c.id, subs.c.email).where(
            subs.c.status == CONFIRMED, subs.c.id.not_in(have)
        )
        with self.engine.begin() as conn:
            rows = [
                {
                    "issue_id": issue_id,
                    "subscriber_id": r.id,
                    "email": r.email,
                    "state": PENDING,
                    "attempts": 0,
                    "updated_at": now,
                }
                for r in conn.execute(missing)
            ]
            if rows:
                conn.execute(sa.insert(sends), rows)
        return len(rows)

    def next_due(self, issue_id: int, now: datetime) -> SendRow | None:
        """The oldest pending row whose retry time has come."""
        query = (
            sa.select(sends, subs.c.status.label("subscriber_status"))
            .join(subs, subs.c.id == sends.c.subscriber_id)
            .where(sends.c.issue_id == issue_id, sends.c.state == PENDING)
            .where(sa.or_(sends.c.next_attempt_at.is_(None), sends.c.next_attempt_at <= now))
            .order_by(sends.c.id)
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return SendRow(row.id, row.subscriber_id, row.email, row.attempts, row.subscriber_status)

    def next_retry_at(self, issue_id: int) -> datetime | None:
        """When the earliest deferred row is due, or None when nothing is pending."""
        query = sa.select(sa.func.min(sends.c.next_attempt_at)).where(
            sends.c.issue_id == issue_id, sends.c.state == PENDING
        )
        with self.engine.connect() as conn:
            found: datetime | None = conn.scalar(query)
        return found

    def claim(self, row_id: int, now: datetime) -> bool:
        """Mark a pending row 'sending' and commit, before any SMTP; False if not pending."""
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(sends)
                .where(sends.c.id == row_id, sends.c.state == PENDING)
                .values(state=SENDING, attempts=sends.c.attempts + 1, updated_at=now)
            )
        return result.rowcount == 1

    def finish(self, row_id: int, state: str, now: datetime, error: str | None = None) -> None:
        """Record how a claimed or pending row ended."""
        values: dict[str, Any] = {"state": state, "updated_at": now, "error": error}
        if state == SENT:
            values["sent_at"] = now
        with self.engine.begin() as conn:
            conn.execute(sa.update(sends).where(sends.c.id == row_id).values(**values))

    def defer(self, row_id: int, retry_at: datetime, error: str, now: datetime) -> None:
        """A transient failure (nothing delivered): pending again, due at `retry_at`."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(sends)
                .where(sends.c.id == row_id)
                .values(state=PENDING, next_attempt_at=retry_at, error=error, updated_at=now)
            )

    def release(self, row_id: int, now: datetime) -> None:
        """Undo a claim when nothing was transmitted (setup error): pending, attempt refunded."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(sends)
                .where(sends.c.id == row_id, sends.c.state == SENDING)
                .values(state=PENDING, attempts=sends.c.attempts - 1, updated_at=now)
            )

    def counts(self, issue_id: int) -> dict[str, int]:
        """How many rows of the issue are in each state (zeros included)."""
        query = (
            sa.select(sends.c.state, sa.func.count())
            .where(sends.c.issue_id == issue_id)
            .group_by(sends.c.state)
        )
        with self.engine.connect() as conn:
            found = {state: int(n) for state, n in conn.execute(query)}
        return {state: found.get(state, 0) for state in SEND_STATES}

    def status(self, issue: Issue, now: datetime) -> IssueStatus:
        """The issue's counts by state, when a row was last attempted, and who is sending."""
        last = sa.select(sa.func.max(sends.c.updated_at)).where(
            sends.c.issue_id == issue.id, sends.c.attempts > 0
        )
        lease = sa.select(issues.c.sender, issues.c.sender_seen_at).where(issues.c.id == issue.id)
        with self.engine.connect() as conn:
            attempted = conn.scalar(last)
            holder, seen = conn.execute(lease).one()
        live = bool(holder) and seen is not None and now - seen < LEASE_TTL
        return IssueStatus(
            issue=issue,
            counts=self.counts(issue.id),
            last_attempt_at=attempted,
            sender=holder if live and _alive(holder) else None,
        )

    def complete(self, issue_id: int, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(issues)
                .where(issues.c.id == issue_id, issues.c.completed_at.is_(None))
                .values(completed_at=now)
            )

    def failures(self, issue_id: int) -> builtins.list[tuple[str, str, str]]:
        """(address, state, reason) of every row that did not end as sent."""
        query = (
            sa.select(sends.c.email, sends.c.state, sends.c.error)
            .where(sends.c.issue_id == issue_id)
            .where(sends.c.state.in_((REFUSED, FAILED, UNKNOWN)))
            .order_by(sends.c.id)
        )
        with self.engine.connect() as conn:
            return [(r.email, r.state, r.error or "") for r in conn.execute(query)]
