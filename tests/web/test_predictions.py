"""The predictions ledger on the site: `/predictions`, `/api/v1/predictions` and each critic's
track record, through the real server (SQLite and PostgreSQL) and in-process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import html5lib
import httpx
import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime, open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from shiporskip.web import predictions as predictions_module
from shiporskip.web.app import create_app
from tests.factories import make_tool, predicting
from tests.live import COMMAND, LiveServer, assert_security_headers, assert_whole, seeded_site

HOSTILE = "<script>alert('ledger')</script> & \"Escape\" will ship by 2025."
LONG_AGO = datetime(2024, 1, 15, tzinfo=UTC)
KEYS = {"id", "tool", "critic", "claim", "made_at", "due", "status", "evidence"}


def seed(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The sample content (labelled sample; its predictions were made when the sample was
    written, in June 2025, so all but one are due) and one model-made prediction, long due,
    whose claim holds markup."""
    overrides = {"data_dir": str(data_dir)}
    if database_url:
        overrides["database_url"] = database_url
    rt = open_runtime(load_settings(overrides=overrides))
    try:
        load_samples_if_empty(rt)
        rt.catalog.add(make_tool("Escape Hatch"))
        record = predicting("escape-hatch", "skeptic", HOSTILE, 6, created_at=LONG_AGO)
        rt.reviews.add(record, rt.catalog.tool_id("escape-hatch"))
        return {"database_url": database_url or ""}
    finally:
        rt.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp(f"ledger-{request.param}")
    with seeded_site(request.param, data_dir, {}, seed) as (server, seeds):
        yield server, seeds


def cli(server: LiveServer, seeds: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command on the server's own database, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
    env["SHIPORSKIP_DATA_DIR"] = str(server.data_dir)
    if seeds["database_url"]:
        env["SHIPORSKIP_DATABASE_URL"] = seeds["database_url"]
    return subprocess.run(
        [str(COMMAND), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def get(server: LiveServer, path: str, status: int = 200) -> httpx.Response:
    response = httpx.get(server.url(path), timeout=60)
    assert response.status_code == status, f"{path}: {response.status_code}\n{response.text[:400]}"
    assert_whole(response)
    assert_security_headers(response)
    return response


def test_the_ledger_through_the_real_server(live: tuple[LiveServer, dict[str, str]]) -> None:
    server, seeds = live
    page = get(server, "/predictions")
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page.content)
    text = page.text
    assert text.rstrip().endswith("</html>")
    # Due first, then open, then resolved.
    due, open_, resolved = (text.index(f'id="ledger-{s}"') for s in ("due", "open", "resolved"))
    assert due < open_ < resolved
    # Maker and model text is escaped, never markup; the due one links to its tool and critic.
    assert "<script>alert" not in text
    mine = get(server, "/predictions?tool=escape-hatch").text
    assert "<script>alert" not in mine
    hostile = "&lt;script&gt;alert(&#39;ledger&#39;)&lt;/script&gt; &amp; &#34;Escape&#34;"
    assert mine.index('id="ledger-due"') < mine.index(hostile)
    assert 'href="/tools/escape-hatch"' in mine and 'href="/critics/skeptic"' in mine
    assert "Sample data" in text[open_:resolved], "sample predictions are labelled"
    assert "No prediction has been resolved yet." in text

    data = get(server, "/api/v1/predictions?status=due&tool=escape-hatch").json()
    assert data["count"] == 1 and data["next"] is None
    entry = data["predictions"][0]
    assert set(entry) >= KEYS
    assert (entry["tool"], entry["critic"], entry["claim"]) == ("escape-hatch", "skeptic", HOSTILE)
    assert (entry["status"], entry["evidence"], entry["sample"]) == ("due", None, False)
    assert entry["made_at"].startswith("2024-01-15") and entry["due"].startswith("2024-07-15")
    refused = get(server, "/api/v1/predictions?status=maybe", 422).json()
    assert refused == {
        "error": "status 'maybe' is not one of open, due, right, wrong, unclear, resolved; "
        "leave it out for all"
    }

    # Every entry once, following `next` a page of two at a time.
    everything = get(server, "/api/v1/predictions").json()
    seen, url = [], "/api/v1/predictions?limit=2"
    while url:
        chunk = get(server, url).json()
        assert len(chunk["predictions"]) <= 2 and chunk["count"] == everything["count"]
        seen += [p["id"] for p in chunk["predictions"]]
        url = chunk["next"]
    assert seen == sorted(seen) and len(seen) == everything["count"] > 2

    critic = get(server, "/critics/skeptic").text
    assert "no resolved predictions yet" in critic
    record = get(server, "/api/v1/critics/skeptic").json()["track_record"]
    assert (record["right"], record["wrong"], record["right_pct"]) == (0, 0, None)

    done = cli(server, seeds, "predictions", "resolve", str(entry["id"]), "--outcome", "right",
               "--evidence", "https://example.com/escape-hatch-shipped")  # fmt: skip
    assert done.returncode == 0, done.stderr
    said = done.stdout.strip()
    assert said == f"Prediction {entry['id']} (skeptic on escape-hatch) resolved: right."

    # The cached critic page follows at once: the ledger is part of the content version.
    critic = get(server, "/critics/skeptic").text
    assert "no resolved predictions yet" not in critic
    assert "1 right, 0 wrong · 95% CI 21–100%" in critic
    record = get(server, "/api/v1/critics/skeptic").json()["track_record"]
    assert (record["right"], record["wrong"], record["right_pct"], record["sample"]) == (
        1,
        0,
        100.0,
        False,
    )
    assert record["right_pct_interval"][0] == pytest.approx(20.65, abs=0.01)
    panel = get(server, "/api/v1/critics").json()
    assert {c["id"]: c["track_record"]["right"] for c in panel["critics"]}["skeptic"] == 1
    ledger = get(server, "/predictions").text
    resolved = ledger.index('id="ledger-resolved"')
    assert ledger.index("&lt;script&gt;") > resolved
    assert 'href="https://example.com/escape-hatch-shipped"' in ledger
    assert get(server, "/api/v1/predictions?status=right").json()["predictions"][0]["evidence"] == (
        "https://example.com/escape-hatch-shipped"
    )
    again = cli(server, seeds, "predictions", "resolve", str(entry["id"]), "--outcome", "wrong",
                "--evidence", "https://example.com/other")  # fmt: skip
    assert again.returncode == 1 and "already resolved as right" in again.stderr
    assert "Traceback" not in again.stderr


# -- in-process ----------------------------------------------------------------------------


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    load_samples_if_empty(sqlite_runtime)
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=later", "status 'later' is not one of open, due, right, wrong, unclear"),
        ("critic=oracle", "no critic is called 'oracle'; the critics are builder,"),
        ("tool=nope", "no tool has the slug 'nope'; use a slug from /tools"),
        ("after=-1", "after must be a whole number from 0 to 2147483647"),
        ("after=99999999999", "after must be a whole number from 0 to 2147483647"),
        ("limit=0", "limit must be a whole number from 1 to 200"),
        ("limit=abc", "limit must be a whole number from 1 to 200"),
    ],
)
def test_bad_filters_are_refused_with_one_sentence(
    client: TestClient, query: str, message: str
) -> None:
    api = client.get(f"/api/v1/predictions?{query}")
    assert api.status_code == 422 and api.json()["error"].startswith(message)
    page = client.get(f"/predictions?{query}")
    assert page.status_code == 422 and "<html" in page.text


def test_the_page_is_bounded_and_continues(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(predictions_module, "SECTION_SIZE", 2)
    page = client.get("/predictions")
    assert page.status_code == 200
    # Two of the sample's 33 due ones, then its one open one; none resolved.
    assert page.text.count('class="card ledger-entry"') == 3
    more = page.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert more.startswith("/predictions?status=due&amp;after=")
    after = client.get(more.replace("&amp;", "&").split("#")[0])
    assert after.status_code == 200 and after.text.count('class="card ledger-entry"') == 2
    assert 'id="ledger-open"' not in after.text, "one status: one section"
    assert '<meta name="robots" content="noindex">' in after.text


def test_the_page_is_linked_and_in_the_sitemap(client: TestClient) -> None:
    assert 'href="/predictions"' in client.get("/").text
    assert "/sitemaps/1.xml</loc>" in client.get("/sitemap.xml").text
    assert "/predictions</loc>" in client.get("/sitemaps/1.xml").text
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/predictions"]["get"]
    assert {"200", "400", "422"} <= set(operation["responses"])
