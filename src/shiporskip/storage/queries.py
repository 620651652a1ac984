"""Read-only queries the listing pages need: light tool rows, search candidates, model usage."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shiporskip.domain.tools import Tool
from shiporskip.storage.catalog import row_to_tool
from shiporskip.storage.schema import (
    data_version,
    model_tools,
    reviews,
    tool_names,
    tool_panels,
    tools,
)
from shiporskip.storage.schema import model_usage as usage_table
from shiporskip.storage.summaries import catalog_counts as catalog_summary
from shiporskip.storage.summaries import (
    critic_category_totals,
    read_catalog_counts,
    summed,
)

_VERSIONS = sa.select(data_version.c.id, data_version.c.version).where(
    data_version.c.id.in_((1, 2))
)


def current_version(conn: Connection) -> tuple[int, int]:
    """The data version, (content, votes): each part changes with every write to the
    content (catalog, reviews, comparisons) or to the community vote."""
    found = {int(row): int(version) for row, version in conn.execute(_VERSIONS)}
    return int(found.get(1, 0)), int(found.get(2, 0))


# A safety bound on search candidates; ranking happens in Python on these light rows.
MAX_CANDIDATES = 20_000


@dataclass(frozen=True, slots=True)
class ToolHead:
    """The few columns lists and search need, without validating the whole record."""

    slug: str
    name: str
    vendor: str
    category: str
    tagline: str
    aliases: tuple[str, ...]
    sample: bool


_HEAD = sa.select(
    tools.c.slug,
    tools.c.name,
    tools.c.vendor,
    tools.c.category,
    tools.c.tagline,
    tools.c.aliases,
    tools.c.is_sample,
)


def _head(row: Any) -> ToolHead:
    return ToolHead(
        slug=row.slug,
        name=row.name,
        vendor=row.vendor,
        category=row.category,
        tagline=row.tagline,
        aliases=tuple(row.aliases or ()),
        sample=bool(row.is_sample),
    )


def tool_heads(engine: Engine, category: str | None = None) -> list[ToolHead]:
    """Every tool (or every tool in one category) as a light row, by name."""
    query = _HEAD.order_by(tools.c.name)
    if category is not None:
        query = query.where(tools.c.category == category)
    with engine.connect() as conn:
        return [_head(r) for r in conn.execute(query)]


def search_candidates(
    engine: Engine, text: str, key: str = "", categories: Sequence[str] = ()
) -> list[ToolHead]:
    """Tools whose name, alias, vendor or tagline contains `text`, or in one of `categories`.

    `text` is matched literally: `%` and `_` are escaped, never wildcards. A non-empty `key`
    also matches normalised names (`name_key`), so "gpt4o" finds "GPT-4o". The caller ranks
    and drops candidates that do not really match, so the trigram indexes (from three
    characters) may return a few extra; shorter queries scan.
    """
    with engine.connect() as conn:
        if len(text) >= TRIGRAM and (not key or len(key) >= TRIGRAM):
            ids = _indexed_matches(conn, text, key)
            if ids is not None:
                conditions: list[Any] = [tools.c.id.in_(sorted(ids))] if ids else []
                if categories:
                    conditions.append(tools.c.category.in_(list(categories)))
                if not conditions:
                    return []
                query = _HEAD.where(sa.or_(*conditions))
                query = query.order_by(tools.c.name).limit(MAX_CANDIDATES)
                return [_head(r) for r in conn.execute(query)]
        return [_head(r) for r in conn.execute(_scan(text, key, categories))]


TRIGRAM = 3


def _scan(text: str, key: str, categories: Sequence[str]) -> sa.Select[Any]:
    conditions = [
        tools.c.name.icontains(text, autoescape=True),
        tools.c.vendor.icontains(text, autoescape=True),
        tools.c.tagline.icontains(text, autoescape=True),
        sa.cast(tools.c.aliases, sa.Text).icontains(text, autoescape=True),
    ]
    if key:
        # Normalised names (and aliases) catch spelling variants of punctuation and spaces.
        named = sa.select(tool_names.c.tool_id).where(
            tool_names.c.name_key.contains(key, autoescape=True)
        )
        conditions.append(tools.c.id.in_(named))
    if categories:
        conditions.append(tools.c.category.in_(list(categories)))
    return _HEAD.where(sa.or_(*conditions)).order_by(tools.c.name).limit(MAX_CANDIDATES)


# The indexed expression of migration 0008 on PostgreSQL, repeated exactly.
_PG_SEARCH_TEXT = (
    "lower(name || chr(10) || vendor || chr(10) || tagline || chr(10) || CAST(aliases AS TEXT))"
)


def _pattern(text: str) -> Any:
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    # Inlined, not bound: PostgreSQL plans a trigram index scan only for a known pattern.
    return sa.literal(f"%{escaped}%", sa.Text, literal_execute=True)


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _indexed_matches(conn: Connection, text: str, key: str) -> set[int] | None:
    """Ids of tools whose text (or a normalised name) contains the query, by index."""
    if conn.dialect.name == "postgresql":
        haystack: sa.ColumnElement[str] = sa.literal_column(_PG_SEARCH_TEXT, sa.Text)
        found = set(
            conn.scalars(
                sa.select(tools.c.id).where(haystack.like(_pattern(text.lower()), escape="/"))
            )
        )
        if key:
            found.update(
                conn.scalars(
                    sa.select(tool_names.c.tool_id).where(
                        tool_names.c.name_key.like(_pattern(key), escape="/")
                    )
                )
            )
        return found
    if conn.dialect.name != "sqlite":
        return None
    found = set(
        conn.scalars(
            sa.text("SELECT rowid FROM tool_search WHERE tool_search MATCH :q"),
            {"q": _phrase(text)},
        )
    )
    if key:
        found.update(
            conn.scalars(
                sa.text(
                    "SELECT tool_id FROM tool_names WHERE rowid IN "
                    "(SELECT rowid FROM tool_name_search WHERE tool_name_search MATCH :q)"
                ),
                {"q": _phrase(key)},
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class PanelCard:
    """A tool's light row with its panel tally (from `tool_panels`)."""

    head: ToolHead
    ships: int
    skips: int


def panel_cards(engine: Engine, ids: Iterable[int]) -> dict[int, PanelCard]:
    """Light rows and panel tallies of a few tools, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = (
        _HEAD.add_columns(tools.c.id, tool_panels.c.ships, tool_panels.c.skips)
        .select_from(tools.outerjoin(tool_panels, tool_panels.c.tool_id == tools.c.id))
        .where(tools.c.id.in_(wanted))
    )
    with engine.connect() as conn:
        return {
            r.id: PanelCard(_head(r), int(r.ships or 0), int(r.skips or 0))
            for r in conn.execute(query)
        }


def tools_by_slug(engine: Engine, slugs: Iterable[str]) -> dict[str, Tool]:
    """Full, validated records for a few slugs."""
    wanted = list(slugs)
    if not wanted:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tools).where(tools.c.slug.in_(wanted)))
        return {r.slug: row_to_tool(r) for r in rows}


@dataclass(slots=True)
class ModelUsage:
    """How many stored reviews one provider/model wrote, and at what cost."""

    provider: str
    model: str
    ok: int = 0
    failed: int = 0
    tools: int = 0
    critics: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


def model_usage(engine: Engine) -> list[ModelUsage]:
    """Every review attempt counted by provider and model, most reviews first (from the
    summaries of migration 0020, a few rows per model)."""
    out: dict[tuple[str, str], ModelUsage] = {}
    query = sa.select(usage_table).where(usage_table.c.n != 0).order_by(usage_table.c.critic_id)
    with engine.connect() as conn:
        for row in conn.execute(query):
            usage = out.setdefault((row.provider, row.model), ModelUsage(row.provider, row.model))
            if row.ok:
                usage.ok += int(row.n)
            else:
                usage.failed += int(row.n)
            usage.input_tokens += int(row.input_tokens)
            usage.output_tokens += int(row.output_tokens)
            usage.cost_usd += float(row.cost_usd)
            if row.critic_id not in usage.critics:
                usage.critics.append(row.critic_id)
        for row in conn.execute(sa.select(model_tools)):
            if (row.provider, row.model) in out:
                out[(row.provider, row.model)].tools = int(row.tools)
    return sorted(out.values(), key=lambda u: (-(u.ok + u.failed), u.provider, u.model))


def tools_reviewed(engine: Engine, pairs: Sequence[tuple[str, str]]) -> int:
    """How many distinct tools the given (provider, model) pairs reviewed between them."""
    query = sa.select(sa.func.count(sa.distinct(reviews.c.tool_id))).where(
        sa.tuple_(reviews.c.provider, reviews.c.model).in_(list(pairs))
    )
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def _by_name(engine: Engine) -> tuple[Any, ...]:
    """Order by lower-cased name, then name, bytewise as Python sorts (not by locale)."""
    lower, name = sa.func.lower(tools.c.name), tools.c.name
    if engine.dialect.name == "postgresql":
        return (lower.collate("C"), name.collate("C"))
    return (lower, name)


def _slugs(engine: Engine, query: sa.Select[Any]) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(query))


def _rest_by_name(
    engine: Engine, category: str, ranked: Any, limit: int, offset: int, exclude: str = ""
) -> list[str]:
    """The tail of a ranking: tools of a category that `ranked` leaves out, by name."""
    if limit <= 0:
        return []
    placed = (
        sa.select(tool_panels.c.tool_id)
        .where(tool_panels.c.tool_id == tools.c.id)
        .where(ranked)
        .exists()
    )
    query = (
        sa.select(tools.c.slug)
        .where(tools.c.category == category)
        .where(tools.c.slug != exclude)
        .where(~placed)
        .order_by(*_by_name(engine))
        .limit(limit)
        .offset(offset)
    )
    return _slugs(engine, query)


def category_ranking(engine: Engine, category: str, limit: int, offset: int = 0) -> list[str]:
    """Slugs of one category ranked as the category page ranks them, one page at a time.

    Panel ship % (high first), then mean score, then name; unreviewed tools last, by name.
    The reviewed part walks `ix_tool_panels_rank`, so a page costs its own rows, not the
    category's.
    """
    p = tool_panels.c
    reviewed = p.reported > 0
    query = (
        sa.select(tools.c.slug)
        .select_from(tool_panels.join(tools, tools.c.id == p.tool_id))
        .where(p.category == category)
        .where(reviewed)
        .order_by(p.ship_pct.desc(), p.mean_score.desc(), p.sort_name, p.name)
        .limit(limit)
        .offset(offset)
    )
    found = _slugs(engine, query)
    if len(found) == limit:
        return found
    # Past the reviewed tools: how many of them came before this page decides the offset.
    before = 0
    if not found:
        count = sa.select(sa.func.count()).where(p.category == category).where(reviewed)
        with engine.connect() as conn:
            before = int(conn.scalar(count) or 0)
    rest_offset = max(0, offset - before) if not found else 0
    return found + _rest_by_name(engine, category, reviewed, limit - len(found), rest_offset)


@dataclass(frozen=True, slots=True)
class CategoryTotals:
    tools: int
    reviewed: int
    shipped: int


def category_totals(engine: Engine, category: str | None = None) -> dict[str, CategoryTotals]:
    """Per category: how many tools, how many the panel reviewed, how many it shipped
    (from the summaries of migration 0020; ship % is above 50 exactly when ships
    outnumber skips)."""
    counts = read_catalog_counts(engine)
    return {
        slug: CategoryTotals(n, counts.reviewed(slug), counts.with_verdict("ship", slug))
        for slug, n in counts.tools.items()
        if category is None or slug == category
    }


def _newest(limit: int) -> sa.Select[tuple[str]]:
    join = tool_panels.join(tools, tools.c.id == tool_panels.c.tool_id)
    return (
        sa.select(tools.c.slug)
        .select_from(join)
        .where(tool_panels.c.reported > 0)
        .order_by(tool_panels.c.reviewed_at.desc(), tools.c.slug.desc())
        .limit(limit)
    )


def newest_reviewed(engine: Engine, limit: int) -> list[str]:
    """The most recently reviewed slugs, newest first (walks the reviewed-time index)."""
    with engine.connect() as conn:
        return list(conn.scalars(_newest(limit)))


def panel_heads(
    engine: Engine, *, latest: int, splits: int, min_reported: int
) -> tuple[list[str], list[str], int]:
    """From `tool_panels`: the most recently reviewed slugs, the closest votes, and how
    many tools have at least one verdict."""
    reviewed = tool_panels.c.reported > 0
    join = tool_panels.join(tools, tools.c.id == tool_panels.c.tool_id)
    newest = _newest(latest)
    gap = sa.func.abs(tool_panels.c.ships - tool_panels.c.skips)
    close = (
        sa.select(tools.c.slug)
        .select_from(join)
        .where(reviewed)
        .where(tool_panels.c.reported >= min_reported)
        .where(gap <= 1)
        .order_by(gap, tool_panels.c.sort_name, tool_panels.c.name)
        .limit(splits)
    )
    with engine.connect() as conn:
        return (
            list(conn.scalars(newest)),
            list(conn.scalars(close)),
            catalog_summary(conn).reviewed(),
        )


def catalog_counts(engine: Engine) -> tuple[int, int, dict[str, int]]:
    """How many tools, how many are sample content, and how many per category."""
    counts = read_catalog_counts(engine)
    return counts.total, counts.sample, counts.tools


def first_by_name(engine: Engine, limit: int) -> list[Tool]:
    """The first tools of the catalog by name, as full records."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tools).order_by(*_by_name(engine)).limit(limit))
        return [row_to_tool(r) for r in rows]


def critic_tallies(engine: Engine) -> dict[str, tuple[int, int]]:
    """Per critic: (counted verdicts, ships), from the per-category totals."""
    return {
        critic: (total.reviews, total.ships)
        for critic, total in (
            (c, summed(parts)) for c, parts in critic_category_totals(engine).items()
        )
    }
