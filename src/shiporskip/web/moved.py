"""Old slugs of renamed tools: every tool URL that would be a 404 redirects to the new slug.

Badges embedded on other sites and links out in the world keep a tool's slug forever, so a
rename (`tools edit --slug`, the admin edit) must not break them. Rather than each route
checking, this middleware looks at 404s only: when the route that answered takes a tool
slug (`slug`, or the `pair` of a comparison) and that slug is one a tool was renamed away
from, the 404 becomes a 301 to the same route with the current slug, query string kept. A
tool that now owns the slug answers with its page and never reaches this.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shiporskip.runtime import Runtime

SEPARATOR = "-vs-"
# Category pages take a `slug` too, but it names a category, not a tool.
NOT_TOOL_ROUTES = ("/categories/", "/api/v1/categories/")
# Long enough to spare repeat requests, short enough that a new tool taking the old slug
# is seen soon by browsers that kept the redirect.
CACHE_CONTROL = "public, max-age=3600"


def moved_path(runtime: Runtime, template: str, params: dict[str, Any]) -> str | None:
    """The route's path with each renamed tool slug replaced, or None when none was renamed."""
    if template.startswith(NOT_TOOL_ROUTES):
        return None
    values = {k: str(v) for k, v in params.items()}
    changed = False
    if "slug" in values:
        current = runtime.catalog.moved(values["slug"])
        if current is not None:
            values["slug"], changed = current, True
    if "pair" in values:
        parts = values["pair"].split(SEPARATOR)
        for i, part in enumerate(parts):
            current = runtime.catalog.moved(part) if part else None
            if current is not None:
                parts[i], changed = current, True
        values["pair"] = SEPARATOR.join(parts)
    if not changed:
        return None
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


class MovedSlugs:
    """ASGI middleware: a 404 for a renamed tool's old slug becomes a 301 to its new one."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        redirected = False

        async def send_or_redirect(message: Message) -> None:
            nonlocal redirected
            if redirected:
                return  # the 404's body, replaced by the redirect
            if message["type"] == "http.response.start" and message["status"] == 404:
                location = await run_in_threadpool(self._location, scope)
                if location is not None:
                    redirected = True
                    moved = RedirectResponse(
                        location, status_code=301, headers={"cache-control": CACHE_CONTROL}
                    )
                    await moved(scope, receive, send)
                    return
            await send(message)

        await self.app(scope, receive, send_or_redirect)

    def _location(self, scope: Scope) -> str | None:
        # The router records the route it matched and its parameters in the scope.
        route = scope.get("route")
        template = getattr(route, "path_format", None)
        params = scope.get("path_params") or {}
        if not isinstance(template, str) or not ({"slug", "pair"} & set(params)):
            return None
        path = moved_path(self.runtime, template, params)
        if path is None:
            return None
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        root = str(scope.get("root_path", ""))
        return root + path + (f"?{query}" if query else "")
