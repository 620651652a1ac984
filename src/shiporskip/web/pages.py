"""Page contexts: each page's data built once, rendered as HTML or returned as JSON."""

from __future__ import annotations

from pydantic import BaseModel

from shiporskip.domain.categories import CATEGORIES
from shiporskip.runtime import Runtime
from shiporskip.web.schemas import (
    CategoryOut,
    ToolDetail,
    ToolSummary,
    category_out,
    tool_detail,
    tool_summary,
)


class HomePage(BaseModel):
    count: int
    sample_count: int
    tools: list[ToolSummary]
    categories: list[CategoryOut]


class ToolPage(BaseModel):
    tool: ToolDetail
    same_category: list[ToolSummary]


class ToolList(BaseModel):
    count: int
    tools: list[ToolSummary]


def home_page(runtime: Runtime, category: str | None = None) -> HomePage:
    tools = runtime.catalog.list(category=category)
    return HomePage(
        count=len(tools),
        sample_count=sum(t.sample for t in tools),
        tools=[tool_summary(t) for t in tools],
        categories=[category_out(c.slug) for c in CATEGORIES],
    )


def tool_page(runtime: Runtime, slug: str) -> ToolPage:
    tool = runtime.catalog.get(slug)
    peers = [t for t in runtime.catalog.list(category=tool.category) if t.slug != slug]
    return ToolPage(tool=tool_detail(tool), same_category=[tool_summary(t) for t in peers[:6]])
