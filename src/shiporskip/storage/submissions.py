"""The submissions repository: tools proposed by the public, in a moderation queue.

A submission is validated like a catalog entry before it is stored, refused while the
product is in the catalog or already pending, and rate-limited per IP address. Approving
writes the tool into the catalog and marks the submission in one transaction.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from shiporskip.domain.tools import Tool
from shiporskip.errors import DuplicateToolError, NotFoundError, UserError
from shiporskip.storage.catalog import CatalogStore
from shiporskip.storage.schema import is_row_id, submissions
from shiporskip.storage.votes import RateLimited

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUSES = (PENDING, APPROVED, REJECTED)
WINDOW = timedelta(hours=1)
MAX_REASON = 1000


class DuplicateSubmissionError(UserError):
    """The product is already waiting in the moderation queue."""

    def __init__(self, message: str, existing_id: int | None) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class SubmissionStateError(UserError):
    """An action the submission's state does not allow (e.g. approving it twice)."""


@dataclass(frozen=True, slots=True)
class Submission:
    """One proposed tool and what the moderators decided."""

    id: int
    status: str
    tool: Tool
    email: str | None
    ip: str
    flags: tuple[dict[str, str], ...]
    reason: str | None
    tool_slug: str | None
    job_id: int | None
    created_at: datetime
    decided_at: datetime | None

    def to_data(self, *, private: bool = True) -> dict[str, Any]:
        """JSON-ready; `private=False` leaves out the submitter's email and address."""
        data: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "tool": self.tool.to_data(),
            "flags": list(self.flags),
            "reason": self.reason,
            "tool_slug": self.tool_slug,
            "job_id": self.job_id,
            "created_at": self.created_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }
        if private:
            data |= {"email": self.email, "ip": self.ip}
        return data


def _submission(row: Any) -> Submission:
    return Submission(
        id=int(row.id),
        status=row.status,
        tool=Tool.from_stored(row.data),
        email=row.email,
        ip=row.ip,
        flags=tuple(row.flags or ()),
        reason=row.reason,
        tool_slug=row.tool_slug,
        job_id=row.job_id,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


def _pending_refusal(tool: Tool, existing: int | None) -> DuplicateSubmissionError:
    which = f" (submission {existing})" if existing is not None else ""
    return DuplicateSubmissionError(
        f"{tool.name!r} has already been submitted and is waiting for a moderator{which}; "
        "there is no need to submit it again",
        existing,
    )


class SubmissionStore:
    """Read and write submissions. Every write is one transaction."""

    def __init__(self, engine: Engine, catalog: CatalogStore) -> None:
        self.engine = engine
        self.catalog = catalog

    # -- reads ---------------------------------------------------------------------------
    def get(self, submission_id: int) -> Submission:
        with self.engine.connect() as conn:
            return _submission(self._row(conn, submission_id))

    def list(self, status: str | None = None, limit: int = 100) -> builtins.list[Submission]:
        """Newest first; `status` filters (pending, approved or rejected)."""
        if status is not None and status not in STATUSES:
            raise UserError(f"status {status!r} is not a state; use pending, approved or rejected")
        query = sa.select(submissions).order_by(submissions.c.id.desc()).limit(limit)
        if status:
            query = query.where(submissions.c.status == status)
        with self.engine.connect() as conn:
            return [_submission(r) for r in conn.execute(query)]

    def count(self, status: str = PENDING) -> int:
        query = sa.select(sa.func.count()).where(submissions.c.status == status)
        with self.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def retry_after(self, ip: str, per_hour: int, now: datetime | None = None) -> int:
        """0 when `ip` may submit now, else the seconds until it may."""
        with self.engine.connect() as conn:
            return self._wait(conn, ip, per_hour, now or datetime.now(UTC))

    def _row(self, conn: Connection, submission_id: int) -> Any:
        row = None
        if is_row_id(submission_id):
            query = sa.select(submissions).where(submissions.c.id == submission_id)
            row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(f"no submission {submission_id}; see `shiporskip submissions list`")
        return row

    def _wait(self, conn: Connection, ip: str, per_hour: int, now: datetime) -> int:
        recent = list(
            conn.scalars(
                sa.select(submissions.c.created_at)
                .where(submissions.c.ip == ip, submissions.c.created_at > now - WINDOW)
                .order_by(submissions.c.created_at)
            )
        )
        if len(recent) < per_hour:
            return 0
        oldest = recent[len(recent) - per_hour]
        return max(1, int((oldest + WINDOW - now).total_seconds()) + 1)

    def _check_pending(self, conn: Connection, tool: Tool) -> None:
        query = sa.select(
            submissions.c.id,
            submissions.c.slug,
            submissions.c.homepage_key,
            submissions.c.name_keys,
        ).where(submissions.c.status == PENDING)
        for row in conn.execute(query):
            same_name = tool.name_keys & set(row.name_keys or ())
            if row.slug == tool.slug or row.homepage_key == tool.homepage_key or same_name:
                raise _pending_refusal(tool, int(row.id))

    # -- writes --------------------------------------------------------------------------
    def add(
        self,
        tool: Tool,
        *,
        ip: str,
        per_hour: int,
        email: str | None = None,
        voter_id: str | None = None,
        now: datetime | None = None,
    ) -> Submission:
        """Queue a validated tool for moderation, or raise saying why it was refused."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            wait = self._wait(conn, ip, per_hour, now)
            if wait:
                raise RateLimited(
                    f"too many submissions from your network in the last hour (limit "
                    f"{per_hour}); try again in {wait // 60 + 1} minutes",
                    wait,
                )
            self.catalog.conflict(conn, tool)
            self._check_pending(conn, tool)
            values = _values(tool, now) | {"email": email, "ip": ip, "voter_id": voter_id}
            try:
                result = conn.execute(sa.insert(submissions).values(**values))
            except IntegrityError:
                raise _pending_refusal(tool, None) from None
            assert result.inserted_primary_key is not None
            submission_id = int(result.inserted_primary_key[0])
        return self.get(submission_id)

    def approve(
        self,
        submission_id: int,
        queue_review: Callable[[str], int | None] | None = None,
        now: datetime | None = None,
    ) -> Submission:
        """Put the tool into the catalog and mark it approved, in one transaction; then
        queue its review with `queue_review(slug)` and record the job."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            tool = _submission(self._row(conn, submission_id)).tool
            self._decide(conn, submission_id, "approve", APPROVED, now, tool_slug=tool.slug)
            self._insert_tool(conn, submission_id, tool)
        if queue_review is not None:
            try:
                job = queue_review(tool.slug)
            except UserError as exc:
                raise UserError(
                    f"submission {submission_id} is approved and {tool.slug} is in the catalog, "
                    f"but its review was not queued ({exc}); run `shiporskip jobs review "
                    f"{tool.slug}` once the job queue works"
                ) from None
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(submissions)
                    .where(submissions.c.id == submission_id)
                    .values(job_id=job)
                )
        return self.get(submission_id)

    def reject(self, submission_id: int, reason: str, now: datetime | None = None) -> Submission:
        """Mark a pending submission rejected with a reason the submitter will see."""
        text = (reason or "").strip()
        if not text:
            raise UserError(
                "a rejection needs a reason (the submitter sees it); write one sentence, "
                "e.g. 'Not an AI tool.'"
            )
        if len(text) > MAX_REASON:
            raise UserError(f"the reason is longer than {MAX_REASON} characters; shorten it")
        with self.engine.begin() as conn:
            self._decide(conn, submission_id, "reject", REJECTED, now or datetime.now(UTC), text)
        return self.get(submission_id)

    def _decide(
        self,
        conn: Connection,
        submission_id: int,
        verb: str,
        status: str,
        now: datetime,
        reason: str | None = None,
        tool_slug: str | None = None,
    ) -> None:
        self._row(conn, submission_id)  # NotFoundError for an unknown id
        # A conditional update: of two moderators deciding at once, exactly one wins.
        done = conn.execute(
            sa.update(submissions)
            .where(submissions.c.id == submission_id, submissions.c.status == PENDING)
            .values(status=status, decided_at=now, reason=reason, tool_slug=tool_slug)
        )
        if done.rowcount != 1:
            row = self._row(conn, submission_id)
            raise SubmissionStateError(
                f"cannot {verb} submission {submission_id}: it is already {row.status}; "
                "nothing was changed"
            )

    def _insert_tool(self, conn: Connection, submission_id: int, tool: Tool) -> None:
        try:
            # CatalogStore has no public insert that joins a caller's transaction.
            self.catalog.insert(conn, tool)
        except DuplicateToolError as exc:
            reason = str(exc).split("; to change")[0]
            raise DuplicateToolError(
                f"cannot approve submission {submission_id}: {reason}; reject it as a duplicate",
                exc.existing_slug,
            ) from None
        except IntegrityError:
            raise UserError(
                f"cannot approve submission {submission_id}: the same product was added to "
                "the catalog at the same moment; reject it as a duplicate"
            ) from None


def _values(tool: Tool, now: datetime) -> dict[str, Any]:
    return {
        "status": PENDING,
        "data": tool.to_data(),
        "name": tool.name,
        "slug": tool.slug,
        "homepage_key": tool.homepage_key,
        "name_keys": sorted(tool.name_keys),
        "flags": [f.to_data() for f in tool.injection_flags()],
        "created_at": now,
    }
