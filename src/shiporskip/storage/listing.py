"""The catalog index: tools filtered by category, entry tier and panel verdict, in one of
three orders, a page at a time with keyset positions (never OFFSET).

A page costs its own rows at any catalog size: every order is an index walk (migration
0011), and a position is the sort key of the last row shown, so the next page seeks
straight to it. Orders that put reviewed tools first are two segments — the reviewed tools
from `tool_panels`, then the rest by name — and a position names its segment.

A key mixes directions (ship % high first, then name A-Z), which a single row-value
comparison cannot express and an OR of comparisons cannot seek with. So the rows after a
key are read level by level, each level an equality prefix plus one range condition: first
the rows that tie on every column but the last, then those that tie on one column fewer,
and so on. Each level is an index range; most pages are filled by the first one or two.

Panel verdicts come from `tool_panels.ship_pct`: above 50 exactly when ships outnumber
skips, 50 for a split, null until a critic reported (the rule `category_totals` uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shiporskip.storage.schema import tool_panels, tools
from shiporskip.storage.summaries import read_catalog_counts


class Sort(StrEnum):
    """The orders of the catalog index."""

    newest = "newest"
    ship_pct = "ship-pct"
    name = "name"


class VerdictFilter(StrEnum):
    """The panel verdicts the index can filter on."""

    ship = "ship"
    skip = "skip"
    # Not `split`: a member of that name would hide `str.split` on every value.
    tie = "split"
    unreviewed = "unreviewed"


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows the index; None means any."""

    category: str | None = None
    entry: str | None = None
    verdict: VerdictFilter | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the segment and the sort key of its last row."""

    segment: int
    key: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class KeyColumn:
    column: Any
    descending: bool
    kind: type  # how a key value is typed in a position: str, int, float or datetime
    # SQLite seeks an expression index by one column at a time, never by a row value.
    alone: bool = False


p = tool_panels.c
REVIEWED = p.ship_pct.is_not(None)


def _name_columns(engine: Engine) -> list[KeyColumn]:
    """Lower-cased name, then name, bytewise as Python sorts (not by locale).

    A name is a whole key: equal names have equal normalised names, which `tool_names`
    holds once (one record per product), so no tie-breaking column is needed.
    """
    lower: Any = sa.func.lower(tools.c.name, type_=sa.String)
    name: Any = tools.c.name
    if engine.dialect.name == "postgresql":
        lower, name = lower.collate("C"), name.collate("C")
    return [KeyColumn(lower, False, str, alone=True), KeyColumn(name, False, str, alone=True)]


@dataclass(frozen=True, slots=True)
class Segment:
    """One index walk: a query of tool ids and slugs, and its sort key."""

    query: sa.Select[Any]
    key: list[KeyColumn]


def _panel_condition(verdict: VerdictFilter) -> Any:
    if verdict is VerdictFilter.ship:
        return p.ship_pct > 50
    if verdict is VerdictFilter.skip:
        return p.ship_pct < 50
    return p.ship_pct == 50


def _unreviewed() -> Any:
    reviewed = sa.select(p.tool_id).where(p.tool_id == tools.c.id).where(REVIEWED)
    return ~reviewed.exists()


def _reviewed_segment(filters: Filters, key: list[KeyColumn]) -> Segment:
    query = sa.select(tools.c.slug, *(k.column for k in key)).select_from(
        tool_panels.join(tools, tools.c.id == p.tool_id)
    )
    query = query.where(REVIEWED)
    if filters.verdict is not None:
        query = query.where(_panel_condition(filters.verdict))
    if filters.category is not None:
        query = query.where(p.category == filters.category)
    if filters.entry is not None:
        query = query.where(tools.c.entry == filters.entry)
    return Segment(query, key)


def _by_name_segment(engine: Engine, filters: Filters) -> Segment:
    key = _name_columns(engine)
    source: Any = tools
    query = sa.select(tools.c.slug, *(k.column for k in key))
    verdict = filters.verdict
    if verdict is VerdictFilter.unreviewed:
        query = query.where(_unreviewed())
    elif verdict is not None:
        source = tools.join(tool_panels, p.tool_id == tools.c.id)
        query = query.where(_panel_condition(verdict))
    query = query.select_from(source)
    if filters.category is not None:
        query = query.where(tools.c.category == filters.category)
    if filters.entry is not None:
        query = query.where(tools.c.entry == filters.entry)
    return Segment(query, key)


def segments(engine: Engine, filters: Filters, sort: Sort) -> list[Segment | None]:
    """The walks of an order, in turn; None where the filters leave a segment empty.

    Positions index this list, so its length per order never depends on the filters.
    """
    if sort is Sort.name:
        return [_by_name_segment(engine, filters)]
    if sort is Sort.newest:
        key = [
            KeyColumn(p.reviewed_at, True, datetime),
            KeyColumn(p.tool_id, True, int),
        ]
    else:
        key = [
            KeyColumn(p.ship_pct, True, float),
            KeyColumn(p.mean_score, True, float),
            KeyColumn(p.sort_name, False, str),
            KeyColumn(p.name, False, str),
        ]
    verdict = filters.verdict
    reviewed = None if verdict is VerdictFilter.unreviewed else _reviewed_segment(filters, key)
    rest = None
    if verdict is None or verdict is VerdictFilter.unreviewed:
        rest = _by_name_segment(
            engine, Filters(filters.category, filters.entry, VerdictFilter.unreviewed)
        )
    return [reviewed, rest]


def key_kinds(engine: Engine, sort: Sort, segment: int) -> list[type] | None:
    """The value types of a position's key in one segment of an order; None if no such
    segment (what a position read from a URL is checked against)."""
    found = segments(engine, Filters(), sort)
    if not 0 <= segment < len(found):
        return None
    walk = found[segment]
    if walk is None:  # pragma: no cover - the unfiltered index has every segment
        return None
    return [k.kind for k in walk.key]


def _runs(key: Sequence[KeyColumn]) -> list[int]:
    """Where each run of columns sorted in one direction starts."""
    return [
        i
        for i in range(len(key))
        if i == 0 or key[i].alone or key[i].descending != key[i - 1].descending
    ]


def _levels(key: Sequence[KeyColumn], after: tuple[Any, ...]) -> list[tuple[list[Any], int]]:
    """Conditions for the rows after `after`, one index range per level, in key order.

    Within a run of one direction a row-value comparison is one range; a new level starts
    where the direction changes.
    """
    runs = _runs(key)
    levels = []
    for n, start in reversed(list(enumerate(runs))):
        end = runs[n + 1] if n + 1 < len(runs) else len(key)
        same = [key[j].column == after[j] for j in range(start)]
        cols = [k.column for k in key[start:end]]
        values = [
            sa.literal(v, k.column.type)
            for k, v in zip(key[start:end], after[start:end], strict=True)
        ]
        mine: Any = sa.tuple_(*cols)
        theirs: Any = sa.tuple_(*values)
        if len(cols) == 1:
            mine, theirs = cols[0], values[0]
        beyond = mine < theirs if key[start].descending else mine > theirs
        levels.append(([*same, beyond], start))
    return levels


def _ordered(query: sa.Select[Any], key: Sequence[KeyColumn], start: int) -> sa.Select[Any]:
    return query.order_by(*(k.column.desc() if k.descending else k.column for k in key[start:]))


def _reversed(key: Sequence[KeyColumn]) -> list[KeyColumn]:
    return [KeyColumn(k.column, not k.descending, k.kind, k.alone) for k in key]


def _read(
    conn: Connection,
    walk: Segment,
    index: int,
    after: tuple[Any, ...] | None,
    wanted: int,
    backward: bool,
) -> list[tuple[str, Position]]:
    width = len(walk.key)
    # Reading backward is reading forward in the reversed order.
    key = _reversed(walk.key) if backward else walk.key
    out: list[tuple[str, Position]] = []
    plan = [([], 0)] if after is None else _levels(key, after)
    for conditions, start in plan:
        if len(out) >= wanted:
            break
        query = _ordered(walk.query.where(*conditions), key, start).limit(wanted - len(out))
        for row in conn.execute(query):
            out.append((row[0], Position(index, tuple(row[1 : 1 + width]))))
    return out


@dataclass(frozen=True, slots=True)
class Window:
    """One page of the index: its slugs in order, the positions of its first and last
    rows, and whether rows come before or after it."""

    slugs: list[str]
    first: Position | None
    last: Position | None
    more_before: bool
    more_after: bool


def tools_page(
    engine: Engine,
    filters: Filters,
    sort: Sort,
    limit: int,
    after: Position | None = None,
    before: Position | None = None,
) -> Window:
    """Up to `limit` rows after `after`, or the `limit` rows just before `before`, or the
    first `limit` rows when neither is given."""
    walks = segments(engine, filters, sort)
    backward = before is not None
    start = before if backward else after
    found: list[tuple[str, Position]] = []
    if backward:
        assert before is not None
        order = range(before.segment, -1, -1)
    else:
        order = range(0 if after is None else after.segment, len(walks))
    with engine.connect() as conn:
        for index in order:
            walk = walks[index] if 0 <= index < len(walks) else None
            if walk is None:
                continue
            key = start.key if start is not None and index == start.segment else None
            found += _read(conn, walk, index, key, limit + 1 - len(found), backward)
            if len(found) > limit:
                break
    more = len(found) > limit
    page = found[:limit]
    if backward:
        page.reverse()
    return Window(
        slugs=[slug for slug, _ in page],
        first=page[0][1] if page else None,
        last=page[-1][1] if page else None,
        more_before=more if backward else after is not None,
        more_after=True if backward else more,
    )


def count_tools(engine: Engine, filters: Filters) -> int:
    """How many tools match: from the catalog summaries (migration 0020), or counted from
    indexes for a panel verdict within one entry tier (the summaries count verdicts per
    category, not per tier)."""
    verdict = filters.verdict
    if verdict is None or filters.entry is None:
        counts = read_catalog_counts(engine)
        matching = counts.matching(filters.category, filters.entry)
        if verdict is None:
            return matching
        if verdict is VerdictFilter.unreviewed:
            return matching - counts.reviewed(filters.category)
        return counts.with_verdict(verdict.value, filters.category)
    everything = sa.select(sa.func.count()).select_from(tools).where(tools.c.entry == filters.entry)
    reviewed = (
        sa.select(sa.func.count())
        .select_from(tool_panels.join(tools, tools.c.id == p.tool_id))
        .where(REVIEWED)
        .where(tools.c.entry == filters.entry)
    )
    if filters.category is not None:
        everything = everything.where(tools.c.category == filters.category)
        reviewed = reviewed.where(p.category == filters.category)
    with engine.connect() as conn:
        if verdict is VerdictFilter.unreviewed:
            return int(conn.scalar(everything) or 0) - int(conn.scalar(reviewed) or 0)
        return int(conn.scalar(reviewed.where(_panel_condition(verdict))) or 0)
