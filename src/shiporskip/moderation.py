"""Moderation actions shared by the admin area and the CLI."""

from __future__ import annotations

from shiporskip.errors import UserError
from shiporskip.jobs.worker import enqueue_review, open_queue
from shiporskip.runtime import Runtime
from shiporskip.storage.submissions import Submission, SubmissionStore
from shiporskip.storage.votes import VoteStore


def store(runtime: Runtime) -> SubmissionStore:
    return SubmissionStore(runtime.engine, runtime.catalog)


def approve(runtime: Runtime, submission_id: int) -> Submission:
    """Into the catalog (one transaction), then queue the panel's review."""
    queue = open_queue(runtime)
    return store(runtime).approve(submission_id, lambda slug: enqueue_review(queue, slug))


def void(runtime: Runtime, voter: str, ip: str) -> tuple[int, str]:
    """Void the votes of one voter or one IP range; (votes voided, what was voided)."""
    voter, ip = voter.strip(), ip.strip()
    if not (voter or ip):
        raise UserError("give a voter id or an IP range (e.g. 203.0.113.0/24) to void")
    if voter and ip:
        raise UserError("give either a voter id or an IP range, not both")
    votes = VoteStore(runtime.engine)
    if voter:
        return votes.void_voter(voter), f"voter {voter}, now suspended"
    return votes.void_network(ip), f"network {ip}, its voters suspended"


def review(runtime: Runtime, slug: str) -> int | None:
    """Queue a panel review of one tool; the job id, or None when one is already queued."""
    runtime.catalog.get(slug)
    return enqueue_review(open_queue(runtime), slug)
