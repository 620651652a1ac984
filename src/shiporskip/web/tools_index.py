"""The tools index: the whole catalog filtered by category, entry tier and panel verdict,
sorted by newest review, panel ship % or name, a page at a time (`/tools`, `/api/v1/tools`).

Pages continue from a cursor: the signed position where the previous page ended (see
`storage/listing.py`), bound to the filters and order it was made for. Signing is HMAC
without a timestamp, so a shared page's next link is the same for every reader and an old
link keeps working.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel

from shiporskip.domain.categories import CATEGORIES, resolve_category
from shiporskip.domain.pricing import ENTRY_LABELS, Entry
from shiporskip.errors import UserError
from shiporskip.runtime import Runtime
from shiporskip.security import secret_key
from shiporskip.storage.listing import (
    Filters,
    Position,
    Sort,
    VerdictFilter,
    Window,
    count_tools,
    key_kinds,
    tools_page,
)
from shiporskip.storage.queries import tools_by_slug
from shiporskip.web.common import panel_summaries
from shiporskip.web.openapi import errors
from shiporskip.web.schemas import ToolSummary, tool_summary
from shiporskip.web.site import Meta, Page, SiteDep, runtime_of

router = APIRouter()

HTML_PATH = "/tools"
API_PATH = "/api/v1/tools"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
DEFAULT_SORT = Sort.newest
CURSOR_VERSION = 1

SORT_LABELS = {
    Sort.newest: "Newest review",
    Sort.ship_pct: "Panel ship %",
    Sort.name: "Name",
}
VERDICT_LABELS = {
    VerdictFilter.ship: "Ship",
    VerdictFilter.skip: "Skip",
    VerdictFilter.tie: "Split",
    VerdictFilter.unreviewed: "Not reviewed",
}


class BadListRequest(UserError):
    """A filter, order, limit or cursor the index cannot use."""


class Choice(BaseModel):
    value: str
    label: str


class Applied(BaseModel):
    """The filters and order a page shows, in canonical form (None: any)."""

    category: str | None
    entry: str | None
    verdict: str | None
    sort: str
    limit: int


class Options(BaseModel):
    """Every value each filter and the order accept."""

    categories: list[Choice]
    entries: list[Choice]
    verdicts: list[Choice]
    sorts: list[Choice]


class ToolsIndex(Page):
    count: int
    shown: int
    sample_shown: int
    tools: list[ToolSummary]
    filters: Applied
    filtered: bool
    first_url: str | None
    prev_cursor: str | None
    prev_url: str | None
    next_cursor: str | None
    next_url: str | None
    options: Options


OPTIONS = Options(
    categories=[Choice(value=c.slug, label=c.name) for c in CATEGORIES],
    entries=[Choice(value=e.value, label=ENTRY_LABELS[e]) for e in Entry],
    verdicts=[Choice(value=v.value, label=VERDICT_LABELS[v]) for v in VerdictFilter],
    sorts=[Choice(value=s.value, label=SORT_LABELS[s]) for s in Sort],
)


def _one_of(name: str, raw: str, allowed: list[Choice]) -> str:
    value = raw.strip().lower()
    if value in {c.value for c in allowed}:
        return value
    valid = ", ".join(c.value for c in allowed)
    raise BadListRequest(f"Unknown {name} “{raw[:60]}”; use one of: {valid}.")


def parse_request(
    category: str | None,
    entry: str | None,
    verdict: str | None,
    sort: str | None,
    limit: str | None,
) -> Applied:
    """Query-string values as canonical filters; BadListRequest names the bad one."""
    slug = None
    if category and category.strip():
        try:
            slug = resolve_category(category).slug
        except UserError as exc:
            text = str(exc)
            raise BadListRequest(f"{text[:1].upper()}{text[1:]}.") from None
    size = DEFAULT_LIMIT
    if limit is not None and limit.strip():
        text = limit.strip()
        if not (text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_LIMIT):
            raise BadListRequest(
                f"Limit “{limit[:20]}” is not a whole number from 1 to {MAX_LIMIT}."
            )
        size = int(text)
    return Applied(
        category=slug,
        entry=_one_of("entry tier", entry, OPTIONS.entries) if entry and entry.strip() else None,
        verdict=_one_of("verdict", verdict, OPTIONS.verdicts)
        if verdict and verdict.strip()
        else None,
        sort=_one_of("sort", sort, OPTIONS.sorts) if sort and sort.strip() else DEFAULT_SORT,
        limit=size,
    )


def _filters(applied: Applied) -> Filters:
    verdict = VerdictFilter(applied.verdict) if applied.verdict else None
    return Filters(applied.category, applied.entry, verdict)


def _serializer(runtime: Runtime) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(runtime.settings), salt="shiporskip:tools-cursor")


def _scope(applied: Applied) -> list[Any]:
    return [applied.sort, applied.category, applied.entry, applied.verdict]


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


AFTER, BEFORE = "after", "before"


def make_cursor(
    runtime: Runtime, applied: Applied, position: Position, direction: str = AFTER
) -> str:
    """A cursor to the rows after `position` (or, with BEFORE, the page just before it)."""
    payload = [
        CURSOR_VERSION,
        *_scope(applied),
        position.segment,
        [_encode(v) for v in position.key],
        direction,
    ]
    return str(_serializer(runtime).dumps(payload))


BAD_CURSOR = "The cursor is not one this site made; start again from the first page."


def _decode(kind: type, value: Any) -> Any:
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str) and type(value) is kind:
        return value
    raise ValueError(value)


def read_cursor(runtime: Runtime, applied: Applied, cursor: str) -> tuple[str, Position]:
    """The direction and position a cursor holds; BadListRequest if it is forged, damaged
    or made for other filters or another order."""
    try:
        payload = _serializer(runtime).loads(cursor.strip())
    except (BadSignature, UnicodeError, json.JSONDecodeError):
        raise BadListRequest(BAD_CURSOR) from None
    if not isinstance(payload, list) or len(payload) != 8 or payload[0] != CURSOR_VERSION:
        raise BadListRequest(BAD_CURSOR)
    if payload[1:5] != _scope(applied):
        raise BadListRequest(
            "This cursor belongs to other filters or another order; start again from the "
            "first page of these."
        )
    segment, values, direction = payload[5:8]
    kinds = key_kinds(runtime.engine, Sort(applied.sort), segment) if type(segment) is int else None
    if kinds is None or not isinstance(values, list) or len(values) != len(kinds):
        raise BadListRequest(BAD_CURSOR)
    if direction not in (AFTER, BEFORE):
        raise BadListRequest(BAD_CURSOR)
    try:
        key = tuple(_decode(k, v) for k, v in zip(kinds, values, strict=True))
    except ValueError:
        raise BadListRequest(BAD_CURSOR) from None
    return direction, Position(segment, key)


def page_url(path: str, applied: Applied, cursor: str | None = None) -> str:
    """The address of a page of the index with these filters (defaults left out)."""
    params: dict[str, str | int] = {}
    for name in ("category", "entry", "verdict"):
        value = getattr(applied, name)
        if value:
            params[name] = value
    if applied.sort != DEFAULT_SORT:
        params["sort"] = applied.sort
    if applied.limit != DEFAULT_LIMIT:
        params["limit"] = applied.limit
    if cursor:
        params["cursor"] = cursor
    return path + (f"?{urlencode(params)}" if params else "")


def tools_index(
    runtime: Runtime, applied: Applied, cursor: str | None = None, path: str = HTML_PATH
) -> ToolsIndex:
    """One page of the index; links (first, previous, next) point at `path` (the HTML
    page or the API)."""
    after = before = None
    if cursor:
        direction, position = read_cursor(runtime, applied, cursor)
        after, before = (position, None) if direction == AFTER else (None, position)
    filters = _filters(applied)
    count = count_tools(runtime.engine, filters)
    window = Window([], None, None, False, False)
    if count:
        window = tools_page(
            runtime.engine, filters, Sort(applied.sort), applied.limit, after=after, before=before
        )
    slugs = window.slugs
    full = tools_by_slug(runtime.engine, slugs)
    _, summaries = panel_summaries(runtime, runtime.critics(), slugs)
    cards = [tool_summary(full[s], summaries.get(s)) for s in slugs if s in full]
    next_cursor = prev_cursor = None
    if window.more_after and window.last is not None:
        next_cursor = make_cursor(runtime, applied, window.last)
    if window.more_before and window.first is not None:
        prev_cursor = make_cursor(runtime, applied, window.first, BEFORE)
    return ToolsIndex(
        count=count,
        shown=len(cards),
        sample_shown=sum(c.sample for c in cards),
        tools=cards,
        filters=applied,
        filtered=bool(applied.category or applied.entry or applied.verdict),
        first_url=page_url(path, applied) if cursor else None,
        prev_cursor=prev_cursor,
        prev_url=page_url(path, applied, prev_cursor) if prev_cursor else None,
        next_cursor=next_cursor,
        next_url=page_url(path, applied, next_cursor) if next_cursor else None,
        options=OPTIONS,
    )


def _title(page: ToolsIndex) -> str:
    f = page.filters
    parts = []
    if f.verdict:
        parts.append(VERDICT_LABELS[VerdictFilter(f.verdict)])
    if f.entry:
        parts.append(ENTRY_LABELS[Entry(f.entry)])
    if f.category:
        parts.append(next(c.label for c in OPTIONS.categories if c.value == f.category))
    return "AI tools" + (f": {' · '.join(parts)}" if parts else "")


def asked(
    category: str | None = None,
    entry: str | None = None,
    verdict: str | None = None,
    sort: str | None = None,
    limit: str | None = None,
    cursor: str | None = None,
) -> tuple[Applied, str | None]:
    """The query both addresses take (FastAPI dependency): filters, order and cursor."""
    try:
        return parse_request(category, entry, verdict, sort, limit), cursor
    except BadListRequest as exc:
        raise HTTPException(422, str(exc)) from None


Asked = Annotated[tuple[Applied, str | None], Depends(asked)]


def _answer(runtime: Runtime, asked: tuple[Applied, str | None], path: str) -> ToolsIndex:
    try:
        return tools_index(runtime, *asked, path)
    except BadListRequest as exc:
        raise HTTPException(422, str(exc)) from None


@router.get(HTML_PATH, response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, s: SiteDep, asked: Asked) -> Response:
    page = _answer(s.runtime, asked, HTML_PATH)
    applied, cursor = asked
    title = _title(page)
    meta = Meta(
        title=f"{title} · shiporskip",
        description=f"{page.count} AI {'tool' if page.count == 1 else 'tools'} with the "
        "critic panel's verdicts, filtered by category, entry tier and verdict.",
        path=page_url(HTML_PATH, applied, cursor),
        noindex=bool(cursor),
    )
    # Cards show the panel verdict and the entry tier, never community vote counts.
    return s.render(
        request, "tools.html", page, meta, extra={"title": title}, shared=True, shows_votes=False
    )


@router.get(API_PATH, response_model=ToolsIndex, tags=["tools"], responses=errors(422))
def api_tools(request: Request, asked: Asked) -> ToolsIndex:
    """The catalog a page at a time, with each tool's panel verdict.

    Filters: `category` (slug or alias), `entry` (free, freemium, paid, open-source),
    `verdict` (ship, skip, split, unreviewed). `sort`: newest (newest review first,
    default), ship-pct (panel ship %, then mean score, then name) or name; tools the panel
    has not reviewed come after the reviewed ones in the first two. `limit`: 1-100
    (default 50). `count` is the number of matching tools; follow `next_url` (or pass
    `next_cursor` as `cursor` with the same filters) until it is null; `prev_url` goes
    back a page.
    """
    return _answer(runtime_of(request), asked, API_PATH)
