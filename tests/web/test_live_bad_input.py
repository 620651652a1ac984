"""Bad input never answers 5xx: every route through the real server, on SQLite and PostgreSQL.

PostgreSQL text cannot hold a NUL character, its integer columns stop at 2^31 - 1 and any
database stops at 2^63 - 1; Python's JSON reader recursed until it crashed on a deeply
nested body. Here every route of the app's route table gets a NUL in each path parameter
and in its query string, every integer parameter gets numbers beyond those ranges, and
every POST route gets, field by field, a valid body with a NUL in that field, plus a deeply
nested JSON body. Each answer must be a 4xx (or a 2xx/3xx when the input is simply
harmless) and the server log must stay free of tracebacks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import iter_route_contexts

from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.web.app import create_app
from tests.factories import tool_data
from tests.live import seeded_site
from tests.web.test_live_crawl import ADMIN_TOKEN, Live, seed, signed_in_clients

NUL = "\x00"
NESTED = "[" * 15000 + "]" * 15000  # 30 KB
HUGE_NUMBERS = (str(2**31), str(2**63), str(10**30))

# A valid value for each path parameter; `{name}` parts come from the seeded tokens.
SAMPLE_PARAMS = {
    "slug": "cursor",
    "pair": "aider-vs-cursor",
    "critic_id": "builder",
    "week": "{week}",
    "token": "{submission}",
    "submission_id": "1",
    "action": "reject",
    "job_id": "1",
    "name": "1.xml",
}
# Mounts answer every path beneath them.
MOUNTS = {"/static": "/static/site.css", "/static/swagger-ui": "/static/swagger-ui/swagger-ui.css"}


# Each POST route: who sends it, how the body is encoded, and a valid body. A form body gets
# the sender's CSRF token as `csrf`; an API body its CSRF header.
@dataclass(frozen=True)
class Post:
    who: str  # anon, admin or bearer
    kind: str  # form or json
    body: dict[str, Any] = field(default_factory=dict)


ENTRY = tool_data("Nul Probe") | {"submitter_email": "maker@example.com"}
FORM_ENTRY = {
    "name": "Nul Probe Form",
    "vendor": "Example Co",
    "homepage": "https://example.com/nul-probe-form",
    "category": "coding-agents",
    "tagline": "Probes forms",
    "description": "A tool used in tests.",
    "entry": "paid",
    "pricing_note": "Billed monthly.",
    "plans": "Pro: 20 per seat / month",
    "email": "maker@example.com",
}
POSTS: dict[str, Post] = {
    "/tools/{slug}/vote": Post("anon", "form", {"vote": "ship", "next": "/tools/cursor"}),
    "/api/v1/tools/{slug}/vote": Post("anon", "json", {"vote": "ship"}),
    "/newsletter": Post("anon", "form", {"email": "reader@example.com"}),
    "/api/v1/newsletter": Post("anon", "json", {"email": "reader@example.com"}),
    "/newsletter/unsubscribe": Post("anon", "form"),
    "/signin": Post("anon", "form", {"email": "reader@example.com"}),
    "/signin/verify": Post("anon", "form", {"token": "forged"}),
    "/submit": Post("anon", "form", FORM_ENTRY),
    "/api/v1/submissions": Post("anon", "json", ENTRY),
    "/admin/login": Post("anon", "form", {"token": ADMIN_TOKEN, "next": "/admin"}),
    "/admin/logout": Post("admin", "form"),
    "/admin/submissions/{submission_id}/{action}": Post("admin", "form", {"reason": "No."}),
    "/admin/votes/void": Post("admin", "form", {"voter": "nobody", "ip": ""}),
    "/admin/jobs/{job_id}/retry": Post("admin", "form"),
    "/admin/tools/{slug}/review": Post("admin", "form"),
    "/admin/tools/{slug}/edit": Post("admin", "form", {"yaml": "name: Cursor\n"}),
    "/api/v1/admin/submissions/{submission_id}/approve": Post("bearer", "json"),
    "/api/v1/admin/submissions/{submission_id}/reject": Post("bearer", "json", {"reason": "No."}),
    "/api/v1/admin/votes/void": Post("bearer", "json", {"voter": "nobody"}),
    "/api/v1/admin/tools/{slug}/review": Post("bearer", "json"),
    "/api/v1/admin/jobs/{job_id}/retry": Post("bearer", "json"),
}
# Routes whose sender must not act for real: the NUL goes in, the valid body is not sent.
NO_VALID_SEND = {"/admin/logout", "/admin/tools/{slug}/review", "/api/v1/admin/tools/{slug}/review"}


@dataclass(frozen=True)
class Route:
    path: str
    methods: frozenset[str]
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    int_params: tuple[str, ...]


def app_routes() -> list[Route]:
    """Every route and mount of the app, with its parameters."""
    runtime = open_runtime(load_settings())
    try:
        app = create_app(runtime)
    finally:
        runtime.close()
    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        params = get_flat_params(dependant) if dependant is not None else []
        in_path = tuple(re.findall(r"{(\w+)}", route.path))
        query = tuple(p.alias for p in params if p.alias not in in_path)
        ints = tuple(p.alias for p in params if p.field_info.annotation is int)
        methods = frozenset(route.methods or {"GET"})
        found.append(Route(route.path, methods, in_path, query, ints))
    return found


ROUTES = app_routes()


def test_every_post_route_has_a_probe() -> None:
    posts = {r.path for r in ROUTES if "POST" in r.methods}
    assert posts == POSTS.keys(), f"add these to POSTS: {sorted(posts - POSTS.keys())}"


def fill(route: Route, **given: str) -> str:
    """The route's path with sample values, `given` ones replacing them."""
    if route.path in MOUNTS:
        return given.get("*", MOUNTS[route.path])
    path = route.path
    for name in route.path_params:
        path = path.replace("{" + name + "}", given.get(name, SAMPLE_PARAMS[name]))
    return path


def addresses() -> list[tuple[str, str, str]]:
    """(method, who, address) for a NUL or a huge number in every parameter."""
    found = []
    for route in ROUTES:
        method = "GET" if "GET" in route.methods else "POST"
        # A POST route missing from POSTS fails the coverage test, not the collection.
        who = POSTS[route.path].who if route.path in POSTS and method == "POST" else "admin"
        if route.path in MOUNTS:
            found.append((method, who, route.path + "/a%00b.css"))
        for name in route.path_params:
            found.append((method, who, fill(route, **{name: "a%00b"})))
            if name in route.int_params:
                found += [(method, who, fill(route, **{name: n})) for n in HUGE_NUMBERS]
        if method == "GET":
            base = fill(route)
            found.append((method, who, f"{base}?x=%00"))
            for name in route.query_params:
                found.append((method, who, f"{base}?{name}=a%00b"))
                if name in route.int_params:
                    found += [(method, who, f"{base}?{name}={n}") for n in HUGE_NUMBERS]
    found.append(("GET", "anon", "/no-such-page%00"))
    found.append(("GET", "anon", "/compare/x%00-vs-y"))
    return found


ADDRESSES = addresses()


@dataclass
class Probe:
    live: Live
    admin_csrf: str
    anon_csrf: str

    def send(self, method: str, who: str, url: str, allowed: int = 0, **kw: Any) -> httpx.Response:
        client = self.live.client(who)
        logged = self.live.log_size()
        response = client.request(method, url.format(**self.live.seeds), **kw)
        what = f"{method} {who}:{url}"
        self.live.assert_logged_nothing_since(logged, what)
        assert response.status_code < 500 or response.status_code == allowed, (
            f"{what}: {response.status_code}\n{response.text[:600]}"
        )
        return response


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def probe(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Probe]:
    data_dir = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    settings = {"admin_token": ADMIN_TOKEN}
    with (
        seeded_site(request.param, data_dir, settings, seed) as (server, seeds),
        signed_in_clients(server) as (anon, admin, bearer),
    ):
        anon_csrf = anon.get("/api/v1/session").json()["csrf_token"]
        anon.headers["x-csrf-token"] = anon_csrf
        # The forms of shared pages are checked by their Origin: these come from the site.
        anon.headers["origin"] = server.base_url
        found = re.search(r'name="csrf" value="([^"]+)"', admin.get("/admin/jobs").text)
        assert found
        yield Probe(Live(server, anon, admin, bearer, seeds), found.group(1), anon_csrf)


@pytest.mark.parametrize(("method", "who", "url"), ADDRESSES, ids=lambda v: str(v))
def test_a_nul_or_a_huge_number_in_an_address_is_refused(
    probe: Probe, method: str, who: str, url: str
) -> None:
    response = probe.send(method, who, url, data={"csrf": probe.admin_csrf})
    if "%00" in url:
        assert response.status_code in (400, 404, 405, 422), f"{url}: {response.status_code}"


def _with_nul(value: Any) -> Any:
    return f"a{NUL}b" if not isinstance(value, str) else value[:3] + NUL + value[3:]


POST_CASES = [
    (path, name)
    for path, post in POSTS.items()
    for name in [None, *post.body]
    if not (name is None and path in NO_VALID_SEND)
]


@pytest.mark.parametrize(("path", "name"), POST_CASES, ids=lambda v: str(v))
def test_a_nul_in_a_posted_field_is_refused(probe: Probe, path: str, name: str | None) -> None:
    post = POSTS[path]
    route = next(r for r in ROUTES if r.path == path)
    body = dict(post.body)
    if name is not None:
        body[name] = _with_nul(body[name])
    url = fill(route, submission_id="2", action="reject")
    if post.kind == "form":
        csrf = probe.admin_csrf if post.who == "admin" else probe.anon_csrf
        # Sign-in answers 503 here: the server has no mail server configured.
        unavailable = 503 if path == "/signin" else 0
        response = probe.send("POST", post.who, url, unavailable, data=body | {"csrf": csrf})
    else:
        response = probe.send("POST", post.who, url, content=json.dumps(body))
    if name is not None:
        assert response.status_code in range(400, 500), f"{path} {name}: {response.status_code}"


@pytest.mark.parametrize("path", [p for p, post in POSTS.items() if post.kind == "json"])
def test_a_deeply_nested_json_body_is_refused(probe: Probe, path: str) -> None:
    route = next(r for r in ROUTES if r.path == path)
    response = probe.send("POST", POSTS[path].who, fill(route), content=NESTED)
    if POSTS[path].body:  # a route that reads no body may well ignore this one
        assert 400 <= response.status_code < 500, f"{path}: {response.status_code}"
    assert len(response.text) < 1000, f"{path}: {len(response.text)} characters"
