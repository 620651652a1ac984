"""What the sitemap lists, a bounded slice at a time: tools and compare pairs by ranges of
tool ids, so each sitemap file reads its own rows (an index range), never the catalog."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shiporskip.storage.schema import tool_panels, tools

p = tool_panels.c
REVIEWED = p.ship_pct.is_not(None)
BATCH = 2_000


def max_tool_id(engine: Engine) -> int:
    """The highest tool id (the end of the last range), 0 for an empty catalog."""
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.max(tools.c.id))) or 0)


def any_tool(
    engine: Engine,
    first: int,
    last: int,
    *,
    reviewed: bool = False,
    besides: Collection[int] = (),
) -> bool:
    """Whether a tool (a reviewed one, other than `besides`) has an id in [first, last]."""
    if reviewed:
        query = sa.select(p.tool_id).where(p.tool_id.between(first, last)).where(REVIEWED)
        if besides:
            query = query.where(p.tool_id.not_in(sorted(besides)))
    else:
        query = sa.select(tools.c.id).where(tools.c.id.between(first, last))
    with engine.connect() as conn:
        return conn.scalar(query.limit(1)) is not None


def tools_in_range(engine: Engine, first: int, last: int) -> Iterator[tuple[str, datetime | None]]:
    """(slug, reviewed time if the panel reported) of tools with ids in [first, last], by
    id, read in batches."""
    after = first - 1
    while True:
        query = (
            sa.select(tools.c.id, tools.c.slug, p.reviewed_at, p.ship_pct)
            .select_from(tools.outerjoin(tool_panels, p.tool_id == tools.c.id))
            .where(tools.c.id > after)
            .where(tools.c.id <= last)
            .order_by(tools.c.id)
            .limit(BATCH)
        )
        with engine.connect() as conn:
            rows = list(conn.execute(query))
        for row in rows:
            yield row.slug, row.reviewed_at if row.ship_pct is not None else None
        if len(rows) < BATCH:
            return
        after = rows[-1].id


@dataclass(frozen=True, slots=True)
class Ranked:
    """A reviewed tool as compare pairs need it."""

    tool_id: int
    slug: str
    category: str
    reviewed_at: datetime | None


def _ranked(rows: Sequence[Any]) -> list[Ranked]:
    return [Ranked(r.tool_id, r.slug, r.category, r.reviewed_at) for r in rows]


_RANKED = sa.select(p.tool_id, tools.c.slug, p.category, p.reviewed_at).select_from(
    tool_panels.join(tools, tools.c.id == p.tool_id)
)


def reviewed_in_range(engine: Engine, first: int, last: int) -> list[Ranked]:
    """Reviewed tools with ids in [first, last], by id."""
    query = _RANKED.where(p.tool_id.between(first, last)).where(REVIEWED).order_by(p.tool_id)
    with engine.connect() as conn:
        return _ranked(list(conn.execute(query)))


def category_top(engine: Engine, category: str, limit: int) -> list[Ranked]:
    """The best-rated reviewed tools of a category, as the category page ranks them (walks
    `ix_tool_panels_rank`)."""
    query = (
        _RANKED.where(p.category == category)
        .where(REVIEWED)
        .order_by(p.ship_pct.desc(), p.mean_score.desc(), p.sort_name, p.name)
        .limit(limit)
    )
    with engine.connect() as conn:
        return _ranked(list(conn.execute(query)))


def newest_review(engine: Engine, category: str | None = None) -> datetime | None:
    """When the newest reported panel (of a category, or of all) was written."""
    query = sa.select(p.reviewed_at).where(REVIEWED).where(p.reviewed_at.is_not(None))
    if category is not None:
        query = query.where(p.category == category)
    with engine.connect() as conn:
        found: datetime | None = conn.scalar(query.order_by(p.reviewed_at.desc()).limit(1))
        return found
