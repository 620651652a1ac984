"""The web application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from shiporskip import __version__
from shiporskip.errors import NotFoundError
from shiporskip.runtime import Runtime
from shiporskip.web import pages

HERE = Path(__file__).parent


def create_app(runtime: Runtime) -> FastAPI:
    """Build the site for a runtime. Tests call this too."""
    app = FastAPI(
        title="shiporskip",
        version=__version__,
        description="AI tools reviewed by a panel of AI critics: Ship or Skip.",
        docs_url="/api/docs",
        redoc_url=None,
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["site_name"] = "shiporskip"
    app.state.runtime = runtime
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        suggestions: list[str] = []
        if exc.status_code == 404 and request.url.path.startswith("/tools/"):
            slug = request.url.path.removeprefix("/tools/").strip("/")
            suggestions = runtime.catalog.suggestions(slug)
        context = {"status": exc.status_code, "detail": exc.detail, "suggestions": suggestions}
        return render(request, "error.html", context, exc.status_code)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> Response:
        return render(request, "home.html", {"page": pages.home_page(runtime)})

    @app.get("/tools/{slug}", response_class=HTMLResponse, include_in_schema=False)
    def tool(request: Request, slug: str) -> Response:
        try:
            page = pages.tool_page(runtime, slug)
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
        return render(request, "tool.html", {"page": page})

    @app.get("/api/v1/tools", response_model=pages.ToolList, tags=["tools"])
    def api_tools(category: str | None = None) -> pages.ToolList:
        """Every tool in the catalog, optionally in one category."""
        home = pages.home_page(runtime, category=category)
        return pages.ToolList(count=home.count, tools=home.tools)

    @app.get("/api/v1/tools/{slug}", response_model=pages.ToolPage, tags=["tools"])
    def api_tool(slug: str) -> pages.ToolPage:
        """One tool page's data: the same context the HTML page renders."""
        try:
            return pages.tool_page(runtime, slug)
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from None

    return app
