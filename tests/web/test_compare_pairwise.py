"""Pairwise picks and the call on compare pages: in-process and through the real server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from shiporskip.runtime import Runtime, open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from shiporskip.web.app import create_app
from shiporskip.web.compare import best_for, compare_page
from tests.factories import make_tool
from tests.live import assert_security_headers, assert_whole, seeded_site
from tests.storage.test_pairwise_store import add_picks, pick_record
from tests.web.test_compare import add_panel

CRITICS = ("builder", "skeptic", "futurist", "buyer", "operator", "user", "scientist")


def seed_picks(runtime: Runtime) -> None:
    """Aider vs Cursor: five critics keep Cursor, one is order-sensitive, one failed."""
    records = [pick_record("aider", "cursor", c, "b", "b") for c in CRITICS[:5]]
    records.append(pick_record("aider", "cursor", "user", "a", "b"))
    records.append(pick_record("aider", "cursor", "scientist", None, None, status="failed"))
    add_picks(runtime, *records)


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    load_samples_if_empty(sqlite_runtime)
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


def test_the_compare_api_and_page_carry_the_picks_in_either_order(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    empty = client.get("/api/v1/compare/aider-vs-cursor").json()["pairwise"]
    assert empty["picks"] == [] and empty["consistency"] is None
    seed_picks(sqlite_runtime)
    for path in ("aider-vs-cursor", "cursor-vs-aider"):
        data = client.get(f"/api/v1/compare/{path}").json()
        pairwise = data["pairwise"]
        assert pairwise["picks"][0] == {
            "critic": "builder",
            "first": "cursor",
            "swapped": "cursor",
            "kept": "cursor",
        }
        assert pairwise["picks"][5] == {
            "critic": "user",
            "first": "aider",
            "swapped": "cursor",
            "kept": None,
        }
        assert pairwise["picks"][6]["kept"] is None
        assert pairwise["consistency"] == pytest.approx(5 / 6)
        html = client.get(f"/compare/{path}").text
        assert (
            "Swap consistency: <strong>5 of 6 critics gave the same answer in both orders" in html
        )
        user = html[html.index('<tr id="pick-user">') :]
        assert "no preference (order-sensitive)" in user[: user.index("</tr>")]
        scientist = html[html.index('<tr id="pick-scientist">') :]
        assert "failed, not counted" in scientist[: scientist.index("</tr>")]
        assert "OpenAI gpt-4o-mini" in html and "api.openai.com" not in html
        assert str(escape(data["conclusion"]["text"])) in html


def test_a_pairwise_majority_decides_a_call_the_intervals_leave_open(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    sqlite_runtime.catalog.add(make_tool("Small Panel"))
    sqlite_runtime.catalog.add(make_tool("Full Panel"))
    add_panel(sqlite_runtime, "small-panel", {"builder": ("ship", 70), "skeptic": ("skip", 40)})
    votes = {c: ("ship" if i < 5 else "skip", 60) for i, c in enumerate(CRITICS)}
    add_panel(sqlite_runtime, "full-panel", votes)
    call = client.get("/api/v1/compare/small-panel-vs-full-panel").json()["conclusion"]
    assert call["strength"] == "tie" and call["winner"] is None
    assert "more Ship votes" not in call["text"] and "overlap" in call["text"]
    add_picks(
        sqlite_runtime,
        *(pick_record("full-panel", "small-panel", c, "b", "b") for c in CRITICS[:4]),
    )
    call = client.get("/api/v1/compare/small-panel-vs-full-panel").json()["conclusion"]
    assert (call["winner"], call["strength"]) == ("small-panel", "lean")
    assert "4 of 4 critics picked Small Panel in both orders" in call["text"]


def test_tools_of_different_categories_do_different_jobs(client: TestClient) -> None:
    call = client.get("/api/v1/compare/gpt-4o-vs-perplexity-sonar-pro").json()["conclusion"]
    assert call["strength"] == "different" and call["winner"] is None
    assert call["text"].startswith("They do different jobs")


def test_no_two_sample_tools_in_a_comparison_share_their_best_for_text(
    sqlite_runtime: Runtime,
) -> None:
    """Comparisons are published between reviewed tools; a tool without a panel says only
    that ("no panel yet"), which is the same words for every such tool of a category."""
    load_samples_if_empty(sqlite_runtime)
    critics = sqlite_runtime.critics()
    lines = {}
    for tool in sqlite_runtime.catalog.list():
        current, _ = sqlite_runtime.reviews.current(tool.slug)
        if current:
            lines[tool.slug] = best_for(tool, critics, current)
    assert len(lines) >= 10
    for x, y in itertools.combinations(sorted(lines), 2):
        assert lines[x] != lines[y], (x, y, lines[x])


def test_two_tools_every_critic_shipped_still_read_differently(
    sqlite_runtime: Runtime,
) -> None:
    """Cursor and Zed both had "shipped by all 7 critics" and so the same line."""
    for name in ("Editor One", "Editor Two"):
        sqlite_runtime.catalog.add(make_tool(name))
    add_panel(sqlite_runtime, "editor-one", {c: ("ship", 60 + i) for i, c in enumerate(CRITICS)})
    add_panel(sqlite_runtime, "editor-two", {c: ("ship", 90 - i) for i, c in enumerate(CRITICS)})
    page = compare_page(sqlite_runtime, "editor-one", "editor-two", None)
    assert page.a.best_for != page.b.best_for
    assert page.a.best_for.endswith(
        "strongest case from the scientist (66): “scientist on editor-one”"
    )
    assert page.b.best_for.endswith("strongest case from the builder (90): “builder on editor-two”")


# -- through the real server ---------------------------------------------------------------


def seed(data_dir: Path, database_url: str | None) -> None:
    overrides = {"data_dir": str(data_dir)}
    if database_url:
        overrides["database_url"] = database_url
    rt = open_runtime(load_settings(overrides=overrides))
    try:
        load_samples_if_empty(rt)
        seed_picks(rt)
    finally:
        rt.close()


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_real_server_shows_the_picks_on_the_page_and_in_the_api(
    database: str, tmp_path: Path
) -> None:
    with (
        seeded_site(database, tmp_path / "data", {}, seed) as (server, _),
        httpx.Client(base_url=server.base_url, timeout=60) as http,
    ):
        page = http.get("/compare/cursor-vs-aider")
        assert page.status_code == 200
        assert_whole(page)
        assert_security_headers(page)
        assert '<section id="pairwise"' in page.text
        assert "Swap consistency: <strong>5 of 6 critics" in page.text
        assert '<tr id="pick-builder">' in page.text
        api = http.get("/api/v1/compare/aider-vs-cursor")
        assert api.status_code == 200
        pairwise = api.json()["pairwise"]
        assert [p["kept"] for p in pairwise["picks"]] == ["cursor"] * 5 + [None, None]
        assert pairwise["consistency"] == pytest.approx(5 / 6)
        method = http.get("/methodology").text
        assert "5 of 6 critic answers on 1 comparison were the same in both orders" in method
        server.assert_clean_log()
