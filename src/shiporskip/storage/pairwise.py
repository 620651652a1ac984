"""The pairwise-picks repository: append-only, audited like reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shiporskip.domain.pairwise import Choice, PickRecord
from shiporskip.storage.schema import pairwise_picks, tools

_a, _b = tools.alias("pair_a"), tools.alias("pair_b")
_SELECT = (
    sa.select(pairwise_picks, _a.c.slug.label("a_slug"), _b.c.slug.label("b_slug"))
    .join(_a, _a.c.id == pairwise_picks.c.a_tool_id)
    .join(_b, _b.c.id == pairwise_picks.c.b_tool_id)
)

# Built once per process: every compare page reads it.
_PAIR = _SELECT.where(
    sa.or_(
        sa.and_(_a.c.slug == sa.bindparam("a"), _b.c.slug == sa.bindparam("b")),
        sa.and_(_a.c.slug == sa.bindparam("b"), _b.c.slug == sa.bindparam("a")),
    )
).order_by(pairwise_picks.c.id)


def _values(record: PickRecord, a_id: int, b_id: int) -> dict[str, Any]:
    return {
        "a_tool_id": a_id,
        "b_tool_id": b_id,
        "critic_id": record.critic_id,
        "status": record.status,
        "first_pick": record.first,
        "swapped_pick": record.swapped,
        "first_reason": record.first_reason,
        "swapped_reason": record.swapped_reason,
        "first_raw": record.first_raw,
        "swapped_raw": record.swapped_raw,
        "error": record.error,
        "provider": record.provider,
        "model": record.model,
        "prompt_version": record.prompt_version,
        "input_hash": record.input_hash,
        "params": record.params,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cost_usd": record.cost_usd,
        "latency_ms": record.latency_ms,
        "attempts": record.attempts,
        "created_at": record.created_at or datetime.now(UTC),
    }


def _choice(value: str | None) -> Choice | None:
    return cast(Choice, value) if value in ("a", "b", "neither") else None


def _record(row: Any) -> PickRecord:
    return PickRecord(
        id=row.id,
        a_slug=row.a_slug,
        b_slug=row.b_slug,
        critic_id=row.critic_id,
        status=row.status,
        first=_choice(row.first_pick),
        swapped=_choice(row.swapped_pick),
        first_reason=row.first_reason,
        swapped_reason=row.swapped_reason,
        first_raw=row.first_raw,
        swapped_raw=row.swapped_raw,
        error=row.error,
        provider=row.provider,
        model=row.model,
        prompt_version=row.prompt_version,
        input_hash=row.input_hash,
        params=row.params or {},
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=row.cost_usd,
        latency_ms=row.latency_ms,
        attempts=row.attempts,
        created_at=row.created_at,
    )


def _flip(record: PickRecord) -> PickRecord:
    """A record stored with the pair the other way round, re-read in slug order."""
    other = {"a": "b", "b": "a", "neither": "neither"}
    return PickRecord(
        **{
            **{f: getattr(record, f) for f in record.__dataclass_fields__},
            "a_slug": record.b_slug,
            "b_slug": record.a_slug,
            "first": cast(Choice, other[record.swapped]) if record.swapped else None,
            "swapped": cast(Choice, other[record.first]) if record.first else None,
            "first_reason": record.swapped_reason,
            "swapped_reason": record.first_reason,
            "first_raw": record.swapped_raw,
            "swapped_raw": record.first_raw,
        }
    )


@dataclass(frozen=True, slots=True)
class SwapConsistency:
    """Over every stored pick with both answers: how many agreed, on how many pairs."""

    agreed: int
    answered: int
    pairs: int


class PairwiseStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, record: PickRecord, a_id: int, b_id: int) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(sa.insert(pairwise_picks).values(**_values(record, a_id, b_id)))
            assert result.inserted_primary_key is not None
            return int(result.inserted_primary_key[0])

    def has_ok(self, a_id: int, b_id: int, critic_id: str, input_hash: str) -> bool:
        query = (
            sa.select(pairwise_picks.c.id)
            .where(pairwise_picks.c.a_tool_id == a_id)
            .where(pairwise_picks.c.b_tool_id == b_id)
            .where(pairwise_picks.c.critic_id == critic_id)
            .where(pairwise_picks.c.input_hash == input_hash)
            .where(pairwise_picks.c.status == "ok")
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.scalar(query) is not None

    def history(self, x: str, y: str) -> list[PickRecord]:
        """Every attempt on the pair, oldest first, with a and b in slug order now."""
        a, b = sorted((x, y))
        with self.engine.connect() as conn:
            records = [_record(r) for r in conn.execute(_PAIR, {"a": a, "b": b})]
        return [r if r.a_slug == a else _flip(r) for r in records]

    def current(self, x: str, y: str) -> dict[str, PickRecord]:
        """Each critic's latest complete pick on the pair, else its latest failed attempt."""
        ok: dict[str, PickRecord] = {}
        failed: dict[str, PickRecord] = {}
        for record in self.history(x, y):
            if record.ok:
                ok[record.critic_id] = record
                failed.pop(record.critic_id, None)
            elif record.critic_id not in ok:
                failed[record.critic_id] = record
        return {**failed, **ok}

    def swap_consistency(self) -> SwapConsistency:
        """The panel's measured swap consistency over all comparisons, in one aggregate."""
        t = pairwise_picks
        both = sa.and_(t.c.first_pick.is_not(None), t.c.swapped_pick.is_not(None))
        counts = sa.select(
            sa.func.count().label("answered"),
            sa.func.coalesce(
                sa.func.sum(sa.case((t.c.first_pick == t.c.swapped_pick, 1), else_=0)), 0
            ).label("agreed"),
        ).where(t.c.status == "ok", both)
        pairs = (
            sa.select(t.c.a_tool_id, t.c.b_tool_id)
            .where(t.c.status == "ok", both)
            .distinct()
            .subquery()
        )
        with self.engine.connect() as conn:
            row = conn.execute(counts).one()
            n_pairs = conn.scalar(sa.select(sa.func.count()).select_from(pairs)) or 0
        return SwapConsistency(int(row.agreed), int(row.answered), int(n_pairs))
