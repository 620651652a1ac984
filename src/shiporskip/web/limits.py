"""Request bodies bounded while they arrive: no route reads more than its limit.

One ASGI middleware counts the bytes of every request body before any route sees them. A
Content-Length over the limit is answered 413 at once, without reading the body or running
the route; a chunked body is counted as it streams and answered 413 as soon as it passes
the limit, so nothing past the limit is ever buffered. 413 answers close the connection,
so the server does not read the rest of the body either.

The limit is the `max_body_kb` setting, or less where a route declares less with FastAPI's
own `max_body_size=` (forms of a few fields: sign-in, newsletter, votes). The middleware
answers before FastAPI's per-route check would, with the app's error page or JSON error.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shiporskip.web.guard import ErrorHandler

KB = 1024
# A form of a few short fields (an address, a CSRF token, a choice) fits with room to spare.
SMALL_FORM = 4 * KB


def _size(limit: int) -> str:
    return f"{limit // KB} KB" if limit % KB == 0 else f"{limit} bytes"


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        413,
        f"the request body is larger than {_size(limit)}, the most this address accepts; "
        "send a shorter one",
        headers={"Connection": "close"},
    )


class BodyLimit:
    """ASGI middleware: every request body at most the route's limit, counted as it arrives."""

    def __init__(
        self, app: ASGIApp, routes: Sequence[BaseRoute], ceiling: int, handler: ErrorHandler
    ) -> None:
        self.app = app
        self.ceiling = ceiling
        self.handler = handler
        # Built with the middleware stack, at the first request: every route is included.
        self.smaller = [
            (route, route.max_body_size)
            for route in iter_route_contexts(routes)
            if isinstance(getattr(route, "max_body_size", None), int)
            and route.max_body_size < ceiling
        ]

    def limit_for(self, scope: Scope) -> int:
        """The ceiling, or the matching route's `max_body_size` when that is smaller."""
        for route, limit in self.smaller:
            if route.matches(scope)[0] is Match.FULL:
                return int(limit)
        return self.ceiling

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        limit = self.limit_for(scope)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except HTTPException as exc:
            # Routes answer this through the app's handler; a body read outside any route
            # (by a middleware) reaches here instead.
            if exc.status_code != 413 or started:
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        scope.setdefault("state", {})
        response = await self.handler(Request(scope, receive), too_large(limit))
        await response(scope, receive, send)
