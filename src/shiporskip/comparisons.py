"""Nearest competitors: which comparisons a newly reviewed tool should get."""

from __future__ import annotations

from collections.abc import Sequence

from shiporskip.domain.text import name_key
from shiporskip.domain.tools import Tool
from shiporskip.runtime import Runtime
from shiporskip.storage.reviews import ToolPanel, panels


def same_category_reviewed(
    tool: Tool, tools: Sequence[Tool], tool_panels: dict[str, ToolPanel]
) -> list[str]:
    """Reviewed tools in the same category, most complete panels first."""
    same = [
        t
        for t in tools
        if t.category == tool.category
        and t.slug != tool.slug
        and t.slug in tool_panels
        and tool_panels[t.slug].votes
    ]
    same.sort(key=lambda t: (-len(tool_panels[t.slug].votes), t.name.lower()))
    return [t.slug for t in same]


def competitors_named(runtime: Runtime, tool: Tool, tools: Sequence[Tool]) -> list[str]:
    """Catalog slugs of the competitors the panel named in this tool's current reviews."""
    index: dict[str, str] = {}
    for other in tools:
        for key in other.name_keys:
            index.setdefault(key, other.slug)
    current, _ = runtime.reviews.current(tool.slug)
    out: list[str] = []
    for record in current.values():
        for name in record.draft.competitors if record.draft else ():
            slug = index.get(name_key(name))
            if slug and slug != tool.slug and slug not in out:
                out.append(slug)
    return out


def comparisons_for(runtime: Runtime, tool: Tool, limit: int = 3) -> list[tuple[str, str]]:
    """Canonical (a, b) pairs for a tool and its nearest reviewed competitors."""
    tools = runtime.catalog.list()
    tool_panels = panels(runtime.engine)
    reviewed = {slug for slug, p in tool_panels.items() if p.votes}
    picks = [s for s in competitors_named(runtime, tool, tools) if s in reviewed]
    for slug in same_category_reviewed(tool, tools, tool_panels):
        if slug not in picks:
            picks.append(slug)
    pairs = []
    for slug in picks[:limit]:
        a, b = sorted((tool.slug, slug))
        pairs.append((a, b))
    return pairs
