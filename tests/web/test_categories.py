"""Category pages: counts per category, tools ranked by the panel, alternatives."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from shiporskip.domain.categories import CATEGORIES
from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.web import categories as categories_module
from shiporskip.web.app import create_app
from tests.factories import make_tool
from tests.web.test_critics import add_review


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


@pytest.fixture
def samples(sqlite_runtime: Runtime) -> Runtime:
    load_samples_if_empty(sqlite_runtime)
    return sqlite_runtime


def ranked_slugs(html: str) -> list[str]:
    """Tool slugs in the order the ranking shows them."""
    ranking = re.split(r'<ol class="ranking"[^>]*>', html)[1].split("</ol>")[0]
    return re.findall(r'<li id="tool-([a-z0-9-]+)">', ranking)


def test_index_lists_every_category_with_counts_from_the_json(
    client: TestClient, samples: Runtime
) -> None:
    html = client.get("/categories").text
    data = client.get("/api/v1/categories").json()
    assert data["count"] == len(CATEGORIES) == len(data["categories"])
    assert sum(c["tools"] for c in data["categories"]) == samples.catalog.count() == data["tools"]
    for c in data["categories"]:
        block = html.split(f'id="category-{c["slug"]}">')[1].split("</li>")[0]
        assert f'<a href="{c["url"]}">{escape(c["name"])}</a>' in block
        if c["tools"]:
            assert f'<span class="counts-text">{c["text"]}</span>' in block
            noun = "tool" if c["tools"] == 1 else "tools"
            assert c["text"] == f"{c['tools']} {noun}, {c['shipped']} shipped"
        else:
            assert "No tools yet" in block


def test_category_page_ranks_by_ship_pct_then_score_then_name(
    client: TestClient, samples: Runtime
) -> None:
    data = client.get("/api/v1/categories/coding-agents").json()
    tools = data["tools"]
    reviewed = [t for t in tools if t["panel"] and t["panel"]["reported"]]
    unreviewed = [t for t in tools if not (t["panel"] and t["panel"]["reported"])]
    assert tools == reviewed + unreviewed and reviewed and unreviewed
    keys = [(-t["panel"]["ship_pct"], -t["panel"]["score10"], t["name"].lower()) for t in reviewed]
    assert keys == sorted(keys)
    assert [t["name"].lower() for t in unreviewed] == sorted(t["name"].lower() for t in unreviewed)
    html = client.get("/categories/coding-agents").text
    assert ranked_slugs(html) == [t["slug"] for t in tools]
    assert f"{data['count']} tools, {data['shipped']} shipped" in html


def test_ranking_breaks_ties_by_mean_score_then_name(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"):
        sqlite_runtime.catalog.add(make_tool(name, category="video"))
    votes = {
        "alpha": [("ship", 60), ("ship", 60), ("skip", 40)],  # 67%, mean 53
        "beta": [("ship", 80), ("ship", 80), ("skip", 40)],  # 67%, mean 67
        "gamma": [("ship", 80), ("ship", 80), ("skip", 40)],  # same as beta: name decides
        "delta": [("ship", 90), ("skip", 30), ("skip", 30)],  # 33%
        "epsilon": [("ship", 70), ("ship", 70), ("ship", 70)],  # 100%
    }
    critics = ("builder", "skeptic", "buyer")
    for slug, pairs in votes.items():
        for critic, (verdict, score) in zip(critics, pairs, strict=True):
            add_review(sqlite_runtime, slug, critic, verdict, score)
    expected = ["epsilon", "beta", "gamma", "alpha", "delta", "zeta"]
    data = client.get("/api/v1/categories/video").json()
    assert [t["slug"] for t in data["tools"]] == expected
    assert ranked_slugs(client.get("/categories/video").text) == expected
    assert (data["count"], data["reviewed"], data["shipped"]) == (6, 5, 4)


def test_alternatives_to_each_tool(client: TestClient, samples: Runtime) -> None:
    html = client.get("/categories/search-apis").text
    data = client.get("/api/v1/categories/search-apis").json()
    assert len(data["alternatives"]) == data["count"]
    for entry in data["alternatives"]:
        assert f'href="#{entry["anchor"]}">Alternatives to {escape(entry["name"])}</a>' in html
        assert f'id="{entry["anchor"]}"' in html
        others = {a["slug"] for a in entry["alternatives"]}
        assert entry["slug"] not in others and len(others) == data["count"] - 1
        for alt in entry["alternatives"]:
            assert f'href="{alt["compare_url"]}"' in html


def test_alias_redirects_to_the_canonical_category(client: TestClient, samples: Runtime) -> None:
    response = client.get("/categories/llm", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/categories/models"
    assert client.get("/api/v1/categories/Open%20Weights").json()["category"]["slug"] == "models"


def test_unknown_category_is_404_listing_the_valid_ones(client: TestClient) -> None:
    response = client.get("/categories/nope")
    assert response.status_code == 404
    assert "unknown category &#39;nope&#39;" in response.text
    assert "Coding Agents (coding-agents)" in response.text
    api = client.get("/api/v1/categories/nope")
    assert api.status_code == 404 and "Models (models)" in api.json()["error"]


def test_an_empty_category(client: TestClient) -> None:
    html = client.get("/categories/voice").text
    assert "No tools in Voice &amp; Audio yet" in html
    assert client.get("/api/v1/categories/voice").json()["tools"] == []


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_names_and_taglines_are_escaped(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    sqlite_runtime.catalog.add(
        make_tool("Evil <img src=x onerror=alert(1)>", category="video", tagline=HOSTILE)
    )
    sqlite_runtime.catalog.add(make_tool("Plain", category="video", vendor=HOSTILE[:80]))
    for url in ("/categories/video", "/categories"):
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html
    html = client.get("/categories/video").text
    assert "&lt;script&gt;" in html and "Alternatives to Evil &lt;img" in html


def test_long_categories_are_paged_and_keep_their_rank(
    client: TestClient, samples: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = [t["slug"] for t in client.get("/api/v1/categories/coding-agents").json()["tools"]]
    monkeypatch.setattr(categories_module, "PAGE_SIZE", 3)
    first = client.get("/api/v1/categories/coding-agents").json()
    second = client.get("/api/v1/categories/coding-agents", params={"page": "2"}).json()
    assert first["pages"] == 3 and first["next_url"] == "/categories/coding-agents?page=2"
    assert second["first_rank"] == 4 and second["count"] == first["count"] == 8
    assert [t["slug"] for t in first["tools"] + second["tools"]] == whole[:6]
    for entry in second["alternatives"]:
        expected = [slug for slug in whole[:6] if slug != entry["slug"]][:5]
        assert [a["slug"] for a in entry["alternatives"]] == expected
    html = client.get("/categories/coding-agents", params={"page": "2"}).text
    assert '<span class="rank">#4</span>' in html and "Page 2 of 3" in html
    assert ranked_slugs(html) == [t["slug"] for t in second["tools"]]
    assert client.get("/categories/coding-agents", params={"page": "x"}).status_code == 200
