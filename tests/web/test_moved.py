"""A renamed tool's old slug redirects (301) to its new one on every tool URL."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime
from shiporskip.web.app import create_app
from tests.factories import make_tool
from tests.live import COMMAND, LiveServer, assert_whole


def rename(runtime: Runtime, slug: str, new: str) -> None:
    tool = runtime.catalog.get(slug)
    runtime.catalog.replace(slug, make_tool(tool.name, slug=new))


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    runtime.catalog.add(make_tool("Alpha", slug="alpha"))
    runtime.catalog.add(make_tool("Other", slug="other"))
    rename(runtime, "alpha", "alpha-2")
    rename(runtime, "alpha-2", "alpha-3")
    with TestClient(create_app(runtime), follow_redirects=False) as c:
        yield c


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/tools/alpha", "/tools/alpha-3"),
        ("/tools/alpha-2?usage=1000+requests", "/tools/alpha-3?usage=1000+requests"),
        ("/api/v1/tools/alpha", "/api/v1/tools/alpha-3"),
        ("/api/v1/tools/alpha/embeds", "/api/v1/tools/alpha-3/embeds"),
        ("/api/v1/tools/alpha-2/history", "/api/v1/tools/alpha-3/history"),
        ("/compare/alpha-vs-other", "/compare/alpha-3-vs-other"),
        ("/compare/other-vs-alpha", "/compare/other-vs-alpha-3"),
        ("/api/v1/compare/alpha-2-vs-other", "/api/v1/compare/alpha-3-vs-other"),
        ("/badge/alpha.svg", "/badge/alpha-3.svg"),
        ("/embed/alpha", "/embed/alpha-3"),
        ("/go/alpha?ref=badge", "/go/alpha-3?ref=badge"),
    ],
)
def test_old_slugs_redirect_permanently_to_the_current_one(
    client: TestClient, old: str, new: str
) -> None:
    response = client.get(old)
    assert response.status_code == 301, response.text
    assert response.headers["location"] == new
    assert client.get(new).status_code in (200, 303)


def test_head_redirects_too_and_the_current_slug_is_served(client: TestClient) -> None:
    response = client.head("/tools/alpha")
    assert response.status_code == 301
    assert response.headers["location"] == "/tools/alpha-3"
    assert client.get("/tools/alpha-3").status_code == 200


def test_unknown_slugs_and_other_methods_stay_as_they_were(client: TestClient) -> None:
    assert client.get("/tools/never-was").status_code == 404
    assert client.get("/badge/never-was.svg").status_code == 404
    assert client.get("/categories/alpha").status_code == 404, "a category slug, not a tool's"
    assert client.post("/tools/alpha/vote", data={"value": "ship"}).status_code != 301


def test_a_new_tool_taking_an_old_slug_wins_over_the_redirect(
    runtime: Runtime, client: TestClient
) -> None:
    runtime.catalog.add(make_tool("Newcomer", slug="alpha"))
    page = client.get("/tools/alpha")
    assert page.status_code == 200 and "Newcomer" in page.text
    assert client.get("/tools/alpha-2").headers["location"] == "/tools/alpha-3"


def test_a_rename_from_the_cli_redirects_through_the_real_server(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "live") as server:

        def cli(*args: str) -> None:
            done = subprocess.run(
                [str(COMMAND), *args], env=server.env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr

        # The sample catalog is loaded on a first start; its page is now cached, too.
        assert httpx.get(server.url("/tools/claude-sonnet-4")).status_code == 200
        cli("tools", "edit", "claude-sonnet-4", "--slug", "sonnet")
        for old, new in (
            ("/tools/claude-sonnet-4", "/tools/sonnet"),
            ("/badge/claude-sonnet-4.svg", "/badge/sonnet.svg"),
        ):
            response = httpx.get(server.url(old), follow_redirects=False)
            assert response.status_code == 301
            assert response.headers["location"] == new
            assert_whole(response)
            assert httpx.get(server.url(new)).status_code == 200
