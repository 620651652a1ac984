"""Security headers and Host-free redirects through the real server (`web/headers.py`).

The live crawl holds every route's answers to the headers on a plain-http site; here one
server runs as an https site (its base_url) with the admin area on, for what only that
shows: HSTS, and what a forged Host header gets back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime
from shiporskip.web.app import SERVER_ERROR, create_app
from shiporskip.web.headers import completed, own_relative, policy
from tests.live import LiveServer, assert_security_headers

BASE_URL = "https://verdicts.example.com"
ADMIN_TOKEN = "headers-admin-token-0123456789"
EVIL = "evil.example"


@pytest.fixture(scope="module")
def https_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = {"base_url": BASE_URL, "admin_token": ADMIN_TOKEN}
    with (
        LiveServer(tmp_path_factory.mktemp("https-site"), settings) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        yield client


def test_hsts_is_sent_when_the_site_is_https(https_site: httpx.Client) -> None:
    for path in ("/", "/tools/cursor", "/static/site.css", "/api/v1/tools", "/no-such-page"):
        response = https_site.get(path)
        assert response.headers.get("strict-transport-security") == "max-age=31536000", path


def test_a_forged_host_never_becomes_a_redirect_target(https_site: httpx.Client) -> None:
    """Starlette's trailing-slash redirect wrote the request's Host into the Location."""
    for path in ("/tools/", "/admin/", "/tools/cursor/?x=1", "/api/v1/tools/"):
        response = https_site.get(path, headers={"host": EVIL})
        assert response.is_redirect, (path, response.status_code)
        location = response.headers["location"]
        assert EVIL not in location and not location.startswith("//"), (path, location)
        assert urlsplit(urljoin(BASE_URL, location)).netloc == urlsplit(BASE_URL).netloc
        assert_security_headers(response, https=True)
    assert https_site.get("/tools/cursor/?x=1").headers["location"] == "/tools/cursor?x=1"


def test_admin_sign_in_with_a_forged_host_redirects_on_the_site(
    https_site: httpx.Client,
) -> None:
    form = https_site.get("/admin/login", headers={"host": EVIL})
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    # The cookies are Secure (the site is https) and this test speaks plain http to the
    # server behind the site, so they are sent back by hand.
    cookie = "; ".join(f"{name}={value}" for name, value in form.cookies.items())
    answer = https_site.post(
        "/admin/login",
        data={"csrf": csrf.group(1), "token": ADMIN_TOKEN, "next": "/admin/votes"},
        headers={"host": EVIL, "cookie": cookie},
    )
    assert answer.status_code == 303, answer.text[:500]
    location = answer.headers["location"]
    assert EVIL not in location
    assert urljoin(BASE_URL, location) == f"{BASE_URL}/admin/votes"
    assert_security_headers(answer, https=True)


def test_the_embed_widget_may_be_framed_and_nothing_else(https_site: httpx.Client) -> None:
    embed = https_site.get("/embed/cursor")
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    page = https_site.get("/tools/cursor")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    for response in (embed, page):
        assert_security_headers(response, https=True)


def test_admin_pages_get_the_whole_policy(https_site: httpx.Client) -> None:
    """The admin area sets only frame-ancestors; the site's policy fills in the rest."""
    page = https_site.get("/admin/login")
    assert_security_headers(page, https=True)
    assert page.headers["content-security-policy"].count("frame-ancestors") == 1


# -- the pieces ----------------------------------------------------------------------------


def test_a_route_policy_with_default_src_is_kept_whole() -> None:
    own = "default-src 'none'; frame-ancestors *"
    assert completed(own, policy()) == own
    assert completed(None, policy()) == policy()
    merged = completed("frame-ancestors 'none'", policy(framed=True))
    assert merged.startswith("frame-ancestors 'none'; default-src 'self'")
    assert "script-src 'self'" in merged


def test_only_style_attributes_are_let_inline_and_only_when_asked() -> None:
    assert "unsafe-inline" not in policy()
    relaxed = policy(style_attributes=True)
    assert "style-src-attr 'unsafe-inline'" in relaxed and "style-src 'self';" in relaxed


@pytest.mark.parametrize(
    ("location", "host", "expected"),
    [
        ("http://evil.example/tools", "evil.example", "/tools"),
        ("http://EVIL.example//x?q=1#f", "evil.example", "/x?q=1#f"),
        ("https://elsewhere.example/", "evil.example", "https://elsewhere.example/"),
        ("/admin", "evil.example", "/admin"),
        ("http://evil.example/tools", None, "http://evil.example/tools"),
    ],
)
def test_own_host_locations_become_paths(location: str, host: str | None, expected: str) -> None:
    assert own_relative(location, host) == expected


def test_a_server_error_is_one_sentence_with_the_headers(sqlite_runtime: Runtime) -> None:
    """Starlette answers a bug from outside every middleware: without its own handler the
    answer was a bare "Internal Server Error" with none of the headers above."""
    app = create_app(sqlite_runtime)

    @app.get("/api/v1/broken")
    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("secret internals: db at 10.0.0.5")

    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/broken", "/api/v1/broken"):
            response = client.get(path)
            assert response.status_code == 500, path
            assert "Something went wrong on our side" in response.text, path
            assert "10.0.0.5" not in response.text and "Traceback" not in response.text
            assert_security_headers(response)
        assert client.get("/api/v1/broken").json() == {"error": SERVER_ERROR}
