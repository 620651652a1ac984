"""The web skeleton: pages, JSON from the same context, 404 with suggestions, escaping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shiporskip import catalog as catalog_files
from shiporskip.runtime import Runtime
from shiporskip.web.app import create_app
from tests.factories import make_tool


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_home_lists_the_catalog_and_labels_sample_data(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    catalog_files.load_sample_if_empty(sqlite_runtime.catalog)
    html = client.get("/").text
    count = sqlite_runtime.catalog.count()
    assert f"{count} tools" in html
    assert "Sample data" in html
    assert 'href="/tools/claude-sonnet-4"' in html


def test_tool_page_shows_facts_and_json_matches(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    catalog_files.load_sample_if_empty(sqlite_runtime.catalog)
    html = client.get("/tools/perplexity-sonar-pro").text
    data = client.get("/api/v1/tools/perplexity-sonar-pro").json()
    tool = data["tool"]
    for text in (tool["name"], tool["vendor"], tool["category"]["name"], tool["price_line"]):
        assert text.replace("&", "&amp;") in html
    for plan in tool["pricing"]["plans"]:
        assert plan["name"] in html
    assert "Sample data" in html and tool["sample"] is True
    for peer in data["similar"]:
        assert f'href="{peer["url"]}"' in html


def test_api_list_carries_a_count_and_filters(client: TestClient, sqlite_runtime: Runtime) -> None:
    sqlite_runtime.catalog.add(make_tool("Alpha", category="models"))
    sqlite_runtime.catalog.add(make_tool("Beta"))
    body = client.get("/api/v1/tools").json()
    assert body["count"] == 2 == len(body["tools"])
    assert client.get("/api/v1/tools", params={"category": "models"}).json()["count"] == 1


def test_unknown_slug_is_404_with_near_matches(client: TestClient, sqlite_runtime: Runtime) -> None:
    sqlite_runtime.catalog.add(make_tool("Claude Sonnet 4"))
    response = client.get("/tools/claude-sonet-4")
    assert response.status_code == 404
    assert 'href="/tools/claude-sonnet-4"' in response.text
    api = client.get("/api/v1/tools/claude-sonet-4")
    assert api.status_code == 404 and "did you mean claude-sonnet-4" in api.json()["error"]
    assert client.get("/no/such/page").status_code == 404


def test_404_page_says_it_once_as_a_sentence(client: TestClient, sqlite_runtime: Runtime) -> None:
    """Regression: the page printed the API's lower-case detail with its own 'did you mean'
    list, then the same suggestions again as links."""
    sqlite_runtime.catalog.add(make_tool("Claude Sonnet 4"))
    html = client.get("/tools/claude-sonet-4").text
    assert '<p class="error-detail">No tool with slug &#39;claude-sonet-4&#39;.</p>' in html
    main = html[html.index("<main") : html.index("</main>")]
    assert main.lower().count("did you mean") == 1
    missing = client.get("/no/such/page").text
    assert '<p class="error-detail">There is no page at this address.</p>' in missing


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_maker_text_is_escaped(client: TestClient, sqlite_runtime: Runtime) -> None:
    sqlite_runtime.catalog.add(
        make_tool(
            "Evil Tool",
            vendor=HOSTILE[:80],
            tagline=HOSTILE,
            description=HOSTILE,
            aliases=["<b>bold</b>"],
            pricing={
                "entry": "paid",
                "note": HOSTILE,
                "plans": [{"name": "<i>x</i>", "amount": 1, "unit": "seat"}],
            },
        )
    )
    for url in ("/", "/tools/evil-tool"):
        html = client.get(url).text
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>bold</b>" not in html and "<i>x</i>" not in html
        assert "&lt;script&gt;" in html


def test_static_assets_are_local(client: TestClient) -> None:
    html = client.get("/").text
    assert "https://" not in html.split("<body>")[0]
    assert client.get("/static/site.css").status_code == 200
