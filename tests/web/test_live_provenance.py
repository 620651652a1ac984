"""Provenance and verdict history through the real server, on SQLite and PostgreSQL.

A re-review whose call fails must not hide behind the older review: the tool page and the
API say "1 from an earlier run (date, model)" and mark the card; a re-review that flips the
verdict shows in the page's history, the history API and the feed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shiporskip.runtime import open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from tests.factories import review_record
from tests.live import LiveServer, assert_security_headers, assert_whole, seeded_site

SLUG = "cursor"
SPEC = "openai-compatible:Llama 3.1 8B@http://10.0.0.5:8000/v1"
LABEL = "Llama 3.1 8B (local)"
# After the sample reviews, which are written at the real time of seeding: history is kept
# in the order of writing.
DAY = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
LATER = DAY + timedelta(days=2)
EARLIER_NOTE = f"1 from an earlier run ({DAY.date().isoformat()}, {LABEL})"
FLIP_LINE = f"Ship 4-3 → Skip 3-4 on {LATER.date().isoformat()}, re-review with {LABEL}"


def seed(data_dir: Path, database_url: str | None) -> list[str]:
    overrides = {"data_dir": str(data_dir)}
    if database_url:
        overrides["database_url"] = database_url
    rt = open_runtime(load_settings(overrides=overrides))
    try:
        load_samples_if_empty(rt)
        critics = [c.id for c in rt.critics()]
        tool_id = rt.catalog.tool_id(SLUG)

        def add(critic: str, verdict: str | None, when: datetime) -> None:
            record = review_record(
                SLUG,
                critic,
                verdict,
                80 if verdict == "ship" else 30,
                status="ok" if verdict else "failed",
                provider="openai-compatible",
                model=SPEC,
                input_hash=f"{critic}:{when.isoformat()}",
                created_at=when,
                error=None if verdict else "timed out after 60 s calling http://10.0.0.5:8000",
            )
            rt.reviews.add(record, tool_id)

        for i, critic in enumerate(critics):  # a model panel: Ship 4-3
            add(critic, "ship" if i < 4 else "skip", DAY + timedelta(minutes=i))
        add(critics[3], "skip", LATER)  # a re-review flips it: Skip 3-4
        add(critics[0], None, LATER + timedelta(minutes=1))  # a re-review that failed
        return critics
    finally:
        rt.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, httpx.Client, list[str]]]:
    data_dir = tmp_path_factory.mktemp(f"provenance-{request.param}")
    with seeded_site(request.param, data_dir, {}, seed) as (server, critics):
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            yield server, client, critics
        server.assert_clean_log()


def get(client: httpx.Client, path: str, status: int = 200) -> httpx.Response:
    response = client.get(path)
    assert response.status_code == status, (path, response.text[:300])
    assert_whole(response)
    assert_security_headers(response)
    return response


def test_the_tool_page_says_which_review_is_from_an_earlier_run(
    site: tuple[LiveServer, httpx.Client, list[str]],
) -> None:
    _, client, _ = site
    html = get(client, f"/tools/{SLUG}").text
    assert f"7 of 7 critics reported — {EARLIER_NOTE}" in html
    assert "earlier run</span>" in html
    assert f"the re-review on {LATER.date().isoformat()} failed (timed out)" in html
    assert f"Written by {LABEL} on {LATER.date().isoformat()}" in html  # a card's model, date
    assert FLIP_LINE in html
    assert "10.0.0.5" not in html
    assert "sample content" not in html.split('id="reviews-heading"')[1].split("</section>")[0]


def test_the_api_gives_the_same_provenance(
    site: tuple[LiveServer, httpx.Client, list[str]],
) -> None:
    _, client, critics = site
    page = get(client, f"/api/v1/tools/{SLUG}").json()
    assert page["panel"]["tally"] == "3-4"  # existing fields stay
    provenance = page["provenance"]
    assert EARLIER_NOTE in provenance["status"]
    assert provenance["models"] == [LABEL]
    assert [e["critic"] for e in provenance["earlier_runs"]] == [critics[0]]
    assert provenance["earlier_runs"][0]["failure_reason"] == "timed out"
    marked = [r["critic"] for r in page["reviews"] if r["earlier_run"]]
    assert marked == [critics[0]]
    assert "10.0.0.5" not in str(page)


def test_the_history_api_lists_each_change_oldest_first(
    site: tuple[LiveServer, httpx.Client, list[str]],
) -> None:
    _, client, _ = site
    body = get(client, f"/api/v1/tools/{SLUG}/history").json()
    assert set(body) == {"tool", "history"}
    assert body["tool"]["slug"] == SLUG
    keys = {"at", "verdict", "tally", "ship_pct", "reported", "models", "reason"}
    assert all(set(entry) == keys for entry in body["history"])
    first, *_, before, last = body["history"]
    assert (first["reason"], first["models"]) == (
        "sample content",
        ["sample content written by the shiporskip team"],
    )
    assert (before["verdict"], before["tally"]) == ("ship", "4-3")
    assert (last["verdict"], last["tally"], last["reported"]) == ("skip", "3-4", 7)
    assert last["ship_pct"] == pytest.approx(300 / 7)
    assert last["at"].startswith(LATER.strftime("%Y-%m-%dT10:00:00"))
    assert last["reason"] == f"re-review with {LABEL}"
    times = [e["at"] for e in body["history"]]
    assert times == sorted(times)
    missing = get(client, "/api/v1/tools/no-such-tool/history", 404).json()
    assert set(missing) == {"error"} and "no-such-tool" in missing["error"]


def test_the_feed_has_an_entry_for_the_flip(
    site: tuple[LiveServer, httpx.Client, list[str]],
) -> None:
    _, client, _ = site
    feed = ET.fromstring(get(client, "/feed.xml").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert "Cursor: verdict changed, Ship 4-3 → Skip 3-4" in titles
