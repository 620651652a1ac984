"""What every page shares: templates, page meta (title, canonical, OpenGraph), rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.datastructures import MutableHeaders

from shiporskip import __version__
from shiporskip.domain.text import shown
from shiporskip.errors import NotFoundError
from shiporskip.runtime import Runtime
from shiporskip.storage.page_versions import PageScope
from shiporskip.web.shared import SharedPage, cache_control

HERE = Path(__file__).parent
SITE_NAME = "shiporskip"
# The ASGI scope key under which `web/caching.py` collects a shared page to cache.
SHARED_SLOT = "shiporskip.shared_page"
# The ASGI scope key under which a shared page declares the tools it shows (`PageScope`).
SCOPE_SLOT = "shiporskip.page_scope"
# Request state set by `web/caching.py` when it answers a HEAD by running the GET route.
HEAD_STATE = "head"


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
        # Templates are compiled once per process: no stat of every template file (a page
        # includes dozens) on each render to see whether it changed on disk.
        env.auto_reload = False
        env.globals["site_name"] = SITE_NAME
        env.globals["version"] = __version__
        env.globals["base_url"] = runtime.settings.base_url.rstrip("/")
        # Root-relative, never built from the request's Host header: a shared page is kept
        # and served to everyone, so nothing a requester sends may end up in it.
        env.globals["static_url"] = lambda path: f"/static/{path}"
        env.filters["pct"] = _pct
        # Every value a template prints, maker text from rows stored before input was
        # cleaned included, loses control, bidi-override and zero-width characters.
        env.finalize = shown
        # The app's `web.caching.PageCache`, once the app has built its middleware.
        self.page_cache: Any = None

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
        shared: bool = False,
        shows_votes: bool = True,
        scope: PageScope | None = None,
    ) -> Response:
        """Render a page; `extra` holds parts kept out of the JSON (vote boxes).

        `shared` declares that the page is the same bytes for every visitor (nothing in it
        comes from who asks: `web/shared.py`), so any cache may keep it and serve it to anyone.
        `shows_votes=False` declares that it shows no community vote counts either (a test
        holds every such page to it), so votes leave it current. `scope` declares the tools
        (and categories' panel rankings) a shared page shows, so writes to other tools
        leave it current; without it, any write to the content makes it stale.
        """
        if scope is not None:
            request.scope[SCOPE_SLOT] = scope
        context = {"page": page, "meta": meta, **(extra or {})}
        rendered = self.templates.TemplateResponse(
            request, template, context, status_code=status, headers=headers
        )
        if not shared or status != 200:
            return rendered
        raw = list(rendered.raw_headers)
        if not any(k == b"cache-control" for k, _ in raw):
            raw.append((b"cache-control", cache_control(self.runtime.settings).encode()))
        kept = SharedPage.of(bytes(rendered.body), status, raw, shows_votes)
        slot = request.scope.get(SHARED_SLOT)
        if slot is not None:
            slot.append(kept)  # the cache keeps it and answers with it
            return Response(status_code=200)
        return Response(
            kept.body, status_code=status, headers=MutableHeaders(raw=list(kept.headers))
        )

    def absolute(self, path: str) -> str:
        return self.runtime.settings.base_url.rstrip("/") + path


def site(request: Request) -> Site:
    """FastAPI dependency: the Site of this app."""
    return request.app.state.site  # type: ignore[no-any-return]


SiteDep = Annotated[Site, Depends(site)]


def is_head(request: Request) -> bool:
    """This GET runs to answer a HEAD: it must not act (count, use a one-time link)."""
    return bool(request.scope.get("state", {}).get(HEAD_STATE))


def runtime_of(request: Request) -> Runtime:
    return request.app.state.site.runtime  # type: ignore[no-any-return]


def not_found(exc: NotFoundError) -> HTTPException:
    return HTTPException(404, str(exc))


def _pct(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}%"


class Page(BaseModel):
    """Base of every page context: what the JSON API returns for that page."""
