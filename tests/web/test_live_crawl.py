"""Every GET route through the real server (uvicorn), on SQLite and on PostgreSQL.

The in-process client hid pages that arrived empty through uvicorn (commit ec85ea0). Here
`shiporskip serve` runs once per database with the sample content, and every GET route in
the app's route table is fetched at sample addresses: real slugs, a compare pair, a critic,
a category, a newsletter week, a 404 per family, error pages and query variants. Each
answer must have the expected status and content type, a body as long as its
Content-Length, and parse (HTML with html5lib in strict mode, JSON, XML); a HEAD must answer
the same status and type with no body. A route missing from `CRAWL` fails the coverage
test, so a new route is crawled from the day it is added. Every answer (GET, HEAD, 304)
carries the security headers of `web/headers.py`. Every asset an HTML page loads
(scripts, stylesheets, icons, images) is local and loads too: /api/docs included.
"""

from __future__ import annotations

import contextlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import html5lib
import httpx
import pytest
from fastapi.routing import iter_route_contexts

from shiporskip.newsletter.digest import build_digest
from shiporskip.newsletter.issues import IssueStore
from shiporskip.newsletter.render import render_issue
from shiporskip.newsletter.subscribers import SubscriberStore
from shiporskip.newsletter.tokens import confirm_token, signer_for, unsubscribe_token
from shiporskip.newsletter.weeks import week_of
from shiporskip.runtime import open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from shiporskip.storage.submissions import SubmissionStore
from shiporskip.web.app import create_app
from shiporskip.web.identity import signer
from tests.factories import make_tool
from tests.live import (
    LOG_FAILURES,
    LiveServer,
    assert_security_headers,
    assert_whole,
    seeded_site,
)

ADMIN_TOKEN = "crawl-admin-token-0123456789"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

# The content types the crawl knows, and how each body is checked.
TYPES = {
    "html": "text/html",
    "json": "application/json",
    "atom": "application/atom+xml",
    "xml": "application/xml",
    "svg": "image/svg+xml",
    "text": "text/plain",
    "css": "text/css",
    "js": "text/javascript",
}


@dataclass(frozen=True)
class Visit:
    """One address to fetch and what must come back. `{name}` parts of the address are
    filled from the server's seeded tokens; `who` is anon, admin (signed-in browser
    session) or bearer (the admin API token)."""

    url: str
    status: int = 200
    kind: str | None = "html"  # a key of TYPES, or None for a redirect / empty answer
    who: str = "anon"
    location: str | None = None  # where a redirect must point

    def __str__(self) -> str:
        return f"{self.who}:{self.url}" if self.who != "anon" else self.url


def html(url: str, status: int = 200, who: str = "anon") -> Visit:
    return Visit(url, status, "html", who)


def api(url: str, status: int = 200, who: str = "anon") -> Visit:
    return Visit(url, status, "json", who)


def redirect(url: str, location: str, status: int = 303, who: str = "anon") -> Visit:
    return Visit(url, status, None, who, location)


# Every GET route of the app (path template as in the route table) and the addresses the
# crawl fetches for it. Sample slugs: cursor, aider, claude-code; critic builder; category
# coding-agents. `{week}`, `{submission}`, `{confirm}` and `{unsubscribe}` are seeded.
CRAWL: dict[str, list[Visit]] = {
    "/": [html("/"), html("/?utm_source=crawl")],
    "/healthz": [api("/healthz")],
    "/favicon.ico": [redirect("/favicon.ico", "/static/favicon.svg", 301)],
    "/robots.txt": [Visit("/robots.txt", kind="text")],
    "/sitemap.xml": [Visit("/sitemap.xml", kind="xml")],
    "/sitemaps/{name}": [
        Visit("/sitemaps/1.xml", kind="xml"),
        Visit("/sitemaps/2.xml", kind="xml"),
        html("/sitemaps/999.xml", 404),
    ],
    "/feed.xml": [Visit("/feed.xml", kind="atom")],
    "/openapi.json": [api("/openapi.json")],
    "/api/docs": [html("/api/docs")],
    "/static": [
        Visit("/static/site.css", kind="css"),
        Visit("/static/site.js", kind="js"),
        Visit("/static/favicon.svg", kind="svg"),
        html("/static/no-such-file.css", 404),
    ],
    "/static/swagger-ui": [
        Visit("/static/swagger-ui/swagger-ui-bundle.js", kind="js"),
        Visit("/static/swagger-ui/swagger-ui.css", kind="css"),
        html("/static/swagger-ui/no-such-file.js", 404),
    ],
    "/api/v1/home": [api("/api/v1/home")],
    "/tools": [
        html("/tools"),
        html("/tools?sort=name&limit=5"),
        html("/tools?category=coding-agents"),
        html("/tools?limit=abc", 422),
        html("/tools?sort=nonsense", 422),
    ],
    "/api/v1/tools": [
        api("/api/v1/tools"),
        api("/api/v1/tools?sort=name&limit=5"),
        api("/api/v1/tools?limit=abc", 422),
    ],
    "/tools/{slug}": [
        html("/tools/cursor"),
        html("/tools/aider"),
        html("/tools/no-such-tool", 404),
    ],
    "/api/v1/tools/{slug}": [api("/api/v1/tools/cursor"), api("/api/v1/tools/no-such-tool", 404)],
    "/api/v1/tools/{slug}/history": [
        api("/api/v1/tools/cursor/history"),
        api("/api/v1/tools/no-such-tool/history", 404),
    ],
    "/compare/{pair}": [
        html("/compare/aider-vs-cursor"),
        html("/compare/aider-vs-cursor?usage=500+requests"),
        html("/compare/aider-vs-no-such-tool", 404),
        html("/compare/not-a-pair", 404),
    ],
    "/api/v1/compare/{pair}": [
        api("/api/v1/compare/aider-vs-cursor"),
        api("/api/v1/compare/aider-vs-no-such-tool", 404),
    ],
    "/critics": [html("/critics")],
    "/critics/{critic_id}": [html("/critics/builder"), html("/critics/nobody", 404)],
    "/api/v1/critics": [api("/api/v1/critics")],
    "/api/v1/critics/{critic_id}": [api("/api/v1/critics/builder"), api("/api/v1/critics/x", 404)],
    "/categories": [html("/categories")],
    "/categories/{slug}": [
        html("/categories/coding-agents"),
        html("/categories/coding-agents?page=2"),
        html("/categories/no-such-category", 404),
    ],
    "/api/v1/categories": [api("/api/v1/categories")],
    "/api/v1/categories/{slug}": [
        api("/api/v1/categories/coding-agents"),
        api("/api/v1/categories/no-such-category", 404),
    ],
    "/search": [html("/search"), html("/search?q=cursor"), html("/search?q=%3Cscript%3E")],
    "/api/v1/search": [api("/api/v1/search?q=cursor"), api("/api/v1/search")],
    "/methodology": [html("/methodology")],
    "/predictions": [
        html("/predictions"),
        html("/predictions?status=open&critic=futurist"),
        html("/predictions?status=resolved&after=3"),
        html("/predictions?status=nonsense", 422),
        html("/predictions?tool=no-such-tool", 422),
    ],
    "/api/v1/predictions": [
        api("/api/v1/predictions"),
        api("/api/v1/predictions?status=open&tool=cursor&limit=2"),
        api("/api/v1/predictions?after=abc", 422),
        api("/api/v1/predictions?critic=nobody", 422),
    ],
    "/api/v1/methodology": [api("/api/v1/methodology")],
    "/badge/{slug}.svg": [
        Visit("/badge/cursor.svg", kind="svg"),
        Visit("/badge/no-such-tool.svg", 404, kind="svg"),
    ],
    "/embed/{slug}": [html("/embed/cursor"), html("/embed/no-such-tool", 404)],
    "/go/{slug}": [
        redirect("/go/cursor?ref=badge", "/tools/cursor"),
        html("/go/no-such-tool?ref=badge", 404),
    ],
    "/api/v1/tools/{slug}/embeds": [
        api("/api/v1/tools/cursor/embeds"),
        api("/api/v1/tools/no-such-tool/embeds", 404),
    ],
    "/api/v1/session": [api("/api/v1/session")],
    "/api/v1/me": [
        api("/api/v1/me"),
        api("/api/v1/me?tools=cursor,aider"),
        api("/api/v1/me?tools=" + ",".join(f"t{i}" for i in range(51)), 422),
    ],
    "/newsletter/confirm": [
        html("/newsletter/confirm?token={confirm}"),
        html("/newsletter/confirm?token=forged", 400),
    ],
    "/newsletter/unsubscribe": [
        html("/newsletter/unsubscribe?token={unsubscribe}"),
        html("/newsletter/unsubscribe?token=forged", 400),
    ],
    "/newsletter/archive": [html("/newsletter/archive")],
    "/newsletter/archive/{week}": [
        html("/newsletter/archive/{week}"),
        html("/newsletter/archive/2001-W01", 404),
        html("/newsletter/archive/not-a-week", 404),
    ],
    "/api/v1/newsletter/archive": [api("/api/v1/newsletter/archive")],
    "/api/v1/newsletter/archive/{week}": [
        api("/api/v1/newsletter/archive/{week}"),
        api("/api/v1/newsletter/archive/2001-W01", 404),
    ],
    "/signin": [html("/signin")],
    "/signin/verify": [html("/signin/verify?token=forged", 400), html("/signin/verify", 400)],
    "/submit": [html("/submit")],
    "/submit/status/{token}": [
        html("/submit/status/{submission}"),
        html("/submit/status/{submission}?new=1"),
        html("/submit/status/forged", 404),
    ],
    "/api/v1/submissions/{token}": [
        api("/api/v1/submissions/{submission}"),
        api("/api/v1/submissions/forged", 404),
    ],
    "/admin/login": [html("/admin/login"), html("/admin/login?next=/admin/votes")],
    "/admin": [html("/admin", 401), html("/admin", who="admin")],
    "/admin/submissions": [
        html("/admin/submissions", who="admin"),
        html("/admin/submissions?status=approved", who="admin"),
    ],
    "/admin/votes": [html("/admin/votes", who="admin")],
    "/admin/jobs": [html("/admin/jobs", who="admin")],
    "/admin/tools": [html("/admin/tools", who="admin")],
    "/admin/tools/{slug}/edit": [
        html("/admin/tools/cursor/edit", who="admin"),
        html("/admin/tools/no-such-tool/edit", 404, who="admin"),
    ],
    "/admin/tools/{slug}/reviews": [
        html("/admin/tools/cursor/reviews", who="admin"),
        html("/admin/tools/no-such-tool/reviews", 404, who="admin"),
    ],
    "/api/v1/admin/submissions": [
        api("/api/v1/admin/submissions", 401),
        api("/api/v1/admin/submissions", who="bearer"),
    ],
    "/api/v1/admin/votes/events": [
        api("/api/v1/admin/votes/events?limit=5", who="bearer"),
        api("/api/v1/admin/votes/events?limit=abc", 422, who="bearer"),
    ],
    "/api/v1/admin/jobs": [api("/api/v1/admin/jobs", who="bearer")],
    "/api/v1/admin/tools/{slug}/reviews": [
        api("/api/v1/admin/tools/cursor/reviews", who="bearer"),
        api("/api/v1/admin/tools/no-such-tool/reviews", 404, who="bearer"),
    ],
}

# Addresses no GET route answers: the error pages of each family.
ERRORS = [
    html("/no-such-page", 404),
    html("/cursr", 404),  # suggests cursor
    api("/api/v1/no-such-thing", 404),
    html("/newsletter", 405),  # POST only
    api("/api/v1/newsletter", 405),
    html("/tools/cursor/vote", 405),
]

VISITS = [visit for visits in CRAWL.values() for visit in visits] + ERRORS


def get_routes() -> set[str]:
    """Path templates of every route that answers GET, and of every mount."""
    runtime = open_runtime(load_settings())
    try:
        app = create_app(runtime)
    finally:
        runtime.close()
    found = set()
    for route in iter_route_contexts(app.routes):
        methods = route.methods
        if route.path and (methods is None or "GET" in methods):
            found.add(route.path)
    return found


def test_the_crawl_covers_every_get_route() -> None:
    routes = get_routes()
    missing = sorted(routes - CRAWL.keys())
    assert not missing, f"GET routes the live crawl does not visit; add them to CRAWL: {missing}"
    stale = sorted(CRAWL.keys() - routes)
    assert not stale, f"CRAWL names routes the app no longer has: {stale}"


# -- the server ----------------------------------------------------------------------------


@dataclass
class Live:
    server: LiveServer
    anon: httpx.Client
    admin: httpx.Client
    bearer: httpx.Client
    seeds: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        return {"anon": self.anon, "admin": self.admin, "bearer": self.bearer}[who]

    def log_size(self) -> int:
        return self.server.log_path.stat().st_size

    def assert_logged_nothing_since(self, offset: int, what: str) -> None:
        """Name the address whose request made the server log a traceback (the check on
        the way out would only say that some request did)."""
        with self.server.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        found = [marker for marker in LOG_FAILURES if marker in text]
        assert not found, f"{what}: the server logged {found}:\n{text[-4000:]}"


def seed(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """Sample content plus what only a visitor's actions make: a sent digest, a subscriber's
    links, a submission's status link. Written before the server starts; the names it
    returns fill path parameters (here and in the schema fuzz)."""
    overrides = {"data_dir": str(data_dir)}
    if database_url:
        overrides["database_url"] = database_url
    rt = open_runtime(load_settings(overrides=overrides))
    try:
        load_samples_if_empty(rt)
        digest = build_digest(rt, week_of(NOW), NOW)
        issue = IssueStore(rt.engine).create(digest, render_issue(digest, "http://x"), NOW)
        subscriber = SubscriberStore(rt.engine).subscribe("crawl@example.com", NOW)
        tokens = signer_for(rt.settings)
        submission = SubmissionStore(rt.engine, rt.catalog).add(
            make_tool("Crawl Candidate"), ip="198.51.100.7", per_hour=100
        )
        status_token = signer(rt).sign("submission", submission.id)
        return {
            "week": issue.week,
            "confirm": confirm_token(tokens, subscriber.subscriber_id),
            "unsubscribe": unsubscribe_token(tokens, subscriber.subscriber_id),
            "submission": status_token,
            # Named as the API's path parameters: the schema fuzz's examples.
            "slug": "cursor",
            "pair": "aider-vs-cursor",
            "critic_id": "builder",
            "token": status_token,
            "submission_id": str(submission.id),
        }
    finally:
        rt.close()


def admin_session(client: httpx.Client) -> None:
    form = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    data = {"csrf": csrf.group(1), "token": ADMIN_TOKEN, "next": "/admin"}
    assert client.post("/admin/login", data=data).status_code == 303


@contextlib.contextmanager
def signed_in_clients(
    server: LiveServer,
) -> Iterator[tuple[httpx.Client, httpx.Client, httpx.Client]]:
    """A visitor, a moderator signed in through the admin form, and a script with the token."""
    clients = [httpx.Client(base_url=server.base_url, timeout=60) for _ in range(3)]
    anon, admin, bearer = clients
    try:
        admin_session(admin)
        bearer.headers["authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield anon, admin, bearer
    finally:
        for client in clients:
            client.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp(f"crawl-{request.param}")
    settings = {"admin_token": ADMIN_TOKEN}
    with (
        seeded_site(request.param, data_dir, settings, seed) as (server, seeds),
        signed_in_clients(server) as (anon, admin, bearer),
    ):
        yield Live(server, anon, admin, bearer, seeds)


# -- the checks ----------------------------------------------------------------------------


def parse_html(url: str, body: bytes) -> ET.Element:
    """The document as a tree; html5lib in strict mode raises on any parse error."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        tree: ET.Element = parser.parse(body)
    except html5lib.html5parser.ParseError as exc:
        pytest.fail(f"{url}: the HTML does not parse: {exc}")
    assert body.rstrip().endswith(b"</html>"), f"{url}: the HTML ends before </html>"
    return tree


def check_body(visit: Visit, response: httpx.Response) -> ET.Element | None:
    """The body is whole and of its declared type; an HTML page's tree, for its assets."""
    assert_whole(response)
    if visit.kind is None:
        return None
    declared = response.headers.get("content-type", "")
    assert declared.split(";")[0].strip() == TYPES[visit.kind], (
        f"{visit}: Content-Type {declared!r}, expected {TYPES[visit.kind]}"
    )
    body = response.content
    assert body, f"{visit}: empty body"
    if visit.kind == "html":
        return parse_html(str(visit), body)
    if visit.kind == "json":
        json.loads(body)
    elif visit.kind in ("xml", "atom", "svg"):
        ET.fromstring(body)
    return None


def assets(tree: ET.Element) -> set[str]:
    """What the page makes the browser load: scripts, stylesheets, icons, images, frames."""
    found = set()
    for element in tree.iter():
        if element.tag in ("script", "img", "iframe") and element.get("src"):
            found.add(element.get("src", ""))
        if element.tag == "link" and element.get("rel") in ("stylesheet", "icon", "shortcut icon"):
            found.add(element.get("href", ""))
    return found


def inline_code(tree: ET.Element) -> list[str]:
    """What the Content-Security-Policy refuses to run: inline scripts, on* handlers and
    (outside the newsletter issue's mail HTML, see `web/headers.py`) style attributes."""
    found = []
    for element in tree.iter():
        if element.tag == "script" and not element.get("src"):
            found.append("an inline <script>")
        if element.tag == "style":
            found.append("a <style> element")
        found += [f"{name}= on <{element.tag}>" for name in element.attrib if name.startswith("on")]
        if element.get("style") is not None:
            found.append(f"style= on <{element.tag}>")
    return found


LOADED: dict[str, set[str]] = {}


@pytest.mark.parametrize("visit", VISITS, ids=str)
def test_every_get_route_answers_whole_through_the_real_server(live: Live, visit: Visit) -> None:
    url = visit.url.format(**live.seeds)
    client = live.client(visit.who)
    logged = live.log_size()
    response = client.get(url)
    live.assert_logged_nothing_since(logged, str(visit))
    assert response.status_code == visit.status, (
        f"{visit}: {response.status_code}, expected {visit.status}\n{response.text[:500]}"
    )
    if visit.location is not None:
        assert response.headers["location"] == visit.location
    tree = check_body(visit, response)
    assert_security_headers(response)

    head = client.head(url)
    live.assert_logged_nothing_since(logged, f"HEAD {visit}")
    assert head.status_code == visit.status, f"HEAD {visit}: {head.status_code}"
    assert head.content == b"", f"HEAD {visit}: a body of {len(head.content)} bytes"
    assert head.headers.get("content-type") == response.headers.get("content-type")
    assert_security_headers(head)

    tag = response.headers.get("etag")
    if tag and visit.status == 200 and "set-cookie" not in response.headers:
        again = client.get(url, headers={"if-none-match": tag})
        assert again.status_code == 304, f"{visit}: revalidating {tag} gave {again.status_code}"
        assert again.content == b"" and "content-length" not in again.headers
        assert_security_headers(again)

    if tree is None:
        return
    issue = visit.url == "/newsletter/archive/{week}"
    inline = [f for f in inline_code(tree) if not (issue and f.startswith("style="))]
    assert not inline, f"{visit}: {inline}"
    seen = LOADED.setdefault(live.server.base_url, set())
    for src in sorted(assets(tree) - seen):
        parts = urlsplit(src)
        assert not parts.scheme and not parts.netloc, f"{visit}: loads {src} from elsewhere"
        asset = live.anon.get(src)
        assert asset.status_code == 200, f"{visit}: {src} answers {asset.status_code}"
        assert_whole(asset)
        assert asset.content, f"{visit}: {src} is empty"
        assert_security_headers(asset)
        seen.add(src)


def links(tree: ET.Element, base_url: str) -> set[str]:
    """The page's links to this site, as paths with their query."""
    found = set()
    for anchor in tree.iter("a"):
        parts = urlsplit(anchor.get("href", ""))
        if parts.scheme not in ("", "http", "https") or not parts.path:
            continue
        if parts.netloc and parts.netloc != urlsplit(base_url).netloc:
            continue
        found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def test_every_link_on_the_public_pages_leads_somewhere(live: Live) -> None:
    """No page links to a 404 or an error: each link of every crawled public page, once."""
    sources: dict[str, str] = {}
    for visit in VISITS:
        if visit.who == "anon" and visit.kind == "html" and visit.status == 200:
            page = live.anon.get(visit.url.format(**live.seeds))
            tree = html5lib.parse(page.content, namespaceHTMLElements=False)
            for target in links(tree, live.server.base_url):
                sources.setdefault(target, str(visit))
    broken = []
    for target, source in sorted(sources.items()):
        status = live.anon.head(target).status_code
        if status >= 400:
            broken.append(f"{target} ({status}), linked from {source}")
    assert len(sources) > 50 and not broken, broken


def test_api_docs_load_only_local_assets(live: Live) -> None:
    """Swagger UI comes from this server: the page works offline."""
    page = live.anon.get("/api/docs")
    found = assets(parse_html("/api/docs", page.content))
    assert "/static/swagger-ui/swagger-ui-bundle.js" in found
    assert "/static/swagger-ui/swagger-ui.css" in found
    for src in found:
        assert src.startswith("/") and not src.startswith("//"), src
        assert live.anon.get(src).status_code == 200, src
    assert "openapi.json" in page.text and live.anon.get("/openapi.json").json()["paths"]
