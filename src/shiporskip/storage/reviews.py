"""The review repository: append-only attempts, and the current panel derived from them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shiporskip.domain.reviews import (
    PanelSummary,
    Prediction,
    ReviewDraft,
    ReviewRecord,
    Verdict,
    summarize,
)
from shiporskip.storage.schema import reviews, tool_panels, tools


def _values(record: ReviewRecord, tool_id: int) -> dict[str, Any]:
    draft = record.draft
    prediction = draft.prediction if draft else None
    return {
        "tool_id": tool_id,
        "critic_id": record.critic_id,
        "status": record.status,
        "verdict": draft.verdict.value if draft else None,
        "score": draft.score if draft else None,
        "one_liner": draft.one_liner if draft else None,
        "body": draft.body if draft else None,
        "competitors": list(draft.competitors) if draft else [],
        "prediction_claim": prediction.claim if prediction else None,
        "prediction_months": prediction.horizon_months if prediction else None,
        "notes": list(record.notes),
        "provider": record.provider,
        "model": record.model,
        "prompt_version": record.prompt_version,
        "input_hash": record.input_hash,
        "params": record.params,
        "raw_output": record.raw_output,
        "parsed": draft.model_dump(mode="json") if draft else None,
        "error": record.error,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cost_usd": record.cost_usd,
        "latency_ms": record.latency_ms,
        "attempts": record.attempts,
        "is_sample": record.is_sample,
        "created_at": record.created_at or datetime.now(UTC),
    }


def _record(row: Any) -> ReviewRecord:
    draft = None
    if row.status == "ok":
        prediction = (
            Prediction(claim=row.prediction_claim, horizon_months=row.prediction_months)
            if row.prediction_claim
            else None
        )
        draft = ReviewDraft(
            verdict=row.verdict,
            score=row.score,
            one_liner=row.one_liner,
            body=row.body,
            competitors=tuple(row.competitors or ()),
            prediction=prediction,
        )
    return ReviewRecord(
        id=row.id,
        tool_slug=row.slug,
        critic_id=row.critic_id,
        status=row.status,
        draft=draft,
        provider=row.provider,
        model=row.model,
        prompt_version=row.prompt_version,
        input_hash=row.input_hash,
        params=row.params or {},
        raw_output=row.raw_output,
        error=row.error,
        notes=tuple(row.notes or ()),
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_usd=row.cost_usd,
        latency_ms=row.latency_ms,
        attempts=row.attempts,
        is_sample=row.is_sample,
        created_at=row.created_at,
    )


_SELECT = sa.select(reviews, tools.c.slug).join(tools, tools.c.id == reviews.c.tool_id)


class ReviewStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, record: ReviewRecord, tool_id: int) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(sa.insert(reviews).values(**_values(record, tool_id)))
            assert result.inserted_primary_key is not None
            refresh_panels(conn, [tool_id])
            return int(result.inserted_primary_key[0])

    def add_many(self, records: Iterable[tuple[ReviewRecord, int]]) -> None:
        rows = [_values(r, tool_id) for r, tool_id in records]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(reviews), rows)
                refresh_panels(conn, {row["tool_id"] for row in rows})

    def has_ok(self, tool_id: int, critic_id: str, input_hash: str) -> bool:
        query = (
            sa.select(reviews.c.id)
            .where(reviews.c.tool_id == tool_id)
            .where(reviews.c.critic_id == critic_id)
            .where(reviews.c.input_hash == input_hash)
            .where(reviews.c.status == "ok")
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.scalar(query) is not None

    def history(self, slug: str) -> list[ReviewRecord]:
        """Every attempt for a tool, oldest first."""
        query = _SELECT.where(tools.c.slug == slug).order_by(reviews.c.id)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query)]

    def current(self, slug: str) -> tuple[dict[str, ReviewRecord], dict[str, ReviewRecord]]:
        """Each critic's latest successful review, and the latest failure of critics with none."""
        ok: dict[str, ReviewRecord] = {}
        failed: dict[str, ReviewRecord] = {}
        for record in self.history(slug):
            if record.ok:
                ok[record.critic_id] = record
                failed.pop(record.critic_id, None)
            elif record.critic_id not in ok:
                failed[record.critic_id] = record
        return ok, failed

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(reviews)) or 0)


@dataclass(frozen=True, slots=True)
class Vote:
    """A critic's current verdict on a tool, without the text: what lists and tallies need."""

    critic_id: str
    verdict: Verdict
    score: int
    review_id: int
    created_at: datetime
    is_sample: bool


@dataclass(slots=True)
class ToolPanel:
    """The current panel of one tool, in brief."""

    slug: str
    votes: dict[str, Vote] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)

    def summary(self, critic_ids: Sequence[str]) -> PanelSummary:
        votes = [self.votes[c] for c in critic_ids if c in self.votes]
        return summarize(
            [v.verdict for v in votes],
            expected=len(critic_ids),
            failed=sum(1 for c in critic_ids if c in self.failed and c not in self.votes),
            scores=[v.score for v in votes],
        )

    @property
    def reviewed_at(self) -> datetime | None:
        return max((v.created_at for v in self.votes.values()), default=None)

    @property
    def sample(self) -> bool:
        return bool(self.votes) and all(v.is_sample for v in self.votes.values())


def panels(engine: Engine, slugs: Iterable[str] | None = None) -> dict[str, ToolPanel]:
    """The current panel of many tools in one query (latest ok review per critic wins)."""
    query = (
        sa.select(
            tools.c.slug,
            reviews.c.id,
            reviews.c.critic_id,
            reviews.c.status,
            reviews.c.verdict,
            reviews.c.score,
            reviews.c.created_at,
            reviews.c.is_sample,
        )
        .join(tools, tools.c.id == reviews.c.tool_id)
        .order_by(reviews.c.id)
    )
    if slugs is not None:
        query = query.where(tools.c.slug.in_(list(slugs)))
    out: dict[str, ToolPanel] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            panel = out.setdefault(row.slug, ToolPanel(row.slug))
            if row.status == "ok":
                panel.votes[row.critic_id] = Vote(
                    row.critic_id,
                    Verdict(row.verdict),
                    row.score,
                    row.id,
                    row.created_at,
                    row.is_sample,
                )
                panel.failed.discard(row.critic_id)
            elif row.critic_id not in panel.votes:
                panel.failed.add(row.critic_id)
    return out


def reviews_by_critic(engine: Engine, critic_id: str) -> list[ReviewRecord]:
    """A critic's current reviews, newest first."""
    query = (
        _SELECT.where(reviews.c.critic_id == critic_id)
        .where(reviews.c.status == "ok")
        .order_by(reviews.c.id.desc())
    )
    seen: set[str] = set()
    out = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            if row.slug not in seen:
                seen.add(row.slug)
                out.append(_record(row))
    return out


def panel_rows(some: bool) -> sa.Select[Any]:
    """The `tool_panels` rows computed from `reviews`: of the tools in the expanding
    parameter `tool_ids` when `some`, else of all of them.

    The same rule as `panels()`: a critic's latest successful review counts, and a critic
    counts as failed when it has failed attempts and no successful one.
    """
    r = reviews.alias("r")
    latest = sa.select(sa.func.max(reviews.c.id)).where(reviews.c.status == "ok")
    failed_rows = sa.select(r.c.tool_id, r.c.critic_id).where(r.c.status != "ok")
    everyone = sa.select(reviews.c.tool_id).distinct()
    if some:
        wanted: sa.BindParameter[list[int]] = sa.bindparam("tool_ids", expanding=True)
        latest = latest.where(reviews.c.tool_id.in_(wanted))
        failed_rows = failed_rows.where(r.c.tool_id.in_(wanted))
        everyone = everyone.where(reviews.c.tool_id.in_(wanted))
    latest = latest.group_by(reviews.c.tool_id, reviews.c.critic_id)
    ok = (
        sa.select(
            r.c.tool_id,
            sa.func.sum(sa.case((r.c.verdict == "ship", 1), else_=0)).label("ships"),
            sa.func.count().label("reported"),
            sa.func.avg(r.c.score).label("mean_score"),
            sa.func.max(r.c.created_at).label("reviewed_at"),
            sa.func.min(sa.case((r.c.is_sample, 1), else_=0)).label("sample"),
        )
        .where(r.c.id.in_(latest))
        .group_by(r.c.tool_id)
        .subquery("ok")
    )
    o = reviews.alias("o")
    has_ok = (
        sa.select(o.c.id)
        .where(o.c.tool_id == r.c.tool_id)
        .where(o.c.critic_id == r.c.critic_id)
        .where(o.c.status == "ok")
        .exists()
    )
    attempts = failed_rows.where(~has_ok).subquery("attempts")
    failed = (
        sa.select(
            attempts.c.tool_id,
            sa.func.count(sa.distinct(attempts.c.critic_id)).label("failed"),
        )
        .group_by(attempts.c.tool_id)
        .subquery("failed")
    )
    ids = everyone.subquery("ids")
    ships = sa.func.coalesce(ok.c.ships, 0)
    reported = sa.func.coalesce(ok.c.reported, 0)
    return (
        sa.select(
            ids.c.tool_id,
            tools.c.category,
            tools.c.name,
            sa.func.lower(tools.c.name).label("sort_name"),
            ships.label("ships"),
            (reported - ships).label("skips"),
            reported.label("reported"),
            sa.func.coalesce(failed.c.failed, 0).label("failed"),
            sa.cast(ok.c.mean_score, sa.Float).label("mean_score"),
            sa.case(
                (reported > 0, sa.cast(100.0 * ships, sa.Float) / sa.cast(reported, sa.Float)),
                else_=None,
            ).label("ship_pct"),
            ok.c.reviewed_at,
            (sa.func.coalesce(ok.c.sample, 0) == 1).label("is_sample"),
        )
        .select_from(ids)
        .join(tools, tools.c.id == ids.c.tool_id)
        .outerjoin(ok, ok.c.tool_id == ids.c.tool_id)
        .outerjoin(failed, failed.c.tool_id == ids.c.tool_id)
    )


PANEL_COLUMNS = (
    "tool_id",
    "category",
    "name",
    "sort_name",
    "ships",
    "skips",
    "reported",
    "failed",
    "mean_score",
    "ship_pct",
    "reviewed_at",
    "is_sample",
)


# Built once: every review write runs one of these.
_REFRESH_SOME = sa.insert(tool_panels).from_select(list(PANEL_COLUMNS), panel_rows(some=True))
_REFRESH_ALL = sa.insert(tool_panels).from_select(list(PANEL_COLUMNS), panel_rows(some=False))


def refresh_panels(conn: Connection, tool_ids: Collection[int] | None = None) -> None:
    """Recompute `tool_panels` for some tools (or all) inside the caller's transaction."""
    if tool_ids is not None:
        wanted = sorted(set(tool_ids))
        if not wanted:
            return
        # Serialise writers of the same tool: a second transaction waits here until the
        # first commits, then recomputes from both reviews. NO KEY UPDATE does not conflict
        # with the key-share lock the review's foreign key takes, so it cannot deadlock
        # against a concurrent review insert. SQLite has a single writer anyway.
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.select(tools.c.id)
                .where(tools.c.id.in_(wanted))
                .order_by(tools.c.id)
                .with_for_update(key_share=True)
            )
        conn.execute(sa.delete(tool_panels).where(tool_panels.c.tool_id.in_(wanted)))
        conn.execute(_REFRESH_SOME, {"tool_ids": wanted})
    else:
        conn.execute(sa.delete(tool_panels))
        conn.execute(_REFRESH_ALL)
