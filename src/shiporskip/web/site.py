"""What every page shares: templates, page meta (title, canonical, OpenGraph), rendering."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from sqlalchemy.engine import Connection
from starlette.datastructures import MutableHeaders

from shiporskip import __version__
from shiporskip.domain.text import shown
from shiporskip.errors import NotFoundError
from shiporskip.runtime import Runtime
from shiporskip.storage.page_versions import PageScope
from shiporskip.storage.votes import votes_of
from shiporskip.web.identity import NEW_VOTER_STATE, csrf_token, request_voter
from shiporskip.web.shared import CHOICE_TEMPLATE, Marks, SharedPage, Visitor

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
        self.marks = Marks()
        env = self.templates.env
        env.globals["site_name"] = SITE_NAME
        env.globals["version"] = __version__
        env.globals["base_url"] = runtime.settings.base_url.rstrip("/")
        env.globals["newsletter_form_token"] = lambda: self.marks.newsletter
        # Root-relative, never built from the request's Host header: a shared page is kept
        # and served to everyone, so nothing a requester sends may end up in it.
        env.globals["static_url"] = lambda path: f"/static/{path}"
        env.filters["pct"] = _pct
        # Every value a template prints, maker text from rows stored before input was
        # cleaned included, loses control, bidi-override and zero-width characters.
        env.finalize = shown
        choice = env.get_template(CHOICE_TEMPLATE)
        self.choices: dict[str | None, bytes] = {
            mine: choice.render(my_vote=mine).encode() for mine in (None, "ship", "skip")
        }
        # Set by `web/newsletter.py`: a fresh signed token for the subscribe form.
        self.newsletter_token: Callable[[], str] = lambda: ""
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

        `shared` declares that the page shows every visitor the same thing apart from the
        placeholders of `web/shared.py`, so the cache may keep it and serve it to anyone.
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
        slot = request.scope.get(SHARED_SLOT)
        kept = shared and status == 200 and slot is not None
        parsed = SharedPage.parse(
            self.marks,
            bytes(rendered.body),
            status,
            list(rendered.raw_headers),
            shows_votes,
            kept=kept,
        )
        if kept and slot is not None:
            slot.append(parsed)  # the cache stores it and answers for this visitor
            return Response(status_code=200)
        voter = request_voter(request) if parsed.needs_voter else None
        new = bool(request.scope.get("state", {}).get(NEW_VOTER_STATE))
        body = parsed.fill(self.visitor(parsed, voter, new), self.choices)
        # The filled body differs in length from the rendered one: the response takes the
        # rendered headers without their Content-Length and computes its own from `body`.
        return Response(body, status_code=status, headers=MutableHeaders(raw=list(parsed.headers)))

    def visitor(
        self, page: SharedPage, voter: str | None, new: bool, conn: Connection | None = None
    ) -> Visitor:
        """The values `page` needs for this visitor (one indexed read for their votes)."""
        votes: dict[str, str] = {}
        if voter and not new and page.slugs:
            if conn is None:
                with self.runtime.engine.connect() as own:
                    votes = votes_of(own, voter, page.slugs)
            else:
                votes = votes_of(conn, voter, page.slugs)
        return Visitor(
            voter=voter,
            new=new,
            votes=votes,
            csrf=csrf_token(self.runtime, voter) if voter else "",
            newsletter=self.newsletter_token() if page.has_tokens else "",
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
