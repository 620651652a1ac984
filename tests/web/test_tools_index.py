"""The tools index (`/tools`, `/api/v1/tools`): filters, orders, keyset pages, bad input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.schema import tool_panels, tools
from shiporskip.web.app import create_app
from tests.factories import make_tool, review_record
from tests.live import LiveServer, assert_whole

FREEMIUM = {
    "entry": "freemium",
    "plans": [
        {"name": "Free", "charges": []},
        {"name": "Pro", "period": "month", "charges": [{"amount": "20", "unit": "seat"}]},
    ],
}
PRICING = {
    "free": {"entry": "free"},
    "open-source": {"entry": "open-source"},
    "freemium": FREEMIUM,
    "paid": None,  # the factory's default: a priced API plan
}
CRITICS = ("builder", "skeptic", "futurist", "buyer", "operator", "user", "scientist")
# name, category, entry, verdicts (score per critic; None: a failed attempt)
CATALOG: list[tuple[str, str, str, list[tuple[str, int] | None]]] = [
    ("Alpha", "models", "paid", [("ship", 80), ("ship", 70), ("skip", 30)]),
    ("alpha two", "models", "free", [("ship", 80), ("ship", 70), ("skip", 30)]),
    ("Beta", "models", "freemium", [("ship", 80), ("ship", 70), ("skip", 30)]),
    ("beta", "video", "paid", []),  # hmm: same normalised name as Beta, replaced below
    ("Cobalt", "video", "open-source", [("skip", 20), ("skip", 30)]),
    ("Delta", "video", "paid", [("ship", 60), ("skip", 40)]),
    ("Echo", "writing", "free", [("ship", 60), ("skip", 40)]),
    ("Foxtrot", "writing", "paid", [None, None]),  # only failed attempts: not reviewed
    ("Golf", "writing", "freemium", []),
    ("Hotel", "models", "paid", []),
    ("India", "video", "free", [("ship", 90)]),
    ("Juliet", "models", "paid", [("ship", 90)]),
    ("kilo", "writing", "open-source", [("skip", 10), ("ship", 55), ("skip", 45)]),
    ("Lima", "models", "freemium", [("ship", 80), ("ship", 70), ("skip", 30)]),
    ("Mike", "video", "paid", []),
    ("november", "models", "free", [("ship", 75), ("ship", 75)]),
]
CATALOG = [row for row in CATALOG if row[0] != "beta"]  # names are unique per product


def build_catalog(runtime: Runtime) -> None:
    """Tools with every verdict, ties on ship % and mean score, and no review at all."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n, (name, category, entry, verdicts) in enumerate(CATALOG):
        extra: dict[str, Any] = {"category": category}
        if PRICING[entry] is not None:
            extra["pricing"] = PRICING[entry]
        if entry == "open-source":
            extra["licence"] = "Apache-2.0"
        tool = runtime.catalog.add(make_tool(name, **extra))
        tool_id = runtime.catalog.tool_id(tool.slug)
        for c, verdict in enumerate(verdicts):
            when = start + timedelta(hours=n) + timedelta(minutes=c)
            if verdict is None:
                record = review_record(
                    tool.slug, CRITICS[c], None, status="failed", created_at=when
                )
            else:
                record = review_record(
                    tool.slug, CRITICS[c], verdict[0], verdict[1], created_at=when
                )
            runtime.reviews.add(record, tool_id)


def expected(runtime: Runtime, sort: str) -> list[str]:
    """Every slug in the published order, computed here from the stored rows."""
    with runtime.engine.connect() as conn:
        rows = list(
            conn.execute(
                sa.select(
                    tools.c.id,
                    tools.c.slug,
                    tools.c.name,
                    tool_panels.c.ship_pct,
                    tool_panels.c.mean_score,
                    tool_panels.c.reviewed_at,
                ).select_from(tools.outerjoin(tool_panels, tool_panels.c.tool_id == tools.c.id))
            )
        )

    def by_name(r: Any) -> tuple[str, str]:
        return (r.name.lower(), r.name)

    if sort == "name":
        return [r.slug for r in sorted(rows, key=by_name)]
    reviewed = [r for r in rows if r.ship_pct is not None]
    rest = sorted((r for r in rows if r.ship_pct is None), key=by_name)
    if sort == "newest":
        reviewed.sort(key=lambda r: (r.reviewed_at, r.id), reverse=True)
    else:
        reviewed.sort(key=lambda r: (-r.ship_pct, -r.mean_score, *by_name(r)))
    return [r.slug for r in [*reviewed, *rest]]


def verdict_of(tool: dict[str, Any]) -> str:
    panel = tool["panel"]
    if not panel or not panel["reported"]:
        return "unreviewed"
    return str(panel["verdict"])


def walk(client: TestClient, url: str) -> tuple[list[str], int, int]:
    """Follow next_url to the end: every slug in order, the count, the pages read."""
    slugs: list[str] = []
    pages = 0
    count = -1
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        data = response.json()
        assert count in (-1, data["count"])
        count = data["count"]
        slugs += [t["slug"] for t in data["tools"]]
        pages += 1
        url = data["next_url"]
        assert pages < 100
    return slugs, count, pages


@pytest.fixture
def catalog(runtime: Runtime) -> Iterator[TestClient]:
    build_catalog(runtime)
    with TestClient(create_app(runtime)) as client:
        yield client


@pytest.mark.parametrize("sort", ["newest", "ship-pct", "name"])
def test_paging_returns_every_tool_once_in_order(
    catalog: TestClient, runtime: Runtime, sort: str
) -> None:
    wanted = expected(runtime, sort)
    for limit in (1, 2, 3, 50):
        slugs, count, pages = walk(catalog, f"/api/v1/tools?sort={sort}&limit={limit}")
        assert slugs == wanted
        assert count == len(CATALOG) == len(set(slugs))
        assert pages == -(-len(wanted) // limit)


def test_previous_pages_walk_back_to_the_first(catalog: TestClient, runtime: Runtime) -> None:
    for sort, query in (("ship-pct", ""), ("newest", "&category=models"), ("name", "")):
        url = f"/api/v1/tools?sort={sort}&limit=2{query}"
        forward = []
        while url:
            data = catalog.get(url).json()
            forward.append([t["slug"] for t in data["tools"]])
            url = data["next_url"]
        first = catalog.get(f"/api/v1/tools?sort={sort}&limit=2{query}").json()
        assert first["prev_url"] is None and first["first_url"] is None
        backward = [forward[-1]]
        url = data["prev_url"]
        while url:
            data = catalog.get(url).json()
            backward.append([t["slug"] for t in data["tools"]])
            assert data["next_url"] is not None and data["first_url"] is not None
            url = data["prev_url"]
        assert backward[::-1] == forward, sort
        # The page before the second is the first, which says so: no previous page.
        assert data["tools"] == first["tools"]


@pytest.mark.parametrize(
    "params",
    [
        {"verdict": "ship"},
        {"verdict": "skip"},
        {"verdict": "split"},
        {"verdict": "unreviewed"},
        {"category": "models"},
        {"category": "video", "verdict": "unreviewed"},
        {"entry": "free"},
        {"entry": "paid", "verdict": "ship"},
        {"entry": "open-source", "category": "writing"},
    ],
)
def test_filters_keep_the_order_and_count(
    catalog: TestClient, runtime: Runtime, params: dict[str, str]
) -> None:
    everything = {t["slug"]: t for t in walk_tools(catalog, "/api/v1/tools?limit=100")}

    def matches(tool: dict[str, Any]) -> bool:
        return (
            params.get("verdict", verdict_of(tool)) == verdict_of(tool)
            and params.get("category", tool["category"]["slug"]) == tool["category"]["slug"]
            and params.get("entry", tool["entry"]) == tool["entry"]
        )

    query = "&".join(f"{k}={v}" for k, v in params.items())
    for sort in ("newest", "ship-pct", "name"):
        wanted = [s for s in expected(runtime, sort) if matches(everything[s])]
        slugs, count, _ = walk(catalog, f"/api/v1/tools?sort={sort}&limit=2&{query}")
        assert slugs == wanted, sort
        assert count == len(wanted)


def walk_tools(client: TestClient, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while url:
        data = client.get(url).json()
        out += data["tools"]
        url = data["next_url"]
    return out


def test_verdict_filters_partition_the_catalog(catalog: TestClient) -> None:
    seen: dict[str, str] = {}
    for verdict in ("ship", "skip", "split", "unreviewed"):
        for tool in walk_tools(catalog, f"/api/v1/tools?verdict={verdict}&limit=100"):
            assert verdict_of(tool) == verdict
            assert tool["slug"] not in seen
            seen[tool["slug"]] = verdict
    assert len(seen) == len(CATALOG)
    assert seen["foxtrot"] == "unreviewed"  # failed attempts only
    assert seen["delta"] == "split"


def test_category_alias_and_case_are_the_category(catalog: TestClient) -> None:
    canonical = catalog.get("/api/v1/tools?category=models").json()
    for label in ("Models", " models ", "MODELS"):
        data = catalog.get("/api/v1/tools", params={"category": label}).json()
        assert data["tools"] == canonical["tools"]
        assert data["filters"]["category"] == "models"
    assert catalog.get("/api/v1/tools?verdict=SHIP").json()["filters"]["verdict"] == "ship"


def test_default_page_is_newest_first_with_a_bounded_limit(catalog: TestClient) -> None:
    data = catalog.get("/api/v1/tools").json()
    assert data["filters"] == {
        "category": None,
        "entry": None,
        "verdict": None,
        "sort": "newest",
        "limit": 50,
    }
    assert data["count"] == data["shown"] == len(CATALOG)
    assert data["next_url"] is None and data["next_cursor"] is None and data["first_url"] is None
    # The newest review first: the last tool added with reviews.
    assert data["tools"][0]["slug"] == "november"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "entry=cheap",
            "Unknown entry tier “cheap”; use one of: free, freemium, paid, open-source.",
        ),
        ("verdict=maybe", "Unknown verdict “maybe”; use one of: ship, skip, split, unreviewed."),
        ("sort=price", "Unknown sort “price”; use one of: newest, ship-pct, name."),
        ("limit=0", "Limit “0” is not a whole number from 1 to 100."),
        ("limit=101", "Limit “101” is not a whole number from 1 to 100."),
        ("limit=ten", "Limit “ten” is not a whole number from 1 to 100."),
        ("limit=-5", "Limit “-5” is not a whole number from 1 to 100."),
        ("category=nope", "Unknown category"),
        (
            "cursor=garbage",
            "The cursor is not one this site made; start again from the first page.",
        ),
        ("cursor=", None),  # empty means the first page
    ],
)
def test_bad_parameters_are_one_sentence(
    catalog: TestClient, query: str, message: str | None
) -> None:
    api = catalog.get(f"/api/v1/tools?{query}")
    html = catalog.get(f"/tools?{query}")
    if message is None:
        assert api.status_code == html.status_code == 200
        return
    assert api.status_code == html.status_code == 422
    error = api.json()["error"]
    assert error.startswith(message) and "\n" not in error
    assert str(html.text).count("Traceback") == 0
    assert f">{error}</p>" in unescape(html.text)


def test_a_cursor_is_signed_and_bound_to_its_filters(catalog: TestClient) -> None:
    data = catalog.get("/api/v1/tools?sort=name&limit=2").json()
    cursor = data["next_cursor"]
    assert catalog.get(f"/api/v1/tools?sort=name&limit=2&cursor={cursor}").status_code == 200
    # Another limit is fine: the position does not depend on the page size.
    assert catalog.get(f"/api/v1/tools?sort=name&limit=5&cursor={cursor}").status_code == 200
    other = catalog.get(f"/api/v1/tools?sort=newest&cursor={cursor}")
    assert other.status_code == 422
    assert other.json()["error"] == (
        "This cursor belongs to other filters or another order; start again from the "
        "first page of these."
    )
    assert catalog.get(f"/api/v1/tools?sort=name&verdict=ship&cursor={cursor}").status_code == 422
    payload, signature = cursor.rsplit(".", 1)
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    response = catalog.get(f"/api/v1/tools?sort=name&cursor={forged}")
    assert response.status_code == 422
    assert "start again from the first page" in response.json()["error"]


def test_cursors_survive_a_restart_and_new_tools(
    runtime: Runtime, isolated_env: Path, database_url: str
) -> None:
    build_catalog(runtime)
    with TestClient(create_app(runtime)) as client:
        first = client.get("/api/v1/tools?sort=name&limit=3").json()
    again = open_runtime(load_settings(overrides={"database_url": database_url}))
    try:
        again.catalog.add(make_tool("Aardvark"))  # sorts before the cursor: not on page 2
        with TestClient(create_app(again)) as client:
            second = client.get(first["next_url"]).json()
    finally:
        again.close()
    assert [t["slug"] for t in second["tools"]] == expected(runtime, "name")[4:7]
    assert second["count"] == len(CATALOG) + 1


def test_html_page_shows_count_cards_and_pages(catalog: TestClient, runtime: Runtime) -> None:
    html = catalog.get("/tools?sort=name&limit=4").text
    assert '<span class="tools-count">15 tools</span>' in html
    shown = re.findall(r'<li id="tool-([a-z0-9-]+)">', html)
    assert shown == expected(runtime, "name")[:4]
    assert 'class="card tool-card"' in html
    nxt = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', html)
    assert nxt is not None and 'rel="first"' not in html
    page2 = catalog.get(nxt.group(1).replace("&amp;", "&")).text
    assert re.findall(r'<li id="tool-([a-z0-9-]+)">', page2) == expected(runtime, "name")[4:8]
    assert '<a href="/tools?sort=name&amp;limit=4" rel="first">First page</a>' in page2
    back = re.search(r'<a href="([^"]+)" rel="prev">Previous page</a>', page2)
    assert back is not None
    page1 = catalog.get(back.group(1).replace("&amp;", "&")).text
    assert re.findall(r'<li id="tool-([a-z0-9-]+)">', page1) == shown
    assert 'rel="prev"' not in page1
    assert '<meta name="robots" content="noindex">' in page2
    # The form works without JavaScript: a GET form whose fields are the query parameters.
    assert '<form class="filter tools-filter" action="/tools" method="get"' in html
    for name in ("category", "entry", "verdict", "sort"):
        assert f'name="{name}"' in html
    assert '<option value="name" selected>Name</option>' in html
    assert '<input type="hidden" name="limit" value="4">' in html


def test_html_filters_and_empty_states(catalog: TestClient) -> None:
    html = catalog.get("/tools?category=writing&verdict=ship").text
    assert '<span class="tools-count">0 tools</span>' in html
    assert "No tool matches these filters." in html
    assert '<a href="/tools">Clear filters</a>' in html
    assert "<title>AI tools: Ship · Writing &amp; Research · shiporskip</title>" in html
    one = catalog.get("/tools?category=video&verdict=ship").text
    assert '<span class="tools-count">1 tool</span>' in one
    assert '<option value="video" selected>Video</option>' in one


def test_empty_catalog_and_sample_label(sqlite_runtime: Runtime) -> None:
    with TestClient(create_app(sqlite_runtime)) as client:
        html = client.get("/tools").text
        assert "No tools in the catalog yet." in html
        assert client.get("/api/v1/tools").json()["count"] == 0
        sqlite_runtime.catalog.add(make_tool("Sampled", sample=True))
        sqlite_runtime.catalog.add(make_tool("Real"))
        html = client.get("/tools").text
        data = client.get("/api/v1/tools").json()
    assert data["sample_shown"] == 1
    assert "1 of the 2 tools below comes from the sample content" in html
    assert html.count('class="chip chip-sample"') == 1


def test_nav_and_sitemap_point_at_the_index(catalog: TestClient) -> None:
    home = catalog.get("/").text
    assert '<li><a href="/tools">Tools</a></li>' in home
    assert "/tools</loc>" in catalog.get("/sitemaps/1.xml").text


def test_the_page_is_shared_and_kept(catalog: TestClient) -> None:
    first = catalog.get("/tools?verdict=ship")
    second = catalog.get("/tools?verdict=ship", headers={"if-none-match": first.headers["etag"]})
    assert second.status_code == 304


def test_through_the_real_server(sqlite_runtime: Runtime, isolated_env: Path) -> None:
    build_catalog(sqlite_runtime)
    with LiveServer(isolated_env) as server:
        index = httpx.get(server.url("/tools"), timeout=10)
        assert index.status_code == 200
        assert_whole(index)
        assert '<span class="tools-count">15 tools</span>' in index.text
        filtered = httpx.get(server.url("/tools?category=models&verdict=ship&sort=ship-pct"))
        assert filtered.status_code == 200
        assert_whole(filtered)
        assert re.findall(r'<li id="tool-([a-z0-9-]+)">', filtered.text)[:2] == [
            "juliet",
            "november",
        ]
        api = httpx.get(server.url("/api/v1/tools?limit=10"))
        assert_whole(api)
        data = api.json()
        assert data["count"] == 15 and data["shown"] == 10
        rest = httpx.get(server.url(data["next_url"]))
        assert_whole(rest)
        assert len({t["slug"] for t in data["tools"] + rest.json()["tools"]}) == 15
        bad = httpx.get(server.url("/api/v1/tools?cursor=nonsense"))
        assert bad.status_code == 422
        assert_whole(bad)
        assert bad.json() == {
            "error": "The cursor is not one this site made; start again from the first page."
        }
        page = httpx.get(server.url("/tools?entry=cheap"))
        assert page.status_code == 422 and "Unknown entry tier" in page.text
        assert_whole(page)
