"""Builders for newsletter tests: tools with votes at chosen times, confirmed subscribers."""

from __future__ import annotations

from datetime import datetime

from shiporskip.domain.reviews import Verdict
from shiporskip.newsletter.subscribers import SubscriberStore
from shiporskip.runtime import Runtime
from tests.factories import make_tool, review_record

CRITICS = ("builder", "skeptic", "futurist", "buyer", "operator", "user", "scientist")


def add_tool(runtime: Runtime, name: str, **overrides: object) -> str:
    return runtime.catalog.add(make_tool(name, **overrides)).slug


def vote(
    runtime: Runtime,
    slug: str,
    verdicts: str,
    when: datetime,
    scores: list[int] | None = None,
    sample: bool = False,
) -> None:
    """One review per critic, in panel order: 'S' ships, 'K' skips, '.' leaves a critic out."""
    tool_id = runtime.catalog.tool_id(slug)
    rows = []
    for i, (critic, mark) in enumerate(zip(CRITICS, verdicts, strict=False)):
        if mark == ".":
            continue
        verdict = Verdict.ship if mark == "S" else Verdict.skip
        score = scores[i] if scores else (70 if mark == "S" else 30)
        record = review_record(
            slug,
            critic,
            verdict.value,
            score,
            one_liner="A take.",
            body="Body text.",
            input_hash=f"{slug}:{critic}:{when.isoformat()}",
            created_at=when,
            is_sample=sample,
        )
        rows.append((record, tool_id))
    runtime.reviews.add_many(rows)


def confirmed(runtime: Runtime, *emails: str, now: datetime) -> list[int]:
    """Subscribe and confirm addresses directly in the store; their ids."""
    store = SubscriberStore(runtime.engine)
    ids = []
    for email in emails:
        outcome = store.subscribe(email, now)
        store.confirm(outcome.subscriber_id, now)
        ids.append(outcome.subscriber_id)
    return ids
