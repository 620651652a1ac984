"""Category pages: every category with its counts, and each category's tools ranked."""

from __future__ import annotations

import math
from collections.abc import Sequence

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from shiporskip.domain.categories import CATEGORIES, Category, resolve_category
from shiporskip.errors import UserError
from shiporskip.runtime import Runtime
from shiporskip.storage.queries import (
    CategoryTotals,
    category_ranking,
    category_totals,
    tools_by_slug,
)
from shiporskip.web.common import compare_path, panel_summaries
from shiporskip.web.openapi import errors
from shiporskip.web.schemas import CategoryOut, ToolSummary, category_out, tool_summary
from shiporskip.web.site import Meta, Page, SiteDep, runtime_of

router = APIRouter()

ALTERNATIVES_SHOWN = 5
PAGE_SIZE = 60


class CategoryRow(CategoryOut):
    tools: int
    reviewed: int
    shipped: int
    text: str
    url: str


class CategoriesPage(Page):
    count: int
    tools: int
    categories: list[CategoryRow]


class AlternativeLink(BaseModel):
    slug: str
    name: str
    url: str
    compare_url: str
    verdict: str


class Alternatives(BaseModel):
    slug: str
    name: str
    anchor: str
    alternatives: list[AlternativeLink]
    more: int


class CategoryPage(Page):
    category: CategoryOut
    count: int
    reviewed: int
    shipped: int
    page: int
    pages: int
    first_rank: int
    prev_url: str | None
    next_url: str | None
    tools: list[ToolSummary]
    alternatives: list[Alternatives]
    other_categories: list[CategoryOut]


def _counts_text(tools: int, shipped: int) -> str:
    return f"{tools} {'tool' if tools == 1 else 'tools'}, {shipped} shipped"


def categories_page(runtime: Runtime) -> CategoriesPage:
    """Every category with how many tools it holds and how many the panel shipped."""
    totals = category_totals(runtime.engine)
    rows = []
    for category in CATEGORIES:
        mine = totals.get(category.slug, CategoryTotals(0, 0, 0))
        rows.append(
            CategoryRow(
                **category_out(category.slug).model_dump(),
                tools=mine.tools,
                reviewed=mine.reviewed,
                shipped=mine.shipped,
                text=_counts_text(mine.tools, mine.shipped),
                url=f"/categories/{category.slug}",
            )
        )
    return CategoriesPage(
        count=len(rows), tools=sum(t.tools for t in totals.values()), categories=rows
    )


def _link(tool: ToolSummary, other: ToolSummary) -> AlternativeLink:
    panel = other.panel
    return AlternativeLink(
        slug=other.slug,
        name=other.name,
        url=other.url,
        compare_url=compare_path(tool.slug, other.slug),
        verdict=f"{panel.verdict_label} {panel.tally}"
        if panel and panel.reported
        else "Not reviewed",
    )


def _alternatives(
    shown: Sequence[ToolSummary], best: Sequence[ToolSummary], total: int
) -> list[Alternatives]:
    """For each shown tool, the best-ranked others (`best` holds one spare for itself)."""
    out = []
    for tool in shown:
        others = [t for t in best if t.slug != tool.slug][:ALTERNATIVES_SHOWN]
        out.append(
            Alternatives(
                slug=tool.slug,
                name=tool.name,
                anchor=f"alternatives-to-{tool.slug}",
                alternatives=[_link(tool, o) for o in others],
                more=max(0, total - 1 - len(others)),
            )
        )
    return out


def page_number(text: str) -> int:
    """A page number from the query string; anything that is not one means page 1."""
    return int(text) if text.isdigit() and len(text) < 7 else 1


def _page_url(slug: str, page: int) -> str:
    return f"/categories/{slug}" + (f"?page={page}" if page > 1 else "")


def category_page(runtime: Runtime, category: Category, page: int = 1) -> CategoryPage:
    """One category's tools ranked by the panel (a page at a time), with alternatives."""
    totals = category_totals(runtime.engine, category.slug).get(
        category.slug, CategoryTotals(0, 0, 0)
    )
    pages = max(1, math.ceil(totals.tools / PAGE_SIZE))
    page = min(max(page, 1), pages)
    first = (page - 1) * PAGE_SIZE
    window = category_ranking(runtime.engine, category.slug, PAGE_SIZE, first)
    best = (
        window[: ALTERNATIVES_SHOWN + 1]
        if page == 1
        else category_ranking(runtime.engine, category.slug, ALTERNATIVES_SHOWN + 1)
    )
    slugs = list(dict.fromkeys((*best, *window)))
    full = tools_by_slug(runtime.engine, slugs)
    _, summaries = panel_summaries(runtime, runtime.critics(), slugs)
    cards = {s: tool_summary(full[s], summaries.get(s)) for s in slugs if s in full}
    shown = [cards[s] for s in window if s in cards]
    return CategoryPage(
        category=category_out(category.slug),
        count=totals.tools,
        reviewed=totals.reviewed,
        shipped=totals.shipped,
        page=page,
        pages=pages,
        first_rank=first + 1,
        prev_url=_page_url(category.slug, page - 1) if page > 1 else None,
        next_url=_page_url(category.slug, page + 1) if page < pages else None,
        tools=shown,
        alternatives=_alternatives(shown, [cards[s] for s in best if s in cards], totals.tools),
        other_categories=[category_out(c.slug) for c in CATEGORIES if c.slug != category.slug],
    )


def _resolve(label: str) -> Category:
    try:
        return resolve_category(label)
    except UserError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/categories", response_class=HTMLResponse, include_in_schema=False)
def categories(request: Request, s: SiteDep) -> Response:
    page = categories_page(s.runtime)
    meta = Meta(
        title="AI tool categories · shiporskip",
        description=(
            f"{page.tools} AI tools in {page.count} categories, each with the number the "
            "critic panel shipped."
        ),
        path="/categories",
    )
    return s.render(request, "categories.html", page, meta, shared=True, shows_votes=False)


@router.get("/categories/{slug}", response_class=HTMLResponse, include_in_schema=False)
def category(request: Request, slug: str, s: SiteDep, page: str = "1") -> Response:
    found = _resolve(slug)
    if found.slug != slug:
        # Aliases ("llm", "Coding Assistants") work, but each category has one address.
        return RedirectResponse(f"/categories/{found.slug}", status_code=301)
    context = category_page(s.runtime, found, page_number(page))
    c = context.category
    meta = Meta(
        title=f"Best {c.name}: {context.count} tools ranked by the panel · shiporskip",
        description=f"{c.description} {_counts_text(context.count, context.shipped)} by the panel.",
        path=_page_url(c.slug, context.page),
    )
    return s.render(request, "category.html", context, meta, shared=True, shows_votes=False)


@router.get(
    "/api/v1/categories",
    response_model=CategoriesPage,
    tags=["categories"],
    responses=errors(),
)
def api_categories(request: Request) -> CategoriesPage:
    """Every category with its tool count and how many tools the panel shipped."""
    return categories_page(runtime_of(request))


@router.get(
    "/api/v1/categories/{slug}",
    response_model=CategoryPage,
    tags=["categories"],
    responses=errors(404),
)
def api_category(request: Request, slug: str, page: str = "1") -> CategoryPage:
    """One category's tools ranked by panel ship %, then mean score, then name (paged)."""
    return category_page(runtime_of(request), _resolve(slug), page_number(page))
