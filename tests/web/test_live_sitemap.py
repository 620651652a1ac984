"""The sitemap through the real server: an index of files of at most
`sitemap_urls_per_file` URLs, each valid XML, every tool in exactly one of them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from shiporskip.runtime import open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from tests.factories import make_tool
from tests.live import assert_security_headers, assert_whole, seeded_site
from tests.web.test_embeds import add_panel

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
PER_FILE = 10
BASE = "https://verdicts.example.com"


def seed(data_dir: Path, database_url: str | None) -> list[str]:
    """The sample catalog and 40 more tools, 30 of them reviewed; every slug."""
    overrides = {"data_dir": str(data_dir)}
    if database_url:
        overrides["database_url"] = database_url
    rt = open_runtime(load_settings(overrides=overrides))
    try:
        load_samples_if_empty(rt)
        for i in range(40):
            tool = rt.catalog.add(make_tool(f"Extra {i}", category="Image Generation"))
            if i < 30:
                add_panel(rt, tool.slug, ["ship"] * (i % 7) + ["skip"] * (7 - i % 7))
        return [t.slug for t in rt.catalog.list()]
    finally:
        rt.close()


def _xml(http: httpx.Client, path: str) -> ET.Element:
    response = http.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert_whole(response)
    assert_security_headers(response, https=True)  # base_url is https
    return ET.fromstring(response.content)


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_sitemap_index_lists_files_that_hold_every_page_once(
    database: str, tmp_path: Path
) -> None:
    settings = {"sitemap_urls_per_file": str(PER_FILE), "base_url": BASE, "page_cache_mb": "0"}
    with (
        seeded_site(database, tmp_path / "data", settings, seed) as (server, slugs),
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        robots = http.get("/robots.txt").text.splitlines()
        assert f"Sitemap: {BASE}/sitemap.xml" in robots
        index = _xml(http, "/sitemap.xml")
        assert index.tag == f"{SM}sitemapindex"
        locs = [s.findtext(f"{SM}loc") or "" for s in index.findall(f"{SM}sitemap")]
        assert locs == [f"{BASE}/sitemaps/{n}.xml" for n in range(1, len(locs) + 1)]
        urls: list[str] = []
        for loc in locs:
            part = _xml(http, loc.removeprefix(BASE))
            assert part.tag == f"{SM}urlset"
            found = [u.findtext(f"{SM}loc") or "" for u in part.findall(f"{SM}url")]
            assert 1 <= len(found) <= PER_FILE, loc
            urls += found
        assert len(urls) == len(set(urls))
        tools = sorted(u.removeprefix(f"{BASE}/tools/") for u in urls if "/tools/" in u)
        assert tools == sorted(slugs)
        compares = [u for u in urls if "/compare/" in u]
        assert len(compares) > PER_FILE  # the compare pages span several files too
        for page in ("/", "/tools", "/critics", "/critics/builder", "/categories/image"):
            assert f"{BASE}{page}" in urls
        assert http.get("/sitemaps/999.xml").status_code == 404
        server.assert_clean_log()
