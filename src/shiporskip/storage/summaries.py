"""Summaries of the whole catalog (migration 0020): what pages that count every tool read.

Database triggers keep the counters (`tool_counts`, `panel_counts`, `critic_totals`,
`model_usage`, `model_tools`) in the writing transaction; `rebuild_counters` computes them
again from scratch. `panel_seats` is the one summary
written from Python: each critic's counted review of each tool, from the panel read model,
replaced by `refresh_panels` for the tools it recomputes; its trigger sums it into
`critic_totals`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shiporskip.domain.panel import Attempt, read_panel
from shiporskip.storage.schema import (
    critic_totals,
    model_tools,
    model_usage,
    panel_counts,
    panel_seats,
    reviews,
    tool_counts,
    tool_panels,
    tools,
)

BATCH = 5_000


def write_seats(
    conn: Connection,
    tool_ids: Sequence[int] | None,
    attempts: Mapping[int, list[Attempt]] | None = None,
) -> None:
    """Replace the seats of these tools (None: every tool) inside the caller's transaction.

    `attempts` are the tools' stored attempts, oldest first, when the caller has them.
    """
    if attempts is None:
        from shiporskip.storage.reviews import attempts_by_tool

        attempts = attempts_by_tool(conn, tool_ids)
    categories = sa.select(tools.c.id, tools.c.category)
    if tool_ids is not None:
        categories = categories.where(tools.c.id.in_(list(tool_ids)))
        conn.execute(sa.delete(panel_seats).where(panel_seats.c.tool_id.in_(list(tool_ids))))
    else:
        conn.execute(sa.delete(panel_seats))
    rows: list[dict[str, Any]] = []
    for tool_id, category in conn.execute(categories):
        found = attempts.get(tool_id)
        if not found:
            continue
        panel = read_panel(None, found)
        verdict = panel.summary.verdict
        if verdict is None:
            continue
        for a in panel.counted:
            assert a.verdict is not None
            rows.append(
                {
                    "tool_id": tool_id,
                    "critic_id": a.critic_id,
                    "category": category,
                    "verdict": a.verdict.value,
                    "panel_verdict": verdict.value,
                    "review_id": a.id,
                    "created_at": a.created_at,
                }
            )
        if len(rows) >= BATCH:
            conn.execute(sa.insert(panel_seats), rows)
            rows = []
    if rows:
        conn.execute(sa.insert(panel_seats), rows)


def _count_if(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def rebuild_counters(conn: Connection) -> None:
    """Every counter computed again from the rows it sums, inside the caller's transaction:
    the back-fill of migration 0020, and what a bulk load that ran without triggers calls
    after writing its rows and `refresh_panels`."""
    t, p, s, r = tools.c, tool_panels.c, panel_seats.c, reviews.c
    verdict = sa.case(
        (p.ship_pct.is_(None), "none"),
        (p.ship_pct > 50, "ship"),
        (p.ship_pct < 50, "skip"),
        else_="split",
    )
    ok = r.status == "ok"
    fills: list[tuple[sa.Table, sa.Select[Any]]] = [
        (
            tool_counts,
            sa.select(t.category, t.entry, t.is_sample, sa.func.count()).group_by(
                t.category, t.entry, t.is_sample
            ),
        ),
        (
            panel_counts,
            sa.select(p.category, verdict, sa.func.count()).group_by(p.category, verdict),
        ),
        (
            critic_totals,
            sa.select(
                s.critic_id,
                s.category,
                sa.func.count(),
                _count_if(s.verdict == "ship"),
                _count_if(s.panel_verdict == s.verdict),
                _count_if(s.panel_verdict != "split"),
                _count_if(s.panel_verdict == "split"),
            ).group_by(s.critic_id, s.category),
        ),
        (
            model_usage,
            sa.select(
                r.provider,
                r.model,
                r.critic_id,
                ok,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(r.input_tokens), 0),
                sa.func.coalesce(sa.func.sum(r.output_tokens), 0),
                sa.func.coalesce(sa.func.sum(r.cost_usd), 0.0),
            ).group_by(r.provider, r.model, r.critic_id, ok),
        ),
        (
            model_tools,
            sa.select(r.provider, r.model, sa.func.count(sa.distinct(r.tool_id))).group_by(
                r.provider, r.model
            ),
        ),
    ]
    for table, query in fills:
        conn.execute(sa.delete(table))
        conn.execute(sa.insert(table).from_select([c.name for c in table.c], query))


# -- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogCounts:
    """Tools per category, how many are sample content, and panel verdicts per category."""

    tools: dict[str, int]
    sample: int
    by_entry: dict[tuple[str, str], int]
    verdicts: dict[tuple[str, str], int]

    @property
    def total(self) -> int:
        return sum(self.tools.values())

    def reviewed(self, category: str | None = None) -> int:
        """Tools the panel has a verdict on (in one category, or all)."""
        return sum(
            n
            for (c, v), n in self.verdicts.items()
            if v != "none" and (category is None or c == category)
        )

    def with_verdict(self, verdict: str, category: str | None = None) -> int:
        return sum(
            n
            for (c, v), n in self.verdicts.items()
            if v == verdict and (category is None or c == category)
        )

    def matching(self, category: str | None, entry: str | None) -> int:
        return sum(
            n
            for (c, e), n in self.by_entry.items()
            if (category is None or c == category) and (entry is None or e == entry)
        )


def catalog_counts(conn: Connection) -> CatalogCounts:
    by_entry: dict[tuple[str, str], int] = {}
    per_category: dict[str, int] = {}
    sample = 0
    for row in conn.execute(sa.select(tool_counts).where(tool_counts.c.n != 0)):
        n = int(row.n)
        by_entry[(row.category, row.entry)] = by_entry.get((row.category, row.entry), 0) + n
        per_category[row.category] = per_category.get(row.category, 0) + n
        sample += n if row.is_sample else 0
    verdicts = {
        (r.category, r.verdict): int(r.n)
        for r in conn.execute(sa.select(panel_counts).where(panel_counts.c.n != 0))
    }
    return CatalogCounts(per_category, sample, by_entry, verdicts)


def read_catalog_counts(engine: Engine) -> CatalogCounts:
    with engine.connect() as conn:
        return catalog_counts(conn)


@dataclass(frozen=True, slots=True)
class CriticTotals:
    """One critic's counted reviews (in one category, or all), ships and agreement."""

    reviews: int = 0
    ships: int = 0
    agreed: int = 0
    compared: int = 0
    splits: int = 0

    def __add__(self, other: CriticTotals) -> CriticTotals:
        return CriticTotals(
            self.reviews + other.reviews,
            self.ships + other.ships,
            self.agreed + other.agreed,
            self.compared + other.compared,
            self.splits + other.splits,
        )


def critic_category_totals(
    engine: Engine, critic_ids: Collection[str] | None = None
) -> dict[str, dict[str, CriticTotals]]:
    """critic -> category -> totals, from the summary (a few rows per critic)."""
    query = sa.select(critic_totals).where(critic_totals.c.reviews != 0)
    if critic_ids is not None:
        query = query.where(critic_totals.c.critic_id.in_(sorted(critic_ids)))
    out: dict[str, dict[str, CriticTotals]] = {}
    with engine.connect() as conn:
        for r in conn.execute(query):
            out.setdefault(r.critic_id, {})[r.category] = CriticTotals(
                int(r.reviews), int(r.ships), int(r.agreed), int(r.compared), int(r.splits)
            )
    return out


def summed(by_category: Mapping[str, CriticTotals]) -> CriticTotals:
    total = CriticTotals()
    for part in by_category.values():
        total = total + part
    return total


@dataclass(frozen=True, slots=True)
class Seat:
    """A critic's counted review of one tool, as the critic page lists it."""

    tool_id: int
    review_id: int
    verdict: str
    panel_verdict: str
    created_at: datetime


def critic_seats(
    engine: Engine,
    critic_id: str,
    category: str | None,
    limit: int,
    *,
    after: int | None = None,
    before: int | None = None,
) -> list[Seat]:
    """A page of a critic's counted reviews, newest first: the `limit` after review id
    `after`, or just before `before`, or the first; walks `ix_panel_seats_critic*`."""
    s = panel_seats.c
    query = sa.select(s.tool_id, s.review_id, s.verdict, s.panel_verdict, s.created_at).where(
        s.critic_id == critic_id
    )
    if category is not None:
        query = query.where(s.category == category)
    if before is not None:
        query = query.where(s.review_id > before).order_by(s.review_id)
    else:
        if after is not None:
            query = query.where(s.review_id < after)
        query = query.order_by(s.review_id.desc())
    with engine.connect() as conn:
        rows = [
            Seat(r.tool_id, r.review_id, r.verdict, r.panel_verdict, r.created_at)
            for r in conn.execute(query.limit(limit))
        ]
    if before is not None:
        rows.reverse()
    return rows


def newest_seat(engine: Engine, critic_id: str) -> datetime | None:
    """When the critic's newest counted review was written."""
    s = panel_seats.c
    query = (
        sa.select(s.created_at)
        .where(s.critic_id == critic_id)
        .order_by(s.review_id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        found: datetime | None = conn.scalar(query)
        return found
