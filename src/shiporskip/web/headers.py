"""Security headers on every response, and redirects that never name the request's Host.

One plain-ASGI middleware, outside the page cache, so a page served from memory, a 304 and
a HEAD carry the same headers as a freshly rendered page, and the cache keeps and tags
pages without them (they are the same for every answer, so they cannot change a tag).

- `Content-Security-Policy` (`policy()`): scripts, styles, images, fonts and fetches from
  this server only. No inline script runs: the one script of the site and Swagger UI's
  start-up are files under /static. A response that chose a whole policy of its own keeps
  it (`completed()`): the embed widget and the badge, which other sites may frame, and the
  newsletter issue page, whose mail HTML has style attributes.
- `X-Frame-Options: DENY` with `frame-ancestors 'none'`, except under `FRAMED` prefixes.
- `X-Content-Type-Options: nosniff` and `Referrer-Policy` on every response.
- `Strict-Transport-Security` only when `base_url` is https: on a plain-http site it would
  do nothing, and on localhost it would pin the browser to https for a year.

Starlette's trailing-slash redirect (`/tools/` to `/tools`) builds an absolute Location
from the request's Host header, so a forged `Host: evil.example` would get
`Location: http://evil.example/tools` (cache poisoning, and a plain-http downgrade behind a
TLS proxy). A Location on the request's own host is made relative here, as every redirect
the routes write already is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages other sites may frame; their routes set their own policy (`web/embeds.py`).
FRAMED = ("/embed/", "/badge/")
REFERRER_POLICY = "strict-origin-when-cross-origin"
HSTS = "max-age=31536000"


def policy(*, framed: bool = False, style_attributes: bool = False) -> str:
    """The site's Content-Security-Policy. `style_attributes` allows `style="..."` (and
    nothing else inline) for a page that shows mail HTML."""
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
    if style_attributes:
        directives.append("style-src-attr 'unsafe-inline'")
    if not framed:
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


PAGE_POLICY = policy()
FRAMED_POLICY = policy(framed=True)


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response; Host-free redirects."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.hsts = urlsplit(base_url).scheme == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message["headers"]))
                self._add(scope, headers)
                message = {**message, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, sender)

    def _add(self, scope: Scope, headers: MutableHeaders) -> None:
        secure(scope, headers, hsts=self.hsts)


def secure(scope: Scope, headers: MutableHeaders, *, hsts: bool) -> None:
    """Add the headers above to one response's headers (also used by the 500 answer, which
    Starlette sends from outside every middleware)."""
    framed = str(scope["path"]).startswith(FRAMED)
    site = FRAMED_POLICY if framed else PAGE_POLICY
    headers["content-security-policy"] = completed(headers.get("content-security-policy"), site)
    if "frame-ancestors 'none'" in headers["content-security-policy"]:
        headers.setdefault("x-frame-options", "DENY")
    headers.setdefault("x-content-type-options", "nosniff")
    headers.setdefault("referrer-policy", REFERRER_POLICY)
    if hsts:
        headers.setdefault("strict-transport-security", HSTS)
    location = headers.get("location")
    if location is not None:
        headers["location"] = own_relative(location, _host(scope))


def completed(own: str | None, site: str) -> str:
    """The policy a response goes out with. A route's own policy that sets `default-src` is
    kept whole (the embed widget's, the badge's); one that names only some directives (the
    admin area's `frame-ancestors`) gets the site's policy for the others."""
    if not own:
        return site
    named = {part.split()[0].lower() for part in own.split(";") if part.strip()}
    if "default-src" in named:
        return own
    extra = [d for d in site.split("; ") if d.split()[0] not in named]
    return "; ".join([own.strip().rstrip(";"), *extra])


def own_relative(location: str, host: str | None) -> str:
    """`location` as a path when it names the request's own host, else unchanged."""
    parts = urlsplit(location)
    if not parts.netloc or host is None or parts.netloc.lower() != host.lower():
        return location
    path = "/" + parts.path.lstrip("/")  # never `//x`, which a browser reads as a host
    return (
        path
        + (f"?{parts.query}" if parts.query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def _host(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"host":
            return bytes(value).decode("latin-1")
    return None
