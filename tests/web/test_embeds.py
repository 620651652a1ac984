"""Badge, widget and click-through: what they show matches the API, and loads are counted."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.storage.embeds import EmbedKind, EmbedStore
from shiporskip.web.app import create_app
from shiporskip.web.embeds import FILLS, embed_stats
from tests.factories import make_tool, review_record

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>&amp;<img src=x onerror=alert(1)>'
BODY = " ".join(["word"] * 90)


def add_panel(
    runtime: Runtime,
    slug: str,
    verdicts: Sequence[str],
    *,
    at: datetime | None = None,
    one_liner: str = "A scripted one-liner.",
) -> None:
    """Store one current review per critic, in panel order, with the given verdicts."""
    critics = runtime.critics()
    tool_id = runtime.catalog.tool_id(slug)
    rows = []
    for critic, verdict in zip(critics, verdicts, strict=False):
        record = review_record(
            slug,
            critic.id,
            verdict,
            70 if verdict == "ship" else 30,
            one_liner=f"{critic.id}: {one_liner}",
            body=BODY,
            input_hash=f"{slug}:{critic.id}",
            created_at=at or datetime.now(UTC),
        )
        rows.append((record, tool_id))
    runtime.reviews.add_many(rows)


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    load_samples_if_empty(sqlite_runtime)
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


def counts(runtime: Runtime, slug: str) -> dict[EmbedKind, int]:
    return EmbedStore(runtime.engine).totals(slug).by_kind


def badge_texts(svg: str) -> tuple[ET.Element, list[str]]:
    root = ET.fromstring(svg)
    return root, [t.text or "" for t in root.iter(f"{SVG}text")]


# -- the badge -----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["claude-sonnet-4", "paligemma", "aider"])
def test_badge_matches_the_tool_api(client: TestClient, slug: str) -> None:
    response = client.get(f"/badge/{slug}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert "max-age=300" in response.headers["cache-control"]
    root, texts = badge_texts(response.text)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert (root.get("width"), root.get("height")) == ("220", "40")
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == root.get("aria-label")
    data = client.get(f"/api/v1/tools/{slug}").json()
    panel = data["panel"]
    assert texts[0] == "shiporskip"
    assert data["tool"]["name"] in (title.text or "")
    if panel["reported"]:
        assert texts[1] == f"{panel['verdict_label']} {panel['tally']}"
        assert texts[2].startswith(f"score {panel['score10']:.1f}/10")
        assert texts[2].endswith("· sample") == data["tool"]["sample"]
    else:
        assert texts[1:] == ["Not reviewed yet"]
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert FILLS[panel["verdict"]] in fills


def test_split_panel_has_its_own_label_and_colour(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    sqlite_runtime.catalog.add(make_tool("Even Tool"))
    add_panel(sqlite_runtime, "even-tool", ["ship", "skip", "ship", "skip"])
    root, texts = badge_texts(client.get("/badge/even-tool.svg").text)
    assert texts[1] == "Split 2-2" and texts[2] == "score 5.0/10"
    assert FILLS["split"] in {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert client.get("/api/v1/tools/even-tool").json()["panel"]["verdict_label"] == "Split"


def test_unknown_slug_gets_a_404_badge(client: TestClient) -> None:
    response = client.get("/badge/no-such-tool.svg")
    assert response.status_code == 404
    assert response.headers["content-type"] == "image/svg+xml"
    _, texts = badge_texts(response.text)
    assert "Unknown tool" in texts


def test_hostile_names_are_escaped_in_badge_and_widget(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    sqlite_runtime.catalog.add(make_tool(HOSTILE[:80], slug="hostile"))
    add_panel(sqlite_runtime, "hostile", ["ship"] * 7)
    svg = client.get("/badge/hostile.svg").text
    assert "<script" not in svg and "<img" not in svg
    root, _ = badge_texts(svg)
    title = root.find(f"{SVG}title")
    assert title is not None and (title.text or "").startswith(HOSTILE[:80])
    html = client.get("/embed/hostile").text
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


# -- the widget ----------------------------------------------------------------------------


def test_widget_shows_the_verdict_and_may_be_framed(client: TestClient) -> None:
    response = client.get("/embed/claude-sonnet-4")
    assert response.status_code == 200
    panel = client.get("/api/v1/tools/claude-sonnet-4").json()["panel"]
    html = response.text
    assert "Claude Sonnet 4" in html
    assert f">{panel['verdict_label']}<" in html and f">{panel['tally']}<" in html
    assert f"score {panel['score10']:.1f}/10" in html
    assert "Sample review" in html
    assert 'href="/go/claude-sonnet-4?ref=embed" target="_blank" rel="noopener"' in html
    assert "x-frame-options" not in response.headers
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors *" in csp and "default-src 'none'" in csp
    assert "<script" not in html and "style=" not in html
    assert 'href="/static/embed.css"' in html
    assert client.get("/static/embed.css").status_code == 200


def test_widget_for_unknown_or_unreviewed_tools(client: TestClient) -> None:
    missing = client.get("/embed/no-such-tool")
    assert missing.status_code == 404 and "Unknown tool" in missing.text
    assert "frame-ancestors *" in missing.headers["content-security-policy"]
    assert "Not reviewed yet" in client.get("/embed/aider").text


# -- counting ------------------------------------------------------------------------------


def test_loads_are_counted_except_own_pages_and_crawlers(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    client.get("/badge/cursor.svg", headers={"referer": "https://blog.example.com/post"})
    client.get("/badge/cursor.svg", headers={"user-agent": "a second reader"})
    client.get("/embed/cursor")
    client.get("/badge/cursor.svg", headers={"referer": "http://testserver/tools/cursor"})
    client.get("/badge/cursor.svg", headers={"user-agent": "Mozilla/5.0 (compatible; Googlebot)"})
    client.get("/badge/no-such-tool.svg")
    assert counts(sqlite_runtime, "cursor") == {EmbedKind.badge_load: 2, EmbedKind.embed_load: 1}


def test_clicks_are_counted_and_redirect_to_the_tool_page(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    for n, ref in enumerate(("badge", "embed", "embed")):
        reader = {"user-agent": f"reader {n}"}  # one visitor counts once a day
        response = client.get(f"/go/cursor?ref={ref}", follow_redirects=False, headers=reader)
        assert response.status_code == 303
        assert response.headers["location"] == "/tools/cursor"
    assert counts(sqlite_runtime, "cursor") == {EmbedKind.badge_click: 1, EmbedKind.embed_click: 2}
    assert client.get("/go/cursor?ref=badge").status_code == 200  # lands on the tool page


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/badge/cursor.svg", 200, "image/svg+xml"),
        ("/embed/cursor", 200, "text/html"),
        ("/go/cursor?ref=badge", 303, None),
        ("/badge/no-such-tool.svg", 404, "image/svg+xml"),
        ("/go/no-such-tool?ref=badge", 404, "text/html"),
    ],
)
def test_head_answers_like_the_get_and_counts_nothing(
    client: TestClient, sqlite_runtime: Runtime, path: str, status: int, kind: str | None
) -> None:
    """A link checker's HEAD gets the GET's status and headers, no body, and no count."""
    head = client.head(path, follow_redirects=False)
    assert head.status_code == status and head.content == b""
    if kind is not None:
        assert head.headers["content-type"].startswith(kind)
    get = client.get(path, follow_redirects=False, headers={"user-agent": "Googlebot"})
    assert head.headers.get("content-length") == get.headers.get("content-length")
    assert counts(sqlite_runtime, "cursor") == {}


@pytest.mark.parametrize("query", ["", "?ref=", "?ref=BADGE", "?ref=" + "x" * 3000, "?ref[]=badge"])
def test_garbage_refs_redirect_without_counting(
    client: TestClient, sqlite_runtime: Runtime, query: str
) -> None:
    response = client.get(f"/go/cursor{query}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/tools/cursor"
    assert counts(sqlite_runtime, "cursor") == {}


def test_a_nul_in_the_ref_is_refused_without_counting(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    """Every query string with a NUL is refused (`web/guard.py`): no parameter takes one."""
    response = client.get("/go/cursor?ref=evil%00", follow_redirects=False)
    assert response.status_code == 400
    assert "NUL character" in response.text
    assert counts(sqlite_runtime, "cursor") == {}


def test_go_to_an_unknown_tool_is_a_404_that_counts_nothing(client: TestClient) -> None:
    response = client.get("/go/claude-sonet-4?ref=badge", follow_redirects=False)
    assert response.status_code == 404
    assert 'href="/tools/claude-sonnet-4"' in response.text


def test_counts_api_reports_totals_and_the_last_30_days(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    store = EmbedStore(sqlite_runtime.engine)
    store.record("cursor", EmbedKind.badge_load, day=date(2020, 1, 1), n=40)
    client.get("/badge/cursor.svg")
    client.get("/embed/cursor")
    client.get("/go/cursor?ref=embed")
    body = client.get("/api/v1/tools/cursor/embeds").json()
    assert body["slug"] == "cursor"
    assert body["total"] == {
        "badge_loads": 41,
        "embed_loads": 1,
        "badge_clicks": 0,
        "embed_clicks": 1,
        "clicks": 1,
    }
    assert body["last_30_days"]["badge_loads"] == 1
    assert len(body["days"]) == 1 and body["days"][0]["day"] == body["window_end"]
    missing = client.get("/api/v1/tools/no-such-tool/embeds")
    assert missing.status_code == 404 and "no tool" in missing.json()["error"]


def test_window_is_thirty_days_ending_today(sqlite_runtime: Runtime) -> None:
    load_samples_if_empty(sqlite_runtime)
    store = EmbedStore(sqlite_runtime.engine)
    store.record("cursor", EmbedKind.embed_load, day=date(2025, 5, 31))
    store.record("cursor", EmbedKind.embed_load, day=date(2025, 6, 1), n=3)
    stats = embed_stats(sqlite_runtime, "cursor", today=date(2025, 6, 30))
    assert stats.window_start == date(2025, 6, 1)
    assert stats.last_30_days.embed_loads == 3 and stats.total.embed_loads == 4


def test_counts_api_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/tools/{slug}/embeds" in paths
    assert not any(p.startswith(("/badge", "/embed", "/go")) for p in paths)
