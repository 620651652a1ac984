"""Conditional GET and cache headers: ETags on pages and API JSON, 304s, shared pages that
any cache may keep, and invalidation by reviews and votes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, StreamingResponse
from starlette.routing import Route

from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import replace
from shiporskip.web import caching
from shiporskip.web.app import create_app
from shiporskip.web.site import Site
from tests.factories import review_record

TOOL = "/tools/claude-sonnet-4"
COMPARE = "/compare/claude-sonnet-4-vs-smolvlm2-2b"
PUBLIC = "public, max-age=0, s-maxage=10, stale-while-revalidate=30"


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    load_samples_if_empty(sqlite_runtime)
    sqlite_runtime.settings = replace(sqlite_runtime.settings, admin_token="t" * 20)
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


def tagged(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    shared = not path.startswith("/api/")
    assert response.headers["cache-control"] == (PUBLIC if shared else "no-cache")
    assert "cookie" not in response.headers.get("vary", "").lower()
    assert "set-cookie" not in response.headers
    return response.headers["etag"]


def revalidate(client: TestClient, path: str, tag: str, method: str = "GET"):  # type: ignore[no-untyped-def]
    return client.request(method, path, headers={"If-None-Match": tag})


@pytest.mark.parametrize("path", [TOOL, COMPARE, "/", "/api/v1/tools/claude-sonnet-4"])
def test_matching_if_none_match_gets_304_without_body(client: TestClient, path: str) -> None:
    tag = tagged(client, path)
    response = revalidate(client, path, tag)
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag
    assert response.headers["cache-control"] in (PUBLIC, "no-cache")
    assert "content-length" not in response.headers or response.headers["content-length"] == "0"
    assert revalidate(client, path, f'"other", W/{tag}').status_code == 304, "weak comparison"
    assert revalidate(client, path, '"other"').status_code == 200


@pytest.mark.parametrize("path", [TOOL, COMPARE, "/"])
def test_every_visitor_gets_the_same_bytes_and_tag(client: TestClient, path: str) -> None:
    """Regression: pages carried the visitor's CSRF token and pressed button, set a cookie
    on a first visit and said `Vary: Cookie`, so no shared cache could keep them."""
    first = client.get(path, headers={"If-None-Match": "*"})
    assert first.status_code == 304, "a first visit is an ordinary revalidation"
    token = client.get("/api/v1/session").json()["csrf_token"]
    client.post(
        "/api/v1/tools/smolvlm2-2b/vote", json={"vote": "skip"}, headers={"X-CSRF-Token": token}
    )
    mine = client.get(path)
    with TestClient(client.app) as other:
        theirs = other.get(path)
        other.get("/api/v1/session")
        again = other.get(path)
        assert revalidate(other, path, mine.headers["etag"]).status_code == 304
    assert mine.content == theirs.content == again.content
    assert mine.headers["etag"] == theirs.headers["etag"] == again.headers["etag"]
    assert all("set-cookie" not in r.headers for r in (mine, theirs, again))


def test_api_json_is_the_same_for_every_visitor(client: TestClient) -> None:
    tag = tagged(client, "/api/v1/tools/claude-sonnet-4")
    with TestClient(client.app) as other:
        assert revalidate(other, "/api/v1/tools/claude-sonnet-4", tag).status_code == 304


def test_a_vote_changes_the_tag(client: TestClient) -> None:
    token = client.get("/api/v1/session").json()["csrf_token"]
    tags = {path: tagged(client, path) for path in (TOOL, COMPARE)}
    voted = client.post(
        "/api/v1/tools/claude-sonnet-4/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": token}
    )
    assert voted.status_code == 200 and "etag" not in voted.headers
    for path, tag in tags.items():
        response = revalidate(client, path, tag)
        assert response.status_code == 200, path
        assert response.headers["etag"] != tag
        assert revalidate(client, path, response.headers["etag"]).status_code == 304


def test_a_new_review_changes_the_tag(client: TestClient, sqlite_runtime: Runtime) -> None:
    tags = {path: tagged(client, path) for path in (TOOL, COMPARE, "/api/v1/tools/claude-sonnet-4")}
    record = review_record(
        "claude-sonnet-4",
        "skeptic",
        "skip",
        20,
        one_liner="A brand-new verdict from the Skeptic",
        body="Rewritten after a rerun. " * 10,
        input_hash="test:new",
    )
    sqlite_runtime.reviews.add(record, sqlite_runtime.catalog.tool_id("claude-sonnet-4"))
    for path, tag in tags.items():
        response = revalidate(client, path, tag)
        assert response.status_code == 200, path
        assert response.headers["etag"] != tag
    assert "A brand-new verdict from the Skeptic" in client.get(TOOL).text


def test_head_is_tagged_like_get(client: TestClient) -> None:
    tag = tagged(client, TOOL)
    head = client.head(TOOL)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == tag
    assert revalidate(client, TOOL, tag, method="HEAD").status_code == 304


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/signin", 200),  # excluded from the cache: answered by running the GET
        ("/newsletter/archive", 200),
        ("/admin/login", 200),
        ("/static/site.css", 200),
        ("/badge/claude-sonnet-4.svg", 200),  # counted: runs the GET, counts nothing
        ("/no-such-page", 404),
        ("/newsletter", 405),  # POST only: a HEAD is refused as a GET is
    ],
)
def test_head_answers_every_path_like_get(client: TestClient, path: str, status: int) -> None:
    """Regression: HEAD was a 405 on every path the cache leaves alone or that counts."""
    get = client.get(path)
    head = client.head(path)
    assert get.status_code == head.status_code == status
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_posts_are_untouched(client: TestClient) -> None:
    token = client.get("/api/v1/session").json()["csrf_token"]
    response = client.post(
        "/tools/claude-sonnet-4/vote",
        data={"csrf": token, "vote": "ship"},
        headers={"If-None-Match": "*", "Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "etag" not in response.headers and "vary" not in response.headers


@pytest.mark.parametrize(
    "path", ["/admin", "/admin/login", "/signin", "/newsletter/archive", "/static/site.css"]
)
def test_personal_pages_and_files_get_no_etag_from_us(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code < 500
    if path.startswith("/static/"):
        assert "no-cache" not in response.headers.get("cache-control", "")
    else:
        assert "etag" not in response.headers
        # The admin area says `no-store` itself; the others get `private, no-store`.
        assert response.headers["cache-control"] in ("no-store", "private, no-store")


@pytest.mark.parametrize("path", ["/submit", "/api/v1/session", "/api/v1/me"])
def test_answers_for_one_visitor_are_private_and_untagged(client: TestClient, path: str) -> None:
    for _ in range(2):  # the first visit of /submit and the session makes the cookie
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        assert "etag" not in response.headers


@pytest.mark.parametrize(
    ("fresh", "stale", "header"),
    [
        (60, 0, "public, max-age=0, s-maxage=60"),
        (5, 120, "public, max-age=0, s-maxage=5, stale-while-revalidate=120"),
        (0, 30, "no-cache"),
    ],
)
def test_shared_cache_settings(
    sqlite_runtime: Runtime, fresh: int, stale: int, header: str
) -> None:
    load_samples_if_empty(sqlite_runtime)
    sqlite_runtime.settings = replace(
        sqlite_runtime.settings, shared_cache_seconds=fresh, shared_stale_seconds=stale
    )
    with TestClient(create_app(sqlite_runtime)) as c:
        for _ in range(2):  # rendered, then from memory
            assert c.get(TOOL).headers["cache-control"] == header
            assert c.head(COMPARE).headers["cache-control"] == header


def test_errors_and_other_types_are_left_alone(client: TestClient) -> None:
    assert "etag" not in client.get("/tools/no-such-tool").headers
    assert "etag" not in client.get("/robots.txt").headers
    assert "etag" not in client.get("/healthz").headers, "not a page or /api/v1"


def test_streaming_responses_pass_through(sqlite_runtime: Runtime) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"<p>one</p>"
        yield b"<p>two</p>"

    async def stream(request: object) -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/html")

    async def page(request: object) -> HTMLResponse:
        return HTMLResponse("<p>whole</p>")

    app = Starlette(routes=[Route("/stream", stream), Route("/page", page)])
    with TestClient(caching.PageCache(app, site=Site(sqlite_runtime))) as c:
        streamed = c.get("/stream", headers={"If-None-Match": "*"})
        assert streamed.status_code == 200 and streamed.text == "<p>one</p><p>two</p>"
        assert "etag" not in streamed.headers
        assert c.get("/page", headers={"If-None-Match": "*"}).status_code == 304
