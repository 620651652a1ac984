"""The Atom feed, the sitemap and robots.txt: valid XML that agrees with the pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime, open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from shiporskip.web import feeds
from shiporskip.web.app import create_app
from shiporskip.web.feeds import FEED_SIZE, verdicts
from tests.factories import make_tool
from tests.web.test_embeds import HOSTILE, add_panel

BASE = "https://verdicts.example.com"
A = "{http://www.w3.org/2005/Atom}"
XHTML = "{http://www.w3.org/1999/xhtml}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def site_runtime(isolated_env: Path) -> Iterator[Runtime]:
    rt = open_runtime(load_settings(overrides={"base_url": BASE + "/"}))
    load_samples_if_empty(rt)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def client(site_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(site_runtime)) as c:
        yield c


def parse_feed(client: TestClient) -> ET.Element:
    response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    assert found is not None, path
    return found.text or ""


def entries_by_slug(feed: ET.Element) -> dict[str, ET.Element]:
    out = {}
    for entry in feed.findall(f"{A}entry"):
        link = entry.find(f"{A}link[@rel='alternate']")
        assert link is not None
        out[(link.get("href") or "").rsplit("/", 1)[-1]] = entry
    return out


def parse_time(value: str) -> datetime:
    """An RFC 3339 time; a naive one (SQLite) is UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the feed ------------------------------------------------------------------------------


def test_feed_is_atom_with_the_required_elements(client: TestClient) -> None:
    feed = parse_feed(client)
    assert feed.tag == f"{A}feed"
    assert text(feed, f"{A}id") == f"{BASE}/feed.xml"
    assert text(feed, f"{A}title")
    self_link = feed.find(f"{A}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == f"{BASE}/feed.xml"
    assert text(feed, f"{A}author/{A}name")
    updated = [parse_time(text(e, f"{A}updated")) for e in feed.findall(f"{A}entry")]
    assert parse_time(text(feed, f"{A}updated")) == max(updated)
    for entry in feed.findall(f"{A}entry"):
        for tag in ("id", "title", "updated", "summary", "author/" + A + "name"):
            assert text(entry, A + tag), tag


def test_feed_entries_match_the_panels(client: TestClient, site_runtime: Runtime) -> None:
    entries = entries_by_slug(parse_feed(client))
    reviewed = [v.tool.slug for v in verdicts(site_runtime, site_runtime.critics())]
    assert sorted(entries) == sorted(reviewed) and len(entries) == 15
    for slug, entry in entries.items():
        data = client.get(f"/api/v1/tools/{slug}").json()
        panel = data["panel"]
        title = f"{data['tool']['name']}: {panel['verdict_label']} {panel['tally']}"
        assert text(entry, f"{A}title") == title
        reviewed_at = parse_time(data["reviewed_at"]).replace(microsecond=0)
        assert parse_time(text(entry, f"{A}updated")) == reviewed_at
        summary = text(entry, f"{A}summary")
        assert summary.startswith("Sample review")
        assert data["tool"]["tagline"] in summary
        items = entry.findall(f"{A}content/{XHTML}div/{XHTML}ul/{XHTML}li")
        assert len(items) == len(data["reviews"])
        content_element = entry.find(f"{A}content")
        assert content_element is not None
        content = ET.tostring(content_element, encoding="unicode")
        for review in data["reviews"]:
            assert review["one_liner"].replace("&", "&amp;") in content


def test_newest_verdict_first_and_only_samples_labelled(
    client: TestClient, site_runtime: Runtime
) -> None:
    site_runtime.catalog.add(make_tool("Fresh Tool"))
    add_panel(site_runtime, "fresh-tool", ["ship"] * 6 + ["skip"], at=datetime.now(UTC))
    first = parse_feed(client).findall(f"{A}entry")[0]
    assert text(first, f"{A}title") == "Fresh Tool: Ship 6-1"
    assert "Sample" not in text(first, f"{A}summary")
    assert "7 of 7 critics reported" in text(first, f"{A}summary")


def test_a_re_review_gets_a_new_entry_id(client: TestClient, site_runtime: Runtime) -> None:
    site_runtime.catalog.add(make_tool("Fresh Tool"))
    add_panel(site_runtime, "fresh-tool", ["ship"] * 7)
    before = text(entries_by_slug(parse_feed(client))["fresh-tool"], f"{A}id")
    add_panel(site_runtime, "fresh-tool", ["skip"] * 7)
    entry = entries_by_slug(parse_feed(client))["fresh-tool"]
    assert text(entry, f"{A}id") != before
    assert text(entry, f"{A}title") == "Fresh Tool: Skip 0-7"


def test_feed_holds_the_newest_fifty(client: TestClient, site_runtime: Runtime) -> None:
    start = datetime.now(UTC) + timedelta(days=1)
    for i in range(FEED_SIZE + 2):
        slug = f"bulk-{i:02d}"
        site_runtime.catalog.add(make_tool(f"Bulk {i:02d}", slug=slug))
        add_panel(site_runtime, slug, ["ship"], at=start + timedelta(minutes=i))
    entries = parse_feed(client).findall(f"{A}entry")
    assert len(entries) == FEED_SIZE == 50
    assert text(entries[0], f"{A}title") == f"Bulk {FEED_SIZE + 1:02d}: Ship 1-0"


def test_hostile_text_is_escaped_in_the_feed(client: TestClient, site_runtime: Runtime) -> None:
    site_runtime.catalog.add(make_tool(HOSTILE[:80], slug="hostile", tagline=HOSTILE[:140]))
    add_panel(site_runtime, "hostile", ["ship"] * 7, one_liner=HOSTILE)
    raw = client.get("/feed.xml").text
    assert "<script" not in raw and "<img" not in raw
    entry = entries_by_slug(parse_feed(client))["hostile"]
    assert text(entry, f"{A}title").startswith(HOSTILE[:80])
    spans = entry.findall(f".//{XHTML}span")
    assert spans and all(HOSTILE in (s.text or "") for s in spans)


# -- the sitemap ---------------------------------------------------------------------------


def _xml(client: TestClient, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.content)


def sitemap_files(client: TestClient) -> list[str]:
    """The files the sitemap index lists, as paths."""
    root = _xml(client, "/sitemap.xml")
    assert root.tag == f"{SM}sitemapindex"
    locs = [text(s, f"{SM}loc") for s in root.findall(f"{SM}sitemap")]
    assert all(loc.startswith(f"{BASE}/sitemaps/") for loc in locs)
    return [loc.removeprefix(BASE) for loc in locs]


def sitemap(client: TestClient) -> dict[str, str | None]:
    """Every URL of every sitemap file (each listed once) with its lastmod."""
    out: dict[str, str | None] = {}
    for path in sitemap_files(client):
        root = _xml(client, path)
        assert root.tag == f"{SM}urlset"
        for url in root.findall(f"{SM}url"):
            lastmod = url.find(f"{SM}lastmod")
            loc = text(url, f"{SM}loc")
            assert loc not in out, loc
            out[loc] = lastmod.text if lastmod is not None else None
    return out


def test_sitemap_lists_every_canonical_page(client: TestClient, site_runtime: Runtime) -> None:
    urls = sitemap(client)
    assert all(u.startswith(BASE + "/") for u in urls)
    tools = site_runtime.catalog.list()
    expected = {BASE + "/", f"{BASE}/tools", f"{BASE}/critics", f"{BASE}/categories"}
    expected |= {f"{BASE}/methodology", f"{BASE}/predictions"}
    expected |= {f"{BASE}/tools/{t.slug}" for t in tools}
    expected |= {f"{BASE}/critics/{c.id}" for c in site_runtime.critics()}
    expected |= {f"{BASE}/categories/{t.category}" for t in tools}
    assert expected <= set(urls)
    reviewed = {
        v.tool.slug: v.tool.category for v in verdicts(site_runtime, site_runtime.critics())
    }
    compares = [u.removeprefix(f"{BASE}/compare/") for u in urls if "/compare/" in u]
    assert compares
    for pair in compares:
        a, b = pair.split("-vs-")
        assert a < b and a in reviewed and b in reviewed and reviewed[a] == reviewed[b]
    assert set(urls) - expected - {f"{BASE}/compare/{p}" for p in compares} == set()


def test_sitemap_lastmod_is_the_review_date(client: TestClient) -> None:
    urls = sitemap(client)
    reviewed_at = client.get("/api/v1/tools/cursor").json()["reviewed_at"]
    assert urls[f"{BASE}/tools/cursor"] == reviewed_at[:10]
    assert urls[f"{BASE}/tools/aider"] is None  # not reviewed: no date to claim
    assert urls[f"{BASE}/methodology"] is None


def test_compare_pages_are_capped_per_tool(
    client: TestClient, site_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        slug = f"peer-{i}"
        site_runtime.catalog.add(make_tool(f"Peer {i}", slug=slug, category="Image Generation"))
        add_panel(site_runtime, slug, ["ship"] * (i + 1) + ["skip"] * (6 - i))
    monkeypatch.setattr(feeds, "COMPARES_PER_TOOL", 2)
    paths = {u.removeprefix(BASE) for u in sitemap(client) if u.startswith(f"{BASE}/compare/peer-")}
    # Each tool pairs with the two best-rated peers: peer-4 and peer-3 (or peer-2 for those).
    assert paths == {
        "/compare/peer-3-vs-peer-4",
        "/compare/peer-2-vs-peer-4",
        "/compare/peer-2-vs-peer-3",
        "/compare/peer-1-vs-peer-4",
        "/compare/peer-1-vs-peer-3",
        "/compare/peer-0-vs-peer-4",
        "/compare/peer-0-vs-peer-3",
    }


def test_sitemap_files_hold_at_most_the_configured_number_of_urls(isolated_env: Path) -> None:
    settings = load_settings(overrides={"base_url": BASE, "sitemap_urls_per_file": 10})
    runtime = open_runtime(settings)
    try:
        load_samples_if_empty(runtime)
        with TestClient(create_app(runtime)) as small:
            files = sitemap_files(small)
            sizes = [len(_xml(small, f).findall(f"{SM}url")) for f in files]
            urls = sitemap(small)
        assert files == [f"/sitemaps/{n}.xml" for n in range(1, len(files) + 1)]
        assert max(sizes) == 10 and min(sizes) >= 1 and sum(sizes) == len(urls)
        tools = [u for u in urls if u.startswith(f"{BASE}/tools/")]
        assert sorted(tools) == sorted(f"{BASE}/tools/{t.slug}" for t in runtime.catalog.list())
    finally:
        runtime.close()


def test_an_unknown_sitemap_file_is_404(client: TestClient) -> None:
    for path in ("/sitemaps/0.xml", "/sitemaps/999.xml", "/sitemaps/1.txt", "/sitemaps/x.xml"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "/sitemap.xml lists them" in response.text


def test_robots_points_at_the_sitemap(client: TestClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert f"Sitemap: {BASE}/sitemap.xml" in lines
    assert "Disallow: /go/" in lines and "User-agent: *" in lines
