"""Search over tool names, aliases, vendors, taglines and categories.

SQL narrows the catalog to candidates with literal (escaped) substring matches; Python
ranks them: exact name, then name prefix, then name contains, then alias or vendor, then
tagline or category, and by name within each tier.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from shiporskip.domain.categories import CATEGORIES, resolve_category
from shiporskip.domain.text import name_key
from shiporskip.errors import UserError
from shiporskip.runtime import Runtime
from shiporskip.storage.queries import ToolHead, search_candidates, tool_heads, tools_by_slug
from shiporskip.web.common import panel_summaries
from shiporskip.web.openapi import errors
from shiporskip.web.schemas import CategoryOut, ToolSummary, category_out, tool_summary
from shiporskip.web.site import Meta, Page, SiteDep, runtime_of

router = APIRouter()

MAX_QUERY = 200
MAX_RESULTS = 50
PROMPT = "Type a tool name, vendor, category or a word from a tagline, e.g. “vision”."

# Tiers, best first: what matched decides the rank before the name does.
EXACT, PREFIX, CONTAINS, ALIAS_OR_VENDOR, TAGLINE_OR_CATEGORY = range(5)


class SearchHit(ToolSummary):
    matched: str


class Suggestion(BaseModel):
    slug: str
    name: str
    url: str


class SearchPage(Page):
    query: str
    count: int
    shown: int
    results: list[SearchHit]
    message: str | None
    categories: list[CategoryOut]
    suggestions: list[Suggestion]


class QueryTooLong(UserError):
    """A search query longer than MAX_QUERY characters."""


def clean_query(raw: str) -> str:
    """Drop control and invisible characters, collapse whitespace; refuse over-long queries."""
    text = "".join(ch for ch in raw if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_QUERY:
        raise QueryTooLong(
            f"That search is {len(text)} characters long; searches are limited to "
            f"{MAX_QUERY} characters. Try a tool name or a shorter phrase."
        )
    return text


def matching_categories(query: str) -> list[str]:
    """Categories whose name, slug or alias is (or, from 3 characters, contains) the query."""
    try:
        return [resolve_category(query).slug]
    except UserError:
        pass
    if len(query) < 3:
        return []
    folded = query.casefold()
    return [
        c.slug
        for c in CATEGORIES
        if any(folded in label.casefold() for label in (c.slug, c.name, *c.aliases))
    ]


def query_key(query: str) -> str:
    """The normalised form of a name-like query ("GPT 4o" -> "gpt4o"), else "".

    Only queries of letters, digits, spaces, dots and hyphens are normalised: dropping
    other symbols would let "100%" match "100x", which is a wildcard by another name.
    """
    if all(ch.isalnum() or ch in " .-" for ch in query):
        return name_key(query)
    return ""


def _names_match(names: Sequence[str], folded: str, key: str) -> bool:
    return any(folded in n.casefold() or (key and key in name_key(n)) for n in names)


def match_tier(
    head: ToolHead, folded: str, key: str, categories: Sequence[str]
) -> tuple[int, str] | None:
    """How well a tool matches the query (lower is better) and on what; None if it does not."""
    name = head.name.casefold()
    own = name_key(head.name)
    if name == folded or (key and own == key):
        return EXACT, "name"
    if name.startswith(folded) or (key and own.startswith(key)):
        return PREFIX, "name"
    if _names_match([head.name], folded, key):
        return CONTAINS, "name"
    if _names_match(head.aliases, folded, key):
        return ALIAS_OR_VENDOR, "alias"
    if folded in head.vendor.casefold():
        return ALIAS_OR_VENDOR, "vendor"
    if folded in head.tagline.casefold():
        return TAGLINE_OR_CATEGORY, "tagline"
    if head.category in categories:
        return TAGLINE_OR_CATEGORY, "category"
    return None


def rank(
    heads: Sequence[ToolHead], query: str, categories: Sequence[str]
) -> list[tuple[ToolHead, str]]:
    """Candidates that really match, best first, each with what it matched on."""
    folded, key = query.casefold(), query_key(query)
    scored = []
    for head in heads:
        found = match_tier(head, folded, key, categories)
        if found is not None:
            scored.append((found[0], head.name.casefold(), head.slug, head, found[1]))
    scored.sort(key=lambda s: s[:3])
    return [(s[3], s[4]) for s in scored]


def suggestions(runtime: Runtime, query: str, limit: int = 5) -> list[Suggestion]:
    """Tools whose name or alias looks like the query (for a search with no results)."""
    labels: dict[str, ToolHead] = {}
    for head in tool_heads(runtime.engine):
        for label in (head.name, *head.aliases):
            labels.setdefault(label.casefold(), head)
    close = difflib.get_close_matches(query.casefold(), list(labels), n=limit * 2, cutoff=0.6)
    out: dict[str, Suggestion] = {}
    for label in close:
        head = labels[label]
        out.setdefault(
            head.slug, Suggestion(slug=head.slug, name=head.name, url=f"/tools/{head.slug}")
        )
    return list(out.values())[:limit]


def _empty(query: str, message: str) -> SearchPage:
    return SearchPage(
        query=query,
        count=0,
        shown=0,
        results=[],
        message=message,
        categories=[],
        suggestions=[],
    )


def search_page(runtime: Runtime, raw: str) -> SearchPage:
    """Search results for a query; raises QueryTooLong for an over-long one."""
    query = clean_query(raw)
    if not query:
        return _empty("", PROMPT)
    categories = matching_categories(query)
    candidates = search_candidates(runtime.engine, query, query_key(query), categories)
    ranked = rank(candidates, query, categories)
    top = ranked[:MAX_RESULTS]
    slugs = [h.slug for h, _ in top]
    full = tools_by_slug(runtime.engine, slugs)
    _, summaries = panel_summaries(runtime, runtime.critics(), slugs)
    results = [
        SearchHit(**tool_summary(full[h.slug], summaries.get(h.slug)).model_dump(), matched=on)
        for h, on in top
        if h.slug in full
    ]
    message = None
    near: list[Suggestion] = []
    if not results:
        near = suggestions(runtime, query)
        message = (
            f"No tool matches “{query}”. Check the spelling, try part of a name or a vendor, "
            "or browse the categories."
        )
    return SearchPage(
        query=query,
        count=len(ranked),
        shown=len(results),
        results=results,
        message=message,
        categories=[category_out(c) for c in categories],
        suggestions=near,
    )


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search(request: Request, s: SiteDep, q: str = "") -> Response:
    status = 200
    try:
        page = search_page(s.runtime, q)
    except QueryTooLong as exc:
        page, status = _empty("", str(exc)), 422
    title = f"Search: {page.query}" if page.query else "Search"
    meta = Meta(
        title=f"{title} · shiporskip",
        description=f"{page.count} AI tools match “{page.query}”."
        if page.query
        else "Search AI tools by name, vendor, category or tagline.",
        path="/search" + (f"?{urlencode({'q': page.query})}" if page.query else ""),
        noindex=True,
    )
    return s.render(
        request, "search.html", page, meta, status=status, shared=True, shows_votes=False
    )


@router.get("/api/v1/search", response_model=SearchPage, tags=["search"], responses=errors(422))
def api_search(request: Request, q: str = "") -> SearchPage:
    """Tools matching `q` (names, aliases, vendors, taglines, categories), best first."""
    try:
        return search_page(runtime_of(request), q)
    except QueryTooLong as exc:
        raise HTTPException(422, str(exc)) from None
