"""Search: ranking, literal matching (no wildcards), bad input, escaping, speed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.web.app import create_app
from shiporskip.web.search import PROMPT
from tests.factories import make_tool


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """A client on SQLite and on PostgreSQL: the filtering is SQL."""
    with TestClient(create_app(runtime)) as c:
        yield c


def result_slugs(html: str) -> list[str]:
    """Result slugs in the order the page shows them."""
    if '<ol class="search-results">' not in html:
        return []
    block = html.split('<ol class="search-results">')[1].split("</ol>")[0]
    return re.findall(r'<h3><a href="/tools/([a-z0-9-]+)">', block)


def search(client: TestClient, q: str) -> tuple[list[str], dict[str, Any]]:
    html = client.get("/search", params={"q": q}).text
    data = client.get("/api/v1/search", params={"q": q}).json()
    assert result_slugs(html) == [r["slug"] for r in data["results"]]
    return result_slugs(html), data


def add_cursor_family(runtime: Runtime) -> None:
    add = runtime.catalog.add
    add(make_tool("Windsurf", tagline="An editor that feels like Cursor"))
    add(make_tool("Zed", aliases=["Cursorish"]))
    add(make_tool("Anysphere Agent", vendor="Cursor Labs"))
    add(make_tool("Super Cursor"))
    add(make_tool("Cursorial"))
    add(make_tool("Cursor"))
    add(make_tool("Unrelated", tagline="Nothing to see"))


def test_results_are_ranked_by_where_the_query_matched(
    client: TestClient, runtime: Runtime
) -> None:
    add_cursor_family(runtime)
    expected = ["cursor", "cursorial", "super-cursor", "anysphere-agent", "zed", "windsurf"]
    for q in ("cursor", "CURSOR", "  Cursor "):
        slugs, data = search(client, q)
        assert slugs == expected
    matched = [r["matched"] for r in data["results"]]
    assert matched == ["name", "name", "name", "vendor", "alias", "tagline"]
    assert data["count"] == 6 and data["query"] == "Cursor"


def test_punctuation_and_spacing_in_names_are_forgiven(
    client: TestClient, runtime: Runtime
) -> None:
    runtime.catalog.add(make_tool("GPT-4o", aliases=["GPT 4 Omni"]))
    assert search(client, "gpt4o")[0] == ["gpt-4o"]
    assert search(client, "gpt 4 omni")[0] == ["gpt-4o"]


def test_categories_are_searched(client: TestClient, runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Alpha", category="coding-agents"))
    runtime.catalog.add(make_tool("Beta", category="video"))
    slugs, data = search(client, "Coding Assistants")
    assert slugs == ["alpha"]
    assert data["categories"][0]["slug"] == "coding-agents"
    html = client.get("/search", params={"q": "coding"}).text
    assert 'href="/categories/coding-agents"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("%", ["100-uptime"]),
        ("100%", ["100-uptime"]),
        ("_", ["snake-case"]),
        ("e_c", ["snake-case"]),
        ("\\", []),
        ("[a]", []),
    ],
)
def test_wildcard_characters_match_literally(
    client: TestClient, runtime: Runtime, query: str, expected: list[str]
) -> None:
    runtime.catalog.add(make_tool("100% Uptime"))
    runtime.catalog.add(make_tool("100x Uptime"))
    runtime.catalog.add(make_tool("snake_case"))
    runtime.catalog.add(make_tool("snakeXcase"))
    runtime.catalog.add(make_tool("Alpha"))
    assert search(client, query)[0] == expected


def test_empty_query_prompts(client: TestClient) -> None:
    for q in ("", "   "):
        response = client.get("/search", params={"q": q})
        assert response.status_code == 200 and "Search the tools" in response.text
        data = client.get("/api/v1/search", params={"q": q}).json()
        assert data["count"] == 0 and data["message"] == PROMPT
    assert client.get("/search").status_code == 200


def test_no_results_suggests_near_names(client: TestClient, runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Claude Sonnet 4"))
    runtime.catalog.add(make_tool("Perplexity Sonar Pro"))
    slugs, data = search(client, "claud sonet")
    assert slugs == [] and data["count"] == 0
    assert "No tool matches" in str(data["message"])
    assert [s["slug"] for s in data["suggestions"]] == ["claude-sonnet-4"]
    html = client.get("/search", params={"q": "claud sonet"}).text
    assert "Did you mean" in html and 'href="/tools/claude-sonnet-4"' in html


def test_over_long_query_is_refused_with_a_clear_message(client: TestClient) -> None:
    ok = client.get("/search", params={"q": "a" * 200})
    assert ok.status_code == 200
    response = client.get("/search", params={"q": "a" * 201})
    assert response.status_code == 422
    assert "limited to 200 characters" in response.text
    assert "a" * 201 not in response.text.split("<main")[1]
    api = client.get("/api/v1/search", params={"q": "a" * 5000})
    assert api.status_code == 422 and "limited to 200 characters" in api.json()["error"]


@pytest.mark.parametrize("query", ["' OR 1=1 --", "🙂", "\u202egnp.exe", "%%%%", "日本語", "\\%_"])
def test_garbage_queries_do_not_break_search(
    client: TestClient, runtime: Runtime, query: str
) -> None:
    runtime.catalog.add(make_tool("Alpha"))
    response = client.get("/search", params={"q": query})
    assert response.status_code == 200
    assert client.get("/api/v1/search", params={"q": query}).status_code == 200


@pytest.mark.parametrize("query", ["\x00", "abc\x00def"])
def test_a_nul_in_the_query_is_refused(client: TestClient, runtime: Runtime, query: str) -> None:
    """PostgreSQL text cannot hold NUL: every query string with one is refused (web/guard.py)."""
    response = client.get("/search", params={"q": query})
    assert response.status_code == 400 and "NUL character" in response.text
    api = client.get("/api/v1/search", params={"q": query})
    assert api.status_code == 400 and "NUL character" in api.json()["error"]


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_names_taglines_and_queries_are_escaped(
    client: TestClient, runtime: Runtime
) -> None:
    runtime.catalog.add(make_tool("Evil <img src=x onerror=alert(1)>", tagline=HOSTILE))
    for q in ("evil", HOSTILE, '"><script>alert(1)</script>'):
        html = client.get("/search", params={"q": q}).text
        assert "<script>alert" not in html and "<img src=x" not in html
    html = client.get("/search", params={"q": "evil"}).text
    assert "Evil &lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert" in html


def test_sample_catalog_search(sqlite_runtime: Runtime) -> None:
    load_samples_if_empty(sqlite_runtime)
    with TestClient(create_app(sqlite_runtime)) as client:
        slugs, data = search(client, "gemini")
        assert slugs[0] == "gemini"
        assert all(r["panel"] is None or "tally" in r["panel"] for r in data["results"])


def test_search_over_thousands_of_tools_ranks_and_caps(sqlite_runtime: Runtime) -> None:
    # Speed is measured by bench/scale.py, not asserted here.
    batch = [make_tool(f"Widget {i}", tagline=f"Widget number {i}") for i in range(3000)]
    sqlite_runtime.catalog.import_tools(batch)
    with TestClient(create_app(sqlite_runtime)) as client:
        for q in ("widget", "widget 12", "number", "zzzz"):
            assert client.get("/search", params={"q": q}).status_code == 200
        data = client.get("/api/v1/search", params={"q": "widget 12"}).json()
    assert data["count"] == 111 and data["results"][0]["slug"] == "widget-12"
    assert data["shown"] == 50
