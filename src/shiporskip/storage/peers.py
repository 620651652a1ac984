"""A tool page's neighbours: the best-ranked other tools of its category, and the tools
its reviews name. Read on every tool page, so each statement is built once per process
(building one costs more than running it) and the peers come as full rows in one query,
not as slugs to look up again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shiporskip.domain.tools import Tool
from shiporskip.storage.catalog import row_to_tool
from shiporskip.storage.schema import tool_names, tool_panels, tools

_P = tool_panels.c
_SHIPPED = _P.ship_pct > 0
# Tools a critic shipped, best panel ship % first, then by name (`ix_tool_panels_similar`).
_RANKED = (
    sa.select(tools)
    .select_from(tool_panels.join(tools, tools.c.id == _P.tool_id))
    .where(_P.category == sa.bindparam("category"))
    .where(_SHIPPED)
    .where(tools.c.slug != sa.bindparam("exclude"))
    .order_by(_P.ship_pct.desc(), _P.sort_name, _P.name)
    .limit(sa.bindparam("limit"))
)
_NAMED = (
    sa.select(tool_names.c.name_key, tools.c.slug, tools.c.name)
    .join(tools, tools.c.id == tool_names.c.tool_id)
    .where(tool_names.c.name_key.in_(sa.bindparam("keys", expanding=True)))
)


def _by_name(dialect: str) -> tuple[Any, ...]:
    """Lower-cased name, then name, bytewise as Python sorts (not by locale)."""
    lower, name = sa.func.lower(tools.c.name), tools.c.name
    if dialect == "postgresql":
        return (lower.collate("C"), name.collate("C"))
    return (lower, name)


def _unranked(dialect: str) -> sa.Select[Any]:
    placed = sa.select(_P.tool_id).where(_P.tool_id == tools.c.id).where(_SHIPPED).exists()
    return (
        sa.select(tools)
        .where(tools.c.category == sa.bindparam("category"))
        .where(tools.c.slug != sa.bindparam("exclude"))
        .where(~placed)
        .order_by(*_by_name(dialect))
        .limit(sa.bindparam("limit"))
    )


_UNRANKED = {dialect: _unranked(dialect) for dialect in ("sqlite", "postgresql")}


@dataclass(frozen=True, slots=True)
class Peer:
    slug: str
    name: str
    row: Any  # the stored row, made a `Tool` only for the peers a page shows in full

    def tool(self) -> Tool:
        return row_to_tool(self.row)


def similar_peers(engine: Engine, category: str, exclude: str, limit: int) -> list[Peer]:
    """Other tools of a category, best panel ship % first, then by name.

    Tools never reviewed, or that no critic shipped, share the last place (the tool page's
    rule) and follow by name. The same order as `queries.similar_tools`.
    """
    params = {"category": category, "exclude": exclude, "limit": limit}
    with engine.connect() as conn:
        rows = list(conn.execute(_RANKED, params))
        if len(rows) < limit:
            rest = _UNRANKED[engine.dialect.name]
            rows += conn.execute(rest, dict(params, limit=limit - len(rows)))
    return [Peer(r.slug, r.name, r) for r in rows]


def tools_named(engine: Engine, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(slug, name) of the tool holding each normalised name or alias, via `tool_names`."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    with engine.connect() as conn:
        return {r.name_key: (r.slug, r.name) for r in conn.execute(_NAMED, {"keys": wanted})}
