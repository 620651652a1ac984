"""What every page shares: templates, page meta (title, canonical, OpenGraph), rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from shiporskip import __version__
from shiporskip.errors import NotFoundError
from shiporskip.runtime import Runtime

HERE = Path(__file__).parent
SITE_NAME = "shiporskip"


class Meta(BaseModel):
    """Per-page metadata for <head>: title, description, canonical URL, social cards."""

    title: str
    description: str
    path: str
    og_type: str = "website"
    noindex: bool = False


class Site:
    """The rendering side of the app, built once per app."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.templates = Jinja2Templates(directory=HERE / "templates")
        env = self.templates.env
        env.globals["site_name"] = SITE_NAME
        env.globals["version"] = __version__
        env.globals["base_url"] = runtime.settings.base_url.rstrip("/")
        env.filters["pct"] = _pct

    def render(
        self,
        request: Request,
        template: str,
        page: Any,
        meta: Meta,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Response:
        """Render a page; `extra` holds per-visitor parts (vote buttons) kept out of the JSON."""
        context = {"page": page, "meta": meta, **(extra or {})}
        return self.templates.TemplateResponse(
            request, template, context, status_code=status, headers=headers
        )

    def absolute(self, path: str) -> str:
        return self.runtime.settings.base_url.rstrip("/") + path


def site(request: Request) -> Site:
    """FastAPI dependency: the Site of this app."""
    return request.app.state.site  # type: ignore[no-any-return]


SiteDep = Annotated[Site, Depends(site)]


def runtime_of(request: Request) -> Runtime:
    return request.app.state.site.runtime  # type: ignore[no-any-return]


def not_found(exc: NotFoundError) -> HTTPException:
    return HTTPException(404, str(exc))


def _pct(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}%"


class Page(BaseModel):
    """Base of every page context: what the JSON API returns for that page."""
