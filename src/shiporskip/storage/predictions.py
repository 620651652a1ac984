"""The predictions ledger: entries written with the reviews that make them, read by status,
critic and tool, resolved once with evidence.

An entry is one tool, critic and claim (`domain.predictions.claim_key`). A critic that
repeats a claim in a re-review keeps the first entry, with its date and due date: a
prediction is judged from when it was first made, and re-reviewing cannot push a due date
back. A changed claim is a new entry; the old one stays, so a critic cannot erase a
prediction by re-reviewing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from shiporskip.domain.predictions import (
    Status,
    TrackRecord,
    add_months,
    claim_key,
    parse_outcome,
    status_of,
    tally,
    track_record,
)
from shiporskip.domain.reviews import SAMPLE_WRITTEN
from shiporskip.domain.text import check_url
from shiporskip.errors import NotFoundError, UserError
from shiporskip.storage.schema import is_row_id, predictions, reviews, tools

# Tool ids per statement when entries are caught up after a large batch of reviews.
CHUNK = 500
RESOLVED = (Status.right, Status.wrong, Status.unclear)


@dataclass(frozen=True, slots=True)
class Entry:
    """One prediction in the ledger."""

    id: int
    tool_slug: str
    tool_name: str
    critic_id: str
    claim: str
    horizon_months: int
    made_at: datetime
    due: datetime
    outcome: str | None
    evidence: str | None
    resolved_at: datetime | None
    is_sample: bool

    def status(self, now: datetime) -> Status:
        return status_of(self.outcome, self.due, now)

    def to_data(self, now: datetime) -> dict[str, Any]:
        """The entry as the API and `predictions list --json` give it."""
        return {
            "id": self.id,
            "tool": self.tool_slug,
            "critic": self.critic_id,
            "claim": self.claim,
            "made_at": self.made_at.isoformat(),
            "due": self.due.isoformat(),
            "status": self.status(now).value,
            "evidence": self.evidence,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "horizon_months": self.horizon_months,
            "sample": self.is_sample,
        }


@dataclass(frozen=True, slots=True)
class Filters:
    """Which entries to read: any of `statuses` (all when empty), of one critic, of one tool."""

    statuses: tuple[Status, ...] = ()
    critic: str | None = None
    tool: str | None = None  # a tool's current slug


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _insert(conn: Connection) -> Any:
    """An insert that skips an entry whose review or claim is already in the ledger."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(predictions).on_conflict_do_nothing()


def record_predictions(conn: Connection, tool_ids: Collection[int]) -> None:
    """Add ledger entries for the successful reviews of these tools that carry a prediction
    and have none yet, inside the caller's transaction (the review write's), oldest first so
    the earliest review of a repeated claim keeps the entry."""
    r = reviews
    has_entry = sa.exists().where(predictions.c.review_id == r.c.id)
    for ids in _chunks(sorted(set(tool_ids))):
        rows = conn.execute(
            sa.select(
                r.c.id,
                r.c.tool_id,
                r.c.critic_id,
                r.c.prediction_claim,
                r.c.prediction_months,
                r.c.is_sample,
                r.c.created_at,
            )
            .where(r.c.tool_id.in_(ids))
            .where(r.c.status == "ok")
            .where(r.c.prediction_claim.is_not(None))
            .where(r.c.prediction_months.is_not(None))
            .where(~has_entry)
            .order_by(r.c.id)
        ).all()
        if not rows:
            continue
        # Repeated claims are left out here rather than by the unique constraint alone, which
        # on PostgreSQL would spend an id on every refused row, on every later write.
        p = predictions.c
        known = {
            (row.tool_id, row.critic_id, row.claim_key)
            for row in conn.execute(
                sa.select(p.tool_id, p.critic_id, p.claim_key).where(p.tool_id.in_(ids))
            )
        }
        values = []
        for row in rows:
            entry = _entry_values(row)
            key = (row.tool_id, row.critic_id, entry["claim_key"])
            if key not in known:
                known.add(key)
                values.append(entry)
        if values:
            # The constraint still decides between two writers of the same tool at once.
            conn.execute(_insert(conn), values)


def _entry_values(row: Any) -> dict[str, Any]:
    # A sample review's claim was made when the sample was written, not when it was loaded.
    made = SAMPLE_WRITTEN if row.is_sample else row.created_at
    return {
        "review_id": row.id,
        "tool_id": row.tool_id,
        "critic_id": row.critic_id,
        "claim": row.prediction_claim,
        "claim_key": claim_key(row.prediction_claim),
        "horizon_months": row.prediction_months,
        "made_at": made,
        "due": add_months(made, row.prediction_months),
        "is_sample": row.is_sample,
    }


_SELECT = sa.select(predictions, tools.c.slug, tools.c.name.label("tool_name")).join(
    tools, tools.c.id == predictions.c.tool_id
)


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        tool_slug=row.slug,
        tool_name=row.tool_name,
        critic_id=row.critic_id,
        claim=row.claim,
        horizon_months=row.horizon_months,
        made_at=row.made_at,
        due=row.due,
        outcome=row.outcome,
        evidence=row.evidence,
        resolved_at=row.resolved_at,
        is_sample=bool(row.is_sample),
    )


def _status_clause(status: Status, now: datetime) -> sa.ColumnElement[bool]:
    p = predictions.c
    if status is Status.open:
        return sa.and_(p.outcome.is_(None), p.due > now)
    if status is Status.due:
        return sa.and_(p.outcome.is_(None), p.due <= now)
    return p.outcome == status.value


def _filtered(query: Any, filters: Filters, now: datetime) -> Any:
    if filters.statuses:
        query = query.where(sa.or_(*(_status_clause(s, now) for s in filters.statuses)))
    if filters.critic is not None:
        query = query.where(predictions.c.critic_id == filters.critic)
    if filters.tool is not None:
        query = query.where(
            predictions.c.tool_id.in_(sa.select(tools.c.id).where(tools.c.slug == filters.tool))
        )
    return query


class PredictionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(
        self, filters: Filters, now: datetime, *, after: int = 0, limit: int = 50
    ) -> list[Entry]:
        """Up to `limit` entries after id `after`, in the order they were made (by id)."""
        query = _filtered(_SELECT, filters, now).where(predictions.c.id > after)
        query = query.order_by(predictions.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def counts(self, filters: Filters, now: datetime) -> dict[Status, int]:
        """How many entries have each status (the filters' statuses are ignored)."""
        p = predictions.c
        status = sa.case(
            (p.outcome.is_not(None), p.outcome),
            (p.due <= now, sa.literal(Status.due.value)),
            else_=sa.literal(Status.open.value),
        ).label("status")
        scope = Filters(critic=filters.critic, tool=filters.tool)
        query = _filtered(sa.select(status, sa.func.count()), scope, now).group_by(status)
        found = dict.fromkeys(Status, 0)
        with self.engine.connect() as conn:
            for value, n in conn.execute(query):
                found[Status(value)] = int(n)
        return found

    def get(self, prediction_id: int) -> Entry | None:
        if not is_row_id(prediction_id):
            return None
        with self.engine.connect() as conn:
            return self._get(conn, prediction_id)

    @staticmethod
    def _get(conn: Connection, prediction_id: int) -> Entry | None:
        row = conn.execute(_SELECT.where(predictions.c.id == prediction_id)).first()
        return None if row is None else _entry(row)

    def resolve(self, prediction_id: int, outcome: str, evidence: str, now: datetime) -> Entry:
        """Record how a prediction turned out, once, with a web address that shows it.

        A prediction may be resolved before it is due: a claim can come true, or be
        refuted, early. A resolved prediction stays as resolved.
        """
        try:
            chosen = parse_outcome(outcome)
            address = check_url(evidence)
        except ValueError as exc:
            raise UserError(f"cannot resolve prediction {prediction_id}: {exc}") from None
        missing = NotFoundError(f"no prediction {prediction_id}; see `shiporskip predictions list`")
        if not is_row_id(prediction_id):
            raise missing
        with self.engine.begin() as conn:
            done = conn.execute(
                sa.update(predictions)
                .where(predictions.c.id == prediction_id)
                .where(predictions.c.outcome.is_(None))
                .values(outcome=chosen.value, evidence=address, resolved_at=now)
            )
            entry = self._get(conn, prediction_id)
        if entry is None:
            raise missing
        if done.rowcount == 0:
            assert entry.resolved_at is not None
            raise UserError(
                f"prediction {prediction_id} was already resolved as {entry.outcome} on "
                f"{entry.resolved_at:%Y-%m-%d} (evidence {entry.evidence}); an outcome, "
                "once recorded, stays"
            )
        return entry

    def track_records(self, critic_ids: Collection[str] | None = None) -> dict[str, TrackRecord]:
        """Each critic's track record (critics without predictions have an empty one)."""
        p = predictions.c
        query = sa.select(p.critic_id, p.is_sample, p.outcome, sa.func.count()).group_by(
            p.critic_id, p.is_sample, p.outcome
        )
        if critic_ids is not None:
            query = query.where(p.critic_id.in_(list(critic_ids)))
        counts: dict[tuple[str, bool], list[tuple[str | None, int]]] = {}
        with self.engine.connect() as conn:
            for critic, sample, outcome, n in conn.execute(query):
                counts.setdefault((critic, bool(sample)), []).append((outcome, int(n)))
        wanted = set(critic_ids) if critic_ids is not None else {c for c, _ in counts}
        return {
            critic: track_record(
                tally(counts.get((critic, False), [])), tally(counts.get((critic, True), []))
            )
            for critic in wanted
        }
