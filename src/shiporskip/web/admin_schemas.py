"""What the admin JSON API (`web/admin.py`) answers, as its OpenAPI schema shows it.

The routes return the stores' data as it is (`response_model=None`: nothing filtered or
re-encoded); these models document it, and the schema test checks every answer against
them. Times are ISO 8601 in UTC, with their offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AdminSubmission(BaseModel):
    id: int
    status: str = Field(description="pending, approved or rejected.")
    tool: dict[str, Any] = Field(description="The entry, in the catalog import format.")
    flags: list[dict[str, str]] = Field(description="Injection attempts found in its text.")
    reason: str | None = Field(description="Why it was rejected.")
    tool_slug: str | None = Field(description="The catalog slug, once approved.")
    job_id: int | None = Field(description="The review job queued on approval.")
    created_at: datetime
    decided_at: datetime | None
    email: str | None = Field(description="The submitter's address, if given.")
    ip: str


class SubmissionsOut(BaseModel):
    count: int
    submissions: list[AdminSubmission]


class VoteEvent(BaseModel):
    id: int
    tool_id: int | None
    slug: str | None
    voter_id: str
    ip: str
    action: str
    accepted: bool
    reason: str | None
    created_at: datetime


class VoteEventsOut(BaseModel):
    count: int
    events: list[VoteEvent]


class VoidOut(BaseModel):
    voided: int
    message: str


class ReviewQueuedOut(BaseModel):
    tool: str
    job: int | None = Field(description="The job id; null when a review is already queued.")


class AuditOut(BaseModel):
    tool: str
    count: int
    reviews: list[dict[str, Any]] = Field(
        description="Every attempt, newest first: status, review or error, model spec, "
        "prompt version, tokens, cost, latency."
    )


class JobOut(BaseModel):
    id: int
    task: str
    args: dict[str, Any]
    key: str | None
    status: str = Field(description="queued, running, done or parked.")
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime | None
    run_after: datetime | None


class JobsOut(BaseModel):
    count: int
    jobs: list[JobOut]


class RetryOut(BaseModel):
    job: int
    status: str
