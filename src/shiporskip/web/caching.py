"""The page cache, conditional GET and the visitor cookie, as one ASGI middleware.

**Shared pages** (`Site.render(..., shared=True)`: the tool, compare, critic, category,
search, home and methodology pages) are the same bytes for every visitor
(`web/shared.py`). They are kept in memory per server process, under their path and query
string together with the data version they were rendered at. The data version is two
counters that database triggers bump in the same transaction as every write to what those
pages show (migration 0009), from whichever process writes: the worker, the CLI, another
server worker. One follows the content, the other the community vote, so a page that shows
no vote counts (`Site.render(..., shows_votes=False)`) stays current while people vote.
Each request reads the counters (one indexed read); while they are unchanged the page is
served from memory as it was rendered, without running the route. A review, vote or
catalog change is visible on the next request. The version is read before the page is
rendered, so a page is never kept under a version newer than its data. The memory bound is
`page_cache_mb` per process, least recently used pages go first.

The reads run on the event loop: they are short indexed reads (tens of microseconds on
SQLite, one loopback round trip on PostgreSQL), and a thread hop for each would cost more
than it saves.

**ETags**: every shared page, other HTML page and `/api/v1` JSON answer is tagged by a hash
of its bytes, strong, the same for everyone. Shared pages say `Cache-Control: public` with
`s-maxage` (`web/shared.py`), so a proxy cache or CDN keeps them; the others `no-cache`.
Personal answers are neither tagged nor kept: a response that sets a cookie, a personal
page (`PERSONAL_PREFIXES`) and a route that says `no-store` (`/api/v1/me`, the session, the
submit form) go out `private, no-store`.

**HEAD** is answered on every path by running the GET route and dropping the body, so it
has the GET's status, headers and tag. The GET routes that act (counting a badge load or a
click, using a sign-in or confirmation link) ask `site.is_head` and do not act for a HEAD:
link checkers and mail scanners send HEADs.

**Visitor cookie**: a request that needed a visitor id and had none (see
`identity.request_voter`) gets the cookie with its response.

This is plain ASGI rather than `BaseHTTPMiddleware`, which would add a task and a stream
per request to every response, including the ones it leaves alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shiporskip.storage.page_versions import (
    KeyVersion,
    PageScope,
    Versions,
    key_versions,
    keys_of,
    read_versions,
)
from shiporskip.web.identity import NEW_VOTER_STATE, VOTER_STATE, voter_cookie
from shiporskip.web.shared import SharedPage, entity_tag
from shiporskip.web.site import HEAD_STATE, SCOPE_SLOT, SHARED_SLOT, Site

# Personal or one-time pages: sign-in links, newsletter confirmations, the admin area.
PERSONAL_PREFIXES = ("/admin", "/api/v1/admin", "/newsletter/", "/signin")
EXCLUDED_PREFIXES = (*PERSONAL_PREFIXES, "/static/")
# GETs that count a load or click: never answered from the cache.
COUNTED_PREFIXES = ("/badge/", "/embed/", "/go/")
# Larger bodies pass through untouched rather than being held in memory to be hashed.
MAX_BODY = 4 * 1024 * 1024
# Headers of the 200 that describe its body, which a 304 does not carry.
BODY_HEADERS = {b"content-length", b"content-type", b"content-encoding"}

Key = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class Entry:
    """A kept page and what it was current at.

    `keys` is None for a page of the whole catalog, which follows the global counters. A
    page that declared its scope follows the catalog counter and its keys' pairs; `pairs`
    is None when those were not known as of the render (a write landed meanwhile): the page
    is then rendered again on the next request, which reads its keys first.
    """

    page: SharedPage
    versions: Versions
    keys: tuple[str, ...] | None = None
    pairs: tuple[KeyVersion, ...] | None = None

    def current(self, versions: Versions, pairs: tuple[KeyVersion, ...] | None) -> bool:
        content, votes, catalog = self.versions
        if self.keys is None:
            return content == versions[0] and (votes == versions[1] or not self.page.shows_votes)
        if catalog != versions[2] or self.pairs is None or pairs is None:
            return False
        if self.page.shows_votes:
            return self.pairs == pairs
        return all(mine[0] == now[0] for mine, now in zip(self.pairs, pairs, strict=True))


class PageCache:
    """ASGI middleware: shared pages from memory, ETags and 304s, the visitor cookie."""

    def __init__(self, app: ASGIApp, site: Site) -> None:
        self.app = app
        self.site = site
        self.runtime = site.runtime
        limit = site.runtime.settings.page_cache_mb * 1024 * 1024
        self.pages: LRUCache[Key, Entry] | None = (
            LRUCache(maxsize=limit, getsizeof=lambda entry: entry.page.size) if limit else None
        )
        # Addresses whose last answer was not a shared page (API JSON, feeds, errors):
        # they skip the version read next time.
        self.unshared: LRUCache[Key, bool] = LRUCache(maxsize=4096)
        self.hits = 0
        self.misses = 0
        site.page_cache = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Routes and this middleware see one state dict, whatever copies the scope.
        scope.setdefault("state", {})
        if scope["method"] == "HEAD":
            # FastAPI routes answer GET only. A HEAD, on any path, is the GET's answer (its
            # status, headers and tag) without the body; the routes that act on a GET
            # (counting a load or click, using a one-time link) ask `is_head` and do not.
            scope = {**scope, "method": "GET"}
            scope["state"][HEAD_STATE] = True
            send = _without_body(send)
        path = scope["path"]
        if scope["method"] != "GET" or path.startswith(EXCLUDED_PREFIXES):
            await self.app(scope, receive, self._with_cookie(scope, send))
            return
        counted = path.startswith(COUNTED_PREFIXES)
        key: Key = (path, scope["query_string"])
        version: Versions | None = None
        # The kept page's keys as read before this render: if the new render shows no
        # other keys, it is current as of these.
        before: tuple[tuple[str, ...], tuple[KeyVersion, ...]] | None = None
        if self.pages is not None and not counted and key not in self.unshared:
            with self.runtime.engine.connect() as conn:
                version = read_versions(conn)
                entry = self.pages.get(key)
                if entry is not None:
                    pairs = None if entry.keys is None else key_versions(conn, entry.keys)
                    if entry.current(version, pairs):
                        self.hits += 1
                        status, headers, body = self._answer(scope, entry.page)
                        # Whether this process's memory answered: what `bench/cache_mix.py`
                        # counts through a real server.
                        headers.append((b"x-page-cache", b"hit"))
                        await _send(send, status, headers, body)
                        return
                    if entry.keys is not None and pairs is not None:
                        before = (entry.keys, pairs)
        self.misses += 1
        slot: list[SharedPage] = []
        scope[SHARED_SLOT] = slot
        passed = _Tagging(scope, self._with_cookie(scope, send))

        async def send_unless_shared(message: Message) -> None:
            if not slot:
                await passed(message)

        await self.app(scope, receive, send_unless_shared)
        if not slot:
            self.unshared[key] = True
        else:
            self.unshared.pop(key, None)
            page = slot[0]
            with self.runtime.engine.connect() as conn:
                if version is not None and self.pages is not None:
                    self.pages[key] = _entry(conn, page, version, scope.get(SCOPE_SLOT), before)
                status, headers, body = self._answer(scope, page)
            headers.append((b"x-page-cache", b"miss"))
            await _send(send, status, headers, body)

    def _answer(
        self, scope: Scope, page: SharedPage
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Status, headers and body of a shared page: the same for every visitor."""
        if _matches(_if_none_match(scope), page.etag.decode()):
            return 304, [(k, v) for k, v in page.headers if k not in BODY_HEADERS], b""
        return page.status, list(page.headers), page.body

    def _with_cookie(self, scope: Scope, send: Send) -> Send:
        """`send`, adding the visitor cookie when the request made a visitor id. An answer
        that sets a cookie, or comes from a personal page, is `private, no-store` unless it
        says otherwise."""
        personal = str(scope["path"]).startswith(PERSONAL_PREFIXES)

        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state") or {}
                headers = MutableHeaders(raw=list(message["headers"]))
                if state.get(NEW_VOTER_STATE) and state.get(VOTER_STATE):
                    headers.append("set-cookie", voter_cookie(self.runtime, state[VOTER_STATE]))
                said = headers.get("cache-control", "")
                kept_to_one = "private" in said or "no-store" in said
                if (personal or "set-cookie" in headers) and not kept_to_one:
                    headers["cache-control"] = "private, no-store"
                message = {**message, "headers": headers.raw}
            await send(message)

        return sender


def _entry(
    conn: Any,
    page: SharedPage,
    version: Versions,
    scope: PageScope | None,
    before: tuple[tuple[str, ...], tuple[KeyVersion, ...]] | None,
) -> Entry:
    """What a page rendered after reading `version` (and `before`) is current at."""
    if scope is None:
        return Entry(page, version)
    keys = keys_of(conn, scope)
    if before is not None:
        known = dict(zip(*before, strict=True))
        if all(k in known for k in keys):
            return Entry(page, version, keys, tuple(known[k] for k in keys))
    # Keys first, then the counters: if no write landed since the render began (every
    # write that bumps a key bumps the counters in the same transaction), the keys read
    # here are what the render saw.
    pairs = key_versions(conn, keys)
    if read_versions(conn) == version:
        return Entry(page, version, keys, pairs)
    return Entry(page, version, keys)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """Send an answer the middleware built; its Content-Length is computed here, from the
    body, and a 304 carries none."""
    if status != 304:
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _without_body(send: Send) -> Send:
    """`send` for a HEAD: the GET's status and headers (Content-Length included), no body."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return sender


class _Tagging:
    """Tags a page or API answer the route rendered itself, by a hash of its body."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.send = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.passing = False

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
        elif message["type"] == "http.response.start":
            if _eligible(self.scope, message):
                self.start = message
            else:
                self.passing = True
                await self.send(message)
        elif message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                answer = _tagged(self.scope, self.start, b"".join(self.chunks))
                await _send(self.send, *answer)
        else:
            await self.send(message)


def _eligible(scope: Scope, start: Message) -> bool:
    """A complete 200 page or API answer that has no validator of its own and is not
    personal (it sets a cookie, or says `no-store`)."""
    if start["status"] != 200 or (scope.get("state") or {}).get(NEW_VOTER_STATE):
        return False
    headers = Headers(raw=start["headers"])
    if "etag" in headers or "set-cookie" in headers:
        return False
    if "no-store" in headers.get("cache-control", ""):
        return False
    length = headers.get("content-length")
    # No declared length means a streamed body: it may never end, so it is not buffered.
    if length is None or not length.isdigit() or int(length) > MAX_BODY:
        return False
    kind = headers.get("content-type", "")
    return kind.startswith("text/html") or (
        str(scope["path"]).startswith("/api/v1/") and kind.startswith("application/json")
    )


def _tagged(
    scope: Scope, start: Message, body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    headers = MutableHeaders(raw=list(start["headers"]))
    tag = entity_tag(body).decode()
    headers["etag"] = tag
    if "cache-control" not in headers:
        headers["cache-control"] = "no-cache"
    if _matches(_if_none_match(scope), tag):
        return 304, [(k, v) for k, v in headers.raw if k not in BODY_HEADERS], b""
    return 200, headers.raw, body


def _headers(scope: Scope, name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope["headers"] if k == name]


def _if_none_match(scope: Scope) -> str | None:
    values = _headers(scope, b"if-none-match")
    return ", ".join(values) if values else None


def _matches(header: str | None, tag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison, `*` matches any current representation."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(c.strip().removeprefix("W/") == tag for c in header.split(","))
