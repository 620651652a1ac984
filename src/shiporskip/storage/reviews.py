"""The review repository: append-only attempts, and the current panel derived from them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shiporskip.domain.panel import Attempt, PanelRead, read_panel
from shiporskip.domain.reviews import (
    PanelSummary,
    Prediction,
    ReviewDraft,
    ReviewRecord,
    Verdict,
)
from shiporskip.llm.labels import public_model_label
from shiporskip.storage.history import record_changes
from shiporskip.storage.predictions import record_predictions
from shiporskip.storage.schema import reviews, tool_panels, tools
from shiporskip.storage.summaries import write_seats


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


# Every column `_record` reads: not `parsed`, the draft again as JSON, which would be
# decoded for each row and never used.
_SELECT = sa.select(*(c for c in reviews.c if c.name != "parsed"), tools.c.slug).join(
    tools, tools.c.id == reviews.c.tool_id
)
# What the panel read model needs of an attempt: no texts, no raw output.
_ATTEMPT_COLUMNS = (
    reviews.c.id,
    reviews.c.tool_id,
    reviews.c.critic_id,
    reviews.c.status,
    reviews.c.verdict,
    reviews.c.score,
    reviews.c.created_at,
    reviews.c.model,
    reviews.c.provider,
    reviews.c.is_sample,
)
# Built once per process (pages read these on every request; building costs more than running).
_HISTORY = _SELECT.where(tools.c.slug == sa.bindparam("slug")).order_by(reviews.c.id)
_HISTORIES = _SELECT.where(tools.c.slug.in_(sa.bindparam("slugs", expanding=True))).order_by(
    reviews.c.id
)
_PANELS = (
    sa.select(tools.c.slug, *_ATTEMPT_COLUMNS)
    .join(tools, tools.c.id == reviews.c.tool_id)
    .order_by(reviews.c.id)
)
_PANELS_OF = _PANELS.where(tools.c.slug.in_(sa.bindparam("slugs", expanding=True)))


@lru_cache(maxsize=4096)
def model_label(model: str, provider: str) -> str:
    """The public label of a stored spec; a catalog has few distinct specs, so it is cached."""
    return public_model_label(model, provider)


def _attempt(
    id_: int,
    critic_id: str,
    status: str,
    verdict: str | None,
    score: int | None,
    created_at: datetime | None,
    model: str,
    provider: str,
    is_sample: bool,
) -> Attempt:
    ok = status == "ok" and verdict is not None
    # Positional: pages build dozens of these per request (Attempt's field order).
    return Attempt(
        id_,
        critic_id,
        ok,
        Verdict(verdict) if ok and verdict is not None else None,
        score if ok else None,
        created_at or datetime.now(UTC),
        model_label(model, provider),
        bool(is_sample),
    )


def attempt_of(record: ReviewRecord) -> Attempt:
    """A stored review as the read model sees it."""
    draft = record.draft if record.ok else None
    return _attempt(
        record.id or 0,
        record.critic_id,
        record.status,
        draft.verdict.value if draft else None,
        draft.score if draft else None,
        record.created_at,
        record.model,
        record.provider,
        record.is_sample,
    )


def _attempt_of_row(row: Any) -> Attempt:
    return _attempt(
        row.id,
        row.critic_id,
        row.status,
        row.verdict,
        row.score,
        row.created_at,
        row.model,
        row.provider,
        row.is_sample,
    )


@dataclass(frozen=True, slots=True)
class CurrentPanel:
    """One tool's panel (`domain/panel.py`) with the stored records behind it."""

    read: PanelRead
    records: dict[int, ReviewRecord]

    @property
    def summary(self) -> PanelSummary:
        return self.read.summary

    def review(self, critic_id: str) -> ReviewRecord | None:
        """The review that counts for this critic."""
        seat = self.read.seat(critic_id)
        return None if seat is None or seat.counted is None else self.records[seat.counted.id]

    def failure(self, critic_id: str) -> ReviewRecord | None:
        """The critic's newest failed attempt after the review that counts, if any."""
        seat = self.read.seat(critic_id)
        return None if seat is None or seat.failure is None else self.records[seat.failure.id]

    @property
    def current(self) -> dict[str, ReviewRecord]:
        """Each critic's counted review."""
        return {
            s.critic_id: self.records[s.counted.id]
            for s in self.read.seats
            if s.counted is not None
        }

    @property
    def failed(self) -> dict[str, ReviewRecord]:
        """The newest failure of each critic with no review that counts."""
        return {
            s.critic_id: self.records[s.failure.id]
            for s in self.read.seats
            if s.failed and s.failure is not None
        }


def _current_panel(
    records: list[ReviewRecord], critic_ids: Sequence[str] | None, as_of: datetime | None = None
) -> CurrentPanel:
    read = read_panel(critic_ids, [attempt_of(r) for r in records], as_of)
    return CurrentPanel(read, {r.id: r for r in records if r.id is not None})


class ReviewStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, record: ReviewRecord, tool_id: int, *, history: bool = True) -> int:
        """Store one attempt. With `history=False` the caller records the verdict history
        itself once its batch is written (`record_history`), so a panel run of seven critics
        adds one history row, not one per critic with the tallies in between."""
        with self.engine.begin() as conn:
            result = conn.execute(sa.insert(reviews).values(**_values(record, tool_id)))
            assert result.inserted_primary_key is not None
            new_id = int(result.inserted_primary_key[0])
            refresh_panels(conn, [tool_id], new_ids=[new_id] if history else ())
            record_predictions(conn, [tool_id])
            return new_id

    def record_history(self, tool_id: int, new_ids: Collection[int]) -> None:
        """Add one verdict-history row if the attempts `new_ids`, taken together, changed
        the tool's panel. A run cut short before this call loses no change: the next
        write compares with the newest history row, not with the run's own start."""
        if not new_ids:
            return
        with self.engine.begin() as conn:
            _lock_tools(conn, [tool_id])
            record_changes(conn, attempts_by_tool(conn, [tool_id]), set(new_ids))

    def add_many(self, records: Iterable[tuple[ReviewRecord, int]]) -> None:
        rows = [_values(r, tool_id) for r, tool_id in records]
        if rows:
            with self.engine.begin() as conn:
                inserted = conn.execute(sa.insert(reviews).returning(reviews.c.id), rows)
                new_ids = [int(i) for i in inserted.scalars()]
                refresh_panels(conn, {row["tool_id"] for row in rows}, new_ids=new_ids)
                record_predictions(conn, {row["tool_id"] for row in rows})

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
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(_HISTORY, {"slug": slug})]

    def panel(
        self, slug: str, critic_ids: Sequence[str] | None, as_of: datetime | None = None
    ) -> CurrentPanel:
        """The tool's panel over these critics (None: every critic that has reviewed it)."""
        return _current_panel(self.history(slug), critic_ids, as_of)

    def current_panels(
        self, slugs: Sequence[str], critic_ids: Sequence[str] | None
    ) -> dict[str, CurrentPanel]:
        """`panel` of a few tools (a comparison's two) in one query."""
        found: dict[str, list[ReviewRecord]] = {slug: [] for slug in slugs}
        with self.engine.connect() as conn:
            for row in conn.execute(_HISTORIES, {"slugs": list(found)}):
                found[row.slug].append(_record(row))
        return {slug: _current_panel(records, critic_ids) for slug, records in found.items()}

    def current(self, slug: str) -> tuple[dict[str, ReviewRecord], dict[str, ReviewRecord]]:
        """Each critic's counted review, and the latest failure of critics with none, over
        every critic that has reviewed the tool (`panel` takes the configured critics)."""
        found = self.panel(slug, None)
        return found.current, found.failed

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
    """The current panel of one tool, in brief: its attempts and the read model over them."""

    slug: str
    attempts: list[Attempt] = field(default_factory=list)
    _everyone: PanelRead | None = field(default=None, repr=False, compare=False)

    def read(
        self, critic_ids: Sequence[str] | None = None, as_of: datetime | None = None
    ) -> PanelRead:
        """The read model over these critics (None: every critic that has reviewed it)."""
        if critic_ids is not None or as_of is not None:
            return read_panel(critic_ids, self.attempts, as_of)
        # Lists ask for votes, failures and times of every panel: read it once.
        if self._everyone is None:
            self._everyone = read_panel(None, self.attempts)
        return self._everyone

    def summary(self, critic_ids: Sequence[str]) -> PanelSummary:
        return self.read(critic_ids).summary

    @property
    def votes(self) -> dict[str, Vote]:
        """Each critic's counted review, every critic that has reviewed the tool."""
        out = {}
        for a in self.read().counted:
            assert a.verdict is not None and a.score is not None
            out[a.critic_id] = Vote(
                a.critic_id, a.verdict, a.score, a.id, a.created_at, a.is_sample
            )
        return out

    @property
    def failed(self) -> set[str]:
        return {s.critic_id for s in self.read().seats if s.failed}

    @property
    def reviewed_at(self) -> datetime | None:
        return self.read().reviewed_at

    @property
    def sample(self) -> bool:
        return self.read().sample


def attempts_by_tool(
    conn: Connection, tool_ids: Collection[int] | None = None
) -> dict[int, list[Attempt]]:
    """Every attempt of these tools (or all), oldest first, without texts."""
    query = sa.select(*_ATTEMPT_COLUMNS).order_by(reviews.c.id)
    if tool_ids is not None:
        query = query.where(reviews.c.tool_id.in_(sorted(tool_ids)))
    out: dict[int, list[Attempt]] = {}
    for row in conn.execute(query):
        out.setdefault(row.tool_id, []).append(_attempt_of_row(row))
    return out


def panels(engine: Engine, slugs: Iterable[str] | None = None) -> dict[str, ToolPanel]:
    """The current panel of many tools in one query."""
    query, params = (_PANELS, {}) if slugs is None else (_PANELS_OF, {"slugs": list(slugs)})
    out: dict[str, ToolPanel] = {}
    with engine.connect() as conn:
        for row in conn.execute(query, params):
            panel = out.get(row.slug)
            if panel is None:
                panel = out[row.slug] = ToolPanel(row.slug)
            panel.attempts.append(_attempt_of_row(row))
    return out


def reviews_by_id(engine: Engine, ids: Collection[int]) -> dict[int, ReviewRecord]:
    """Full records of a few reviews (a page of a critic's reviews), by id."""
    if not ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(_SELECT.where(reviews.c.id.in_(sorted(ids))))
        return {row.id: _record(row) for row in rows}


def _lock_tools(conn: Connection, tool_ids: Sequence[int]) -> None:
    """Serialise writers of the same tools: a second transaction waits here until the first
    commits, then recomputes from both reviews. NO KEY UPDATE does not conflict with the
    key-share lock the review's foreign key takes, so it cannot deadlock against a
    concurrent review insert. SQLite has a single writer anyway."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.select(tools.c.id)
            .where(tools.c.id.in_(tool_ids))
            .order_by(tools.c.id)
            .with_for_update(key_share=True)
        )


def refresh_panels(
    conn: Connection,
    tool_ids: Collection[int] | None = None,
    *,
    new_ids: Collection[int] = (),
) -> None:
    """Recompute `tool_panels` for some tools (or all) inside the caller's transaction, with
    the read model (`domain/panel.py`) over every critic that has reviewed each tool, and
    add a verdict-history row for each tool whose panel the reviews `new_ids` changed."""
    wanted: list[int] | None = None
    if tool_ids is not None:
        wanted = sorted(set(tool_ids))
        if not wanted:
            return
        _lock_tools(conn, wanted)
    attempts = attempts_by_tool(conn, wanted)
    # The database lower-cases the sort name, as the indexes on `tools` do (SQLite's lower()
    # folds ASCII only, unlike Python's).
    names = sa.select(tools.c.id, tools.c.category, tools.c.name, sa.func.lower(tools.c.name))
    if wanted is not None:
        names = names.where(tools.c.id.in_(wanted))
    rows = []
    for tool_id, category, name, sort_name in conn.execute(names):
        if tool_id not in attempts:
            continue
        panel = read_panel(None, attempts[tool_id])
        s = panel.summary
        rows.append(
            {
                "tool_id": tool_id,
                "category": category,
                "name": name,
                "sort_name": sort_name,
                "ships": s.ships,
                "skips": s.skips,
                "reported": s.reported,
                "failed": s.failed,
                "mean_score": s.mean_score,
                "ship_pct": s.ship_pct,
                "reviewed_at": panel.reviewed_at,
                "is_sample": panel.sample,
            }
        )
    if wanted is None:
        conn.execute(sa.delete(tool_panels))
    else:
        conn.execute(sa.delete(tool_panels).where(tool_panels.c.tool_id.in_(wanted)))
    if rows:
        conn.execute(sa.insert(tool_panels), rows)
    write_seats(conn, wanted, attempts)
    if new_ids:
        record_changes(conn, attempts, set(new_ids))
