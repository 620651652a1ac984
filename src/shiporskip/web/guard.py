"""Bad input answered before it does harm: a NUL in the address, a huge invalid value.

Addresses that can name nothing: a NUL character in the path or in the query string.
No slug, token, week or search term holds a NUL, and PostgreSQL text cannot hold one at
all (the query raises), so such a request is answered here, before any middleware or route
reads the database: 404 for a path, 400 for a query string, as the app's own error page.
A parameter or body that fails validation is answered 422 quoting only an excerpt of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

ErrorHandler = Callable[[Request, HTTPException], Awaitable[Response]]

PATH_REFUSAL = "this address holds a NUL character (%00), so no page has it; check the link"
QUERY_REFUSAL = (
    "the query string holds a NUL character (%00), which no parameter accepts; remove it"
)


def nul_refusal(scope: Scope) -> HTTPException | None:
    """The answer to a request whose path or query string holds a NUL, else None."""
    if "\x00" in scope.get("path", ""):
        return HTTPException(404, PATH_REFUSAL)
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return HTTPException(400, QUERY_REFUSAL)
    return None


class RefuseNul:
    """ASGI middleware, outermost: refuse a NUL in the address with one sentence."""

    def __init__(self, app: ASGIApp, handler: ErrorHandler) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = nul_refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        response = await self.handler(Request(scope, receive), refusal)
        await response(scope, receive, send)


EXCERPT = 80


def excerpt(value: object, width: int = EXCERPT) -> object:
    """A value as an error may quote it: text and long reprs cut to `width` characters."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[:width] + "…"


async def bounded_validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 for a parameter or body that fails validation, quoting at most an
    excerpt of the input (a 5 MB field must not make a 5 MB answer). Like every other
    refusal it says what is wrong in `error`; FastAPI's `detail` list follows."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', '')}"
        for error in errors
    )
    sentence = f"the request is not valid ({excerpt(problems, 300)}); fix it and send it again"
    detail = []
    for error in errors:
        shown = {k: v for k, v in error.items() if k not in ("input", "ctx", "url")}
        if "input" in error:
            shown["input"] = excerpt(error["input"])
        if "ctx" in error:
            shown["ctx"] = {k: excerpt(v) for k, v in error["ctx"].items()}
        detail.append(shown)
    return JSONResponse({"error": sentence, "detail": jsonable_encoder(detail)}, status_code=422)
