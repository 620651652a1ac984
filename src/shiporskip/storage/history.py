"""The verdict history: a row per change of a tool's panel, written with the review write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shiporskip.domain.panel import (
    Attempt,
    HistoryPoint,
    change_reason,
    history_point,
    read_panel,
)
from shiporskip.storage.schema import panel_history, tools


def _point(row: sa.Row[tuple[object, ...]]) -> HistoryPoint:
    m = row._mapping
    return HistoryPoint(
        at=m["at"],
        ships=m["ships"],
        skips=m["skips"],
        expected=m["expected"],
        ship_pct=m["ship_pct"],
        models=tuple(m["models"] or ()),
        sample=bool(m["is_sample"]),
        reason=m["reason"],
    )


def _last(conn: Connection, tool_ids: Sequence[int]) -> dict[int, HistoryPoint]:
    newest = (
        sa.select(sa.func.max(panel_history.c.id))
        .where(panel_history.c.tool_id.in_(tool_ids))
        .group_by(panel_history.c.tool_id)
    )
    query = sa.select(panel_history).where(panel_history.c.id.in_(newest))
    return {row.tool_id: _point(row) for row in conn.execute(query)}


def record_changes(
    conn: Connection, attempts: Mapping[int, Sequence[Attempt]], new_ids: set[int]
) -> None:
    """Add a history row for each tool whose panel the attempts `new_ids` changed: another
    tally, or sample content replaced. A failed attempt changes nothing (the review it
    re-tried still counts), so it never adds a row."""
    touched = sorted(t for t, found in attempts.items() if any(a.id in new_ids for a in found))
    if not touched:
        return
    last = _last(conn, touched)
    rows = []
    for tool_id in touched:
        found = attempts[tool_id]
        new = [a for a in found if a.id in new_ids]
        after = read_panel(None, found)
        if not after.summary.reported and tool_id not in last:
            continue
        previous = last.get(tool_id)
        if previous is not None and previous.same_panel(after):
            continue
        before = read_panel(None, [a for a in found if a.id not in new_ids])
        at = max((a.created_at for a in new), default=datetime.now(UTC))
        point = history_point(after, at, change_reason(before, after, new))
        rows.append(
            {
                "tool_id": tool_id,
                "at": point.at,
                "ships": point.ships,
                "skips": point.skips,
                "expected": point.expected,
                "ship_pct": point.ship_pct,
                "models": list(point.models),
                "is_sample": point.sample,
                "reason": point.reason[:300],
            }
        )
    if rows:
        conn.execute(sa.insert(panel_history), rows)


# Built once per process: the tool page reads it on every request.
_TOOL_HISTORY = (
    sa.select(panel_history)
    .join(tools, tools.c.id == panel_history.c.tool_id)
    .where(tools.c.slug == sa.bindparam("slug"))
    .order_by(panel_history.c.id)
)


def tool_history(engine: Engine, slug: str) -> list[HistoryPoint]:
    """A tool's panel changes, oldest first."""
    with engine.connect() as conn:
        return [_point(row) for row in conn.execute(_TOOL_HISTORY, {"slug": slug})]


def _verdict(ships: sa.ColumnElement[int], skips: sa.ColumnElement[int]) -> sa.Case[int]:
    """1 Ship, -1 Skip, 0 Split, None before any review: the panel rule in SQL."""
    return sa.case((ships + skips == 0, None), (ships > skips, 1), (skips > ships, -1), else_=0)


@dataclass(frozen=True, slots=True)
class Flip:
    """A change of a tool's verdict: the history row `id` and the states either side."""

    id: int
    slug: str
    before: HistoryPoint
    after: HistoryPoint


def verdict_flips(engine: Engine, limit: int) -> list[Flip]:
    """The newest changes of a tool's verdict (Ship, Skip, Split), newest first."""
    h = panel_history.c
    steps = sa.select(
        h.id,
        h.tool_id,
        _verdict(h.ships, h.skips).label("now"),
        sa.func.lag(_verdict(h.ships, h.skips))
        .over(partition_by=h.tool_id, order_by=h.id)
        .label("was"),
        sa.func.lag(h.id).over(partition_by=h.tool_id, order_by=h.id).label("before_id"),
    ).subquery("steps")
    flips = (
        sa.select(steps.c.id, steps.c.before_id)
        .where(steps.c.was.is_not(None), steps.c.now.is_not(None), steps.c.was != steps.c.now)
        .order_by(steps.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        pairs = [(r.id, r.before_id) for r in conn.execute(flips)]
        ids = [i for pair in pairs for i in pair]
        query = (
            sa.select(tools.c.slug, panel_history)
            .join(tools, tools.c.id == panel_history.c.tool_id)
            .where(panel_history.c.id.in_(ids))
        )
        found = {row.id: (row.slug, _point(row)) for row in conn.execute(query)} if ids else {}
    return [Flip(a, found[a][0], found[b][1], found[a][1]) for a, b in pairs]
