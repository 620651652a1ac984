"""The web application factory."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from shiporskip import __version__
from shiporskip.errors import without_cli_hints
from shiporskip.runtime import Runtime
from shiporskip.settings_checks import parse_networks
from shiporskip.web import (
    admin,
    apidocs,
    categories,
    compare,
    critics,
    embeds,
    feeds,
    home,
    methodology,
    newsletter,
    predictions,
    search,
    signin,
    submit,
    tools,
    tools_index,
    votes,
)
from shiporskip.web.caching import PageCache
from shiporskip.web.guard import RefuseNul, bounded_validation_error
from shiporskip.web.headers import SecurityHeaders, secure
from shiporskip.web.limits import KB, BodyLimit
from shiporskip.web.moved import MovedSlugs
from shiporskip.web.proxies import ForwardedClient
from shiporskip.web.site import HERE, Meta, Site

# The answer to a bug: one sentence, no traceback (that goes to the server log). Plain, so it
# cannot fail the way the page that failed did.
SERVER_ERROR = "Something went wrong on our side; it has been logged. Try again in a moment."
SERVER_ERROR_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error · shiporskip'
    '</title><link rel="stylesheet" href="/static/site.css"></head><body><main>'
    f'<h1>Server error</h1><p>{SERVER_ERROR}</p><p><a href="/">Home</a></p></main></body></html>'
)

ROUTERS = (
    home,
    tools,
    tools_index,
    compare,
    critics,
    categories,
    search,
    methodology,
    predictions,
    embeds,
    feeds,
    votes,
    newsletter,
    signin,
    submit,
    admin,
)


def create_app(runtime: Runtime) -> FastAPI:
    """Build the site for a runtime. Tests call this too."""
    app = FastAPI(
        title="shiporskip",
        version=__version__,
        description=(
            "AI tools reviewed by a panel of AI critics: Ship or Skip. Every HTML page's "
            "data is available here from the same context that renders the page."
        ),
        docs_url=None,  # served by `web/apidocs.py`, with its assets from this server
        redoc_url=None,
    )
    site = Site(runtime)
    app.state.site = site
    app.state.runtime = runtime
    apidocs.install(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.add_exception_handler(RequestValidationError, bounded_validation_error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if isinstance(exc.detail, str) and not path.startswith(("/admin", "/api/v1/admin")):
            # Readers get the sentence, not the operator's command-line advice in it.
            exc = StarletteHTTPException(
                exc.status_code, without_cli_hints(exc.detail), exc.headers
            )
        if path.startswith("/api/"):
            return JSONResponse(
                {"error": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        suggestions: list[str] = []
        if exc.status_code == 404 and "\x00" not in path:  # PostgreSQL cannot hold NUL
            last = request.url.path.rstrip("/").rsplit("/", 1)[-1]
            for part in last.split("-vs-"):
                if part and runtime.catalog.find(part) is None:
                    suggestions += runtime.catalog.suggestions(part)
        page = {"status": exc.status_code, "detail": exc.detail, "suggestions": suggestions}
        meta = Meta(
            title=f"{'Not found' if exc.status_code == 404 else 'Error'} · shiporskip",
            description=str(exc.detail),
            path=request.url.path,
            noindex=True,
        )
        headers = dict(exc.headers) if exc.headers else None
        return site.render(
            request, "error.html", page, meta, status=exc.status_code, headers=headers
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette sends this from outside every middleware, then re-raises for the log.
        response: Response
        if request.url.path.startswith("/api/"):
            response = JSONResponse({"error": SERVER_ERROR}, status_code=500)
        else:
            response = HTMLResponse(SERVER_ERROR_PAGE, status_code=500)
        headers = MutableHeaders(raw=response.raw_headers)
        secure(request.scope, headers, hsts=runtime.settings.base_url.startswith("https://"))
        response.raw_headers = headers.raw
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for module in ROUTERS:
        app.include_router(module.router)
    newsletter.install(app)
    # Inside the page cache, which keeps 200s only: a redirect is never kept.
    app.add_middleware(MovedSlugs, runtime=runtime)
    app.add_middleware(PageCache, site=site)
    # Before any route reads a body: each is bounded while it arrives (web/limits.py).
    ceiling = runtime.settings.max_body_kb * KB
    app.add_middleware(BodyLimit, routes=app.routes, ceiling=ceiling, handler=http_error)
    # Before anything reads the database: a NUL in the address names nothing.
    app.add_middleware(RefuseNul, handler=http_error)
    # Outside the cache: pages from memory, 304s and HEADs get the headers too.
    app.add_middleware(SecurityHeaders, base_url=runtime.settings.base_url)
    # Outermost: every layer sees the client a trusted proxy names, or the peer.
    trusted = parse_networks(runtime.settings.trusted_proxies)
    app.add_middleware(ForwardedClient, trusted=trusted)
    return app
