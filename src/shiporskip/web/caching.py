"""Conditional GET: a strong ETag on pages and `/api/v1` JSON, and 304 when it still matches.

The ETag is a hash of the response body, not of a data version. Pages are built from
reviews, votes and catalog rows that other processes change (the worker, the other server
workers, the CLI): the rendered bytes are the only version that is provably current, so a
review or vote that changes the page changes its ETag. The server still renders every
page; a 304 saves the transfer and the browser's work, not the render.

Two form tokens differ on every render (both are timestamped signatures, the newsletter one
also carries a nonce), so they are blanked before hashing, and in their place the tag
covers what keeps the browser's cached copy of them valid: the visitor cookie, which the
vote CSRF token is bound to (and which never expires), and the current half of the
newsletter token's lifetime, so a cached token is always younger than its maximum age.
Anything else that changes the page changes the tag; a new kind of per-render value would
only cost 304s, never serve a stale page. (Deterministic tokens upstream would make this
blanking unnecessary.)

`Cache-Control: no-cache` makes clients revalidate every time, so a changed page is never
served stale; `Vary: Cookie` keeps shared caches from giving one visitor's page to another.
A response that sets a cookie never becomes a 304 (the browser must receive the cookie)
and is marked `private`.

This is plain ASGI rather than `BaseHTTPMiddleware`, which would add a task and a stream
per request to every response, including the ones it leaves alone.
"""

from __future__ import annotations

import hashlib
import re
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shiporskip.newsletter.tokens import FORM_MAX_AGE
from shiporskip.web.votes import VOTER_COOKIE

# Personal or one-time pages: sign-in links, newsletter confirmations, the admin area.
EXCLUDED_PREFIXES = ("/admin", "/api/v1/admin", "/newsletter/", "/signin", "/static/")
# GETs that count a load or click: a HEAD there must not be answered by running the GET.
COUNTED_PREFIXES = ("/badge/", "/embed/", "/go/")
# Larger bodies pass through untouched rather than being held in memory to be hashed.
MAX_BODY = 4 * 1024 * 1024
# Headers of the 200 that describe its body, which a 304 does not carry.
BODY_HEADERS = {b"content-length", b"content-type", b"content-encoding"}
# The vote/submit CSRF token and the newsletter form token, as the templates render them.
FORM_TOKENS = re.compile(rb'(name="(?:csrf|csrf_token)" value=")[^"]*"')
TOKEN_PERIOD = FORM_MAX_AGE // 2


class ConditionalGet:
    """ASGI middleware: ETag, `Cache-Control: no-cache`, `Vary: Cookie`, and 304s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope["path"].startswith(EXCLUDED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head and not scope["path"].startswith(COUNTED_PREFIXES):
            # FastAPI routes answer GET only; HEAD is the same response without the body
            # (which the server drops), so the tag is that of the GET.
            scope = {**scope, "method": "GET"}
        start: Message | None = None
        chunks: list[bytes] = []
        passing = False

        async def send_tagged(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                if _eligible(scope["path"], message):
                    start = message
                else:
                    passing = True
                    await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _finish(scope, start, b"".join(chunks), send, head=head)
            else:
                await send(message)

        await self.app(scope, receive, send_tagged)


def _eligible(path: str, start: Message) -> bool:
    """A complete 200 page or API answer that has no validator of its own."""
    if start["status"] != 200:
        return False
    headers = Headers(raw=start["headers"])
    if "etag" in headers:
        return False
    length = headers.get("content-length")
    # No declared length means a streamed body: it may never end, so it is not buffered.
    if length is None or not length.isdigit() or int(length) > MAX_BODY:
        return False
    kind = headers.get("content-type", "")
    return kind.startswith("text/html") or (
        path.startswith("/api/v1/") and kind.startswith("application/json")
    )


def entity_tag(body: bytes, html: bool, voter: str | None) -> str:
    """The strong ETag of a body rendered for `voter` (the visitor cookie's value)."""
    digest = hashlib.blake2b(digest_size=16)
    if html:
        blanked, tokens = FORM_TOKENS.subn(rb'\1"', body)
        if tokens:
            body = blanked
            period = int(time.time()) // TOKEN_PERIOD
            digest.update(f"{voter or ''}\n{period}\n".encode())
    digest.update(body)
    return '"' + digest.hexdigest() + '"'


async def _finish(scope: Scope, start: Message, body: bytes, send: Send, *, head: bool) -> None:
    headers = MutableHeaders(raw=list(start["headers"]))
    sets_cookie = "set-cookie" in headers
    # A first visit's page is rendered for the visitor id it sets, so its tag matches
    # the same page requested again with that cookie.
    voter = _cookie(headers.getlist("set-cookie"), VOTER_COOKIE) if sets_cookie else None
    if voter is None:
        voter = _cookie(_headers(scope, b"cookie"), VOTER_COOKIE)
    html = headers.get("content-type", "").startswith("text/html")
    tag = entity_tag(body, html, voter)
    headers["etag"] = tag
    if "cache-control" not in headers:
        headers["cache-control"] = "private, no-cache" if sets_cookie else "no-cache"
    if "cookie" not in headers.get("vary", "").lower():
        headers.add_vary_header("Cookie")
    if not sets_cookie and _matches(_if_none_match(scope), tag):
        raw = [(k, v) for k, v in headers.raw if k not in BODY_HEADERS]
        await send({"type": "http.response.start", "status": 304, "headers": raw})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": headers.raw})
    await send({"type": "http.response.body", "body": b"" if head else body})


def _headers(scope: Scope, name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope["headers"] if k == name]


def _if_none_match(scope: Scope) -> str | None:
    values = _headers(scope, b"if-none-match")
    return ", ".join(values) if values else None


def _cookie(lines: list[str], name: str) -> str | None:
    """A cookie's value from Cookie or Set-Cookie lines, parsed as the app parses them."""
    for line in lines:
        value = cookie_parser(line).get(name)
        if value is not None:
            return value
    return None


def _matches(header: str | None, tag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison, `*` matches any current representation."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(c.strip().removeprefix("W/") == tag for c in header.split(","))
