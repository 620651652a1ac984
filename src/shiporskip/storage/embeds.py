"""The embed counter: badge and widget loads and clicks, per tool, kind and UTC day.

A visitor counts once per tool, kind and day (`EmbedStore.visit`): requesting a badge 300
times adds one, not 300. Visitors are stored as a keyed hash of who they are and the day
(`visitor_hash`), so no address is kept and one day's visitors cannot be matched with
another's; a day's rows are deleted once a later day's counting of that tool begins.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from shiporskip.storage.schema import embed_counts, embed_visits, tools


class EmbedKind(StrEnum):
    badge_load = "badge_load"
    embed_load = "embed_load"
    badge_click = "badge_click"
    embed_click = "embed_click"


# Where a click came from, as written in `?ref=` by the snippets, mapped to what it counts.
CLICK_KINDS: Mapping[str, EmbedKind] = {
    "badge": EmbedKind.badge_click,
    "embed": EmbedKind.embed_click,
}


def click_kind(ref: str | None) -> EmbedKind | None:
    """The click kind for a `ref` value; None for a missing or unknown one."""
    return CLICK_KINDS.get(ref or "")


def utc_today() -> date:
    """Today's date in UTC: the day a count is filed under."""
    return datetime.now(UTC).date()


def visitor_hash(key: str, day: date, identity: str) -> str:
    """What `embed_visits` stores for a visitor on a day: an HMAC of who it is (a voter id,
    or an address and user agent) and the day, so the table holds no address and a
    visitor's rows on two days are not linked."""
    message = f"{day.isoformat()}\n{identity}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    kind: EmbedKind
    count: int


@dataclass(frozen=True, slots=True)
class EmbedTotals:
    """Counts by kind; kinds never seen are zero."""

    by_kind: dict[EmbedKind, int] = field(default_factory=dict)

    def __getitem__(self, kind: EmbedKind) -> int:
        return self.by_kind.get(kind, 0)

    @property
    def clicks(self) -> int:
        return self[EmbedKind.badge_click] + self[EmbedKind.embed_click]


class EmbedStore:
    """Count visitors and read the counters. A visit is an insert-or-ignore and, when the
    visitor is new today, an upsert, in one transaction: safe under races, and a counter
    always equals the visitors recorded for its day."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, slug: str, kind: EmbedKind, *, day: date | None = None, n: int = 1) -> bool:
        """Add `n` to a tool's counter for `kind` on `day`; False when the tool is unknown."""
        with self.engine.begin() as conn:
            tool_id = conn.scalar(sa.select(tools.c.id).where(tools.c.slug == slug))
            if tool_id is None:
                return False
            conn.execute(_upsert(conn, int(tool_id), EmbedKind(kind), day or utc_today(), n))
        return True

    def visit(self, slug: str, kind: EmbedKind, visitor: str, *, day: date | None = None) -> bool:
        """Count `visitor` (a `visitor_hash`) for a tool's `kind` on `day`, once a day;
        True when this visit was counted, False when already counted or the tool is unknown."""
        day = day or utc_today()
        kind = EmbedKind(kind)
        with self.engine.begin() as conn:
            tool_id = conn.scalar(sa.select(tools.c.id).where(tools.c.slug == slug))
            if tool_id is None:
                return False
            seen = {"tool_id": int(tool_id), "kind": kind.value, "day": day, "visitor": visitor}
            # RETURNING, not rowcount: psycopg reports -1 for this statement.
            if conn.execute(_seen(conn, seen).returning(embed_visits.c.day)).first() is None:
                return False  # counted already today
            counted = _upsert(conn, int(tool_id), kind, day, 1).returning(embed_counts.c.hits)
            if conn.execute(counted).scalar_one() == 1:
                # The day's first visitor for this tool and kind: one transaction a day
                # clears earlier days' visitors of it (no one else deletes those rows, so
                # pruning never makes two visits wait on each other).
                conn.execute(
                    sa.delete(embed_visits).where(
                        embed_visits.c.tool_id == tool_id,
                        embed_visits.c.kind == kind.value,
                        embed_visits.c.day < day,
                    )
                )
        return True

    def totals(self, slug: str, *, since: date | None = None) -> EmbedTotals:
        """A tool's counts by kind, over all time or from `since` (inclusive)."""
        query = (
            sa.select(embed_counts.c.kind, sa.func.sum(embed_counts.c.hits))
            .join(tools, tools.c.id == embed_counts.c.tool_id)
            .where(tools.c.slug == slug)
            .group_by(embed_counts.c.kind)
        )
        if since is not None:
            query = query.where(embed_counts.c.day >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return EmbedTotals({EmbedKind(kind): int(total) for kind, total in rows})

    def daily(self, slug: str, *, since: date) -> list[DayCount]:
        """A tool's counts per day and kind from `since`, oldest first."""
        query = (
            sa.select(embed_counts.c.day, embed_counts.c.kind, embed_counts.c.hits)
            .join(tools, tools.c.id == embed_counts.c.tool_id)
            .where(tools.c.slug == slug)
            .where(embed_counts.c.day >= since)
            .order_by(embed_counts.c.day, embed_counts.c.kind)
        )
        with self.engine.connect() as conn:
            return [DayCount(r.day, EmbedKind(r.kind), int(r.hits)) for r in conn.execute(query)]


def window_start(days: int, today: date | None = None) -> date:
    """The first day of a window of `days` days ending today (UTC)."""
    return (today or utc_today()) - timedelta(days=days - 1)


def _seen(conn: Connection, values: Mapping[str, object]) -> sa.Insert:
    """INSERT .. ON CONFLICT DO NOTHING into `embed_visits`: one row only ever goes in once."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(embed_visits).values(values).on_conflict_do_nothing()
    return sqlite.insert(embed_visits).values(values).on_conflict_do_nothing()


def _upsert(conn: Connection, tool_id: int, kind: EmbedKind, day: date, n: int) -> sa.Insert:
    """INSERT .. ON CONFLICT DO UPDATE: one atomic statement on SQLite and PostgreSQL."""
    values = {"tool_id": tool_id, "kind": kind.value, "day": day, "hits": n}
    keys = [embed_counts.c.tool_id, embed_counts.c.kind, embed_counts.c.day]
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(embed_counts).values(values)
        return pg.on_conflict_do_update(
            index_elements=keys, set_={"hits": embed_counts.c.hits + pg.excluded.hits}
        )
    if conn.dialect.name == "sqlite":
        lite = sqlite.insert(embed_counts).values(values)
        return lite.on_conflict_do_update(
            index_elements=keys, set_={"hits": embed_counts.c.hits + lite.excluded.hits}
        )
    raise NotImplementedError(f"no upsert for the {conn.dialect.name} dialect")
