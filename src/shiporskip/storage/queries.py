"""Read-only queries the listing pages need: light tool rows, search candidates, model usage."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shiporskip.domain.tools import Tool
from shiporskip.storage.catalog import row_to_tool
from shiporskip.storage.schema import reviews, tool_names, tools

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
    also matches normalised names (`name_key`), so "gpt4o" finds "GPT-4o". The caller ranks.
    """
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
    query = _HEAD.where(sa.or_(*conditions)).order_by(tools.c.name).limit(MAX_CANDIDATES)
    with engine.connect() as conn:
        return [_head(r) for r in conn.execute(query)]


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
    """Every review attempt counted by provider and model, most reviews first."""
    by_status = sa.select(
        reviews.c.provider,
        reviews.c.model,
        reviews.c.status,
        sa.func.count().label("n"),
        sa.func.coalesce(sa.func.sum(reviews.c.input_tokens), 0).label("tin"),
        sa.func.coalesce(sa.func.sum(reviews.c.output_tokens), 0).label("tout"),
        sa.func.coalesce(sa.func.sum(reviews.c.cost_usd), 0.0).label("cost"),
    ).group_by(reviews.c.provider, reviews.c.model, reviews.c.status)
    by_tool = sa.select(
        reviews.c.provider,
        reviews.c.model,
        sa.func.count(sa.distinct(reviews.c.tool_id)).label("n"),
    ).group_by(reviews.c.provider, reviews.c.model)
    by_critic = (
        sa.select(reviews.c.provider, reviews.c.model, reviews.c.critic_id)
        .distinct()
        .order_by(reviews.c.critic_id)
    )
    out: dict[tuple[str, str], ModelUsage] = {}
    with engine.connect() as conn:
        for row in conn.execute(by_status):
            usage = out.setdefault((row.provider, row.model), ModelUsage(row.provider, row.model))
            if row.status == "ok":
                usage.ok += int(row.n)
            else:
                usage.failed += int(row.n)
            usage.input_tokens += int(row.tin)
            usage.output_tokens += int(row.tout)
            usage.cost_usd += float(row.cost)
        for row in conn.execute(by_tool):
            out[(row.provider, row.model)].tools = int(row.n)
        for row in conn.execute(by_critic):
            out[(row.provider, row.model)].critics.append(row.critic_id)
    return sorted(out.values(), key=lambda u: (-(u.ok + u.failed), u.provider, u.model))
