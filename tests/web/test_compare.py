"""Compare pages: the JSON matches the HTML, both orders, one canonical URL, bad input, XSS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from shiporskip.domain.pricing_read import reader_usage
from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.web.app import create_app
from tests.factories import make_tool, review_record

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    load_samples_if_empty(sqlite_runtime)
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


def e(text: str) -> str:
    """Text as Jinja's autoescape writes it into the page."""
    return str(escape(text))


def add_panel(
    runtime: Runtime, slug: str, votes: dict[str, tuple[str, int]], text: str = ""
) -> None:
    """Store one current review per critic: critic id -> (verdict, score)."""
    tool_id = runtime.catalog.tool_id(slug)
    records = []
    for critic, (verdict, score) in votes.items():
        record = review_record(
            slug,
            critic,
            verdict,
            score,
            one_liner=text or f"{critic} on {slug}",
            body=text or " ".join(["word"] * 90),
            input_hash=f"{slug}:{critic}",
        )
        records.append((record, tool_id))
    runtime.reviews.add_many(records)


def row_html(html: str, critic: str) -> str:
    start = html.index(f'<tr id="critic-{critic}">')
    return html[start : html.index("</tr>", start)]


def assert_page_matches_json(html: str, data: dict[str, Any]) -> None:
    a, b = data["a"], data["b"]
    assert f"<h1>{e(a['tool']['name'])} vs {e(b['tool']['name'])}</h1>" in html
    for side in (a, b):
        tool = side["tool"]
        for text in (tool["name"], tool["tagline"], tool["description"], tool["entry_label"]):
            assert e(text) in html
        assert e(tool["category"]["name"]) in html
        assert e(side["verdict_line"]) in html
        panel = side["panel"]
        if panel["ship_pct"] is not None:
            assert f"{panel['ship_pct']:.0f}%<small>{panel['tally']}" in html
        assert side["community"]["shown"] in html and side["community"]["note"] in html
        assert e(side["best_for"]) in html
        pricing = side["pricing"]
        assert e(pricing["headline"]) in html and e(pricing["summary"]) in html
        for plan in pricing["plans"]:
            assert e(plan["name"]) in html and plan["cost_text"] in html
        if pricing["plans"]:
            assert (
                f"<strong>{e(pricing['cost_text'])}</strong> at {e(pricing['usage_text'])}" in html
            )
    for row in data["scorecard"]["rows"]:
        chunk = row_html(html, row["critic"])
        assert e(row["critic_name"]) in chunk and e(row["split"]) in chunk
        cells = chunk.split("<td")[1:3]
        for take, cell in zip((row["a"], row["b"]), cells, strict=True):
            if take is None:
                assert "No review" in cell
            else:
                assert f">{take['verdict_label']}</span>" in cell
                assert f'class="score">{take["score"]}<' in cell
                assert e(take["one_liner"]) in cell
    assert e(data["scorecard"]["summary"]) in html
    assert e(data["conclusion"]["text"]) in html
    assert 'href="/methodology#compare"' in html
    assert e(data["pricing"]["sentence"]) in html


@pytest.mark.parametrize(
    "pair",
    [
        "smolvlm2-2b-vs-perplexity-sonar-pro",
        "gpt-4o-vs-claude-sonnet-4",
        "moondream2-vs-smolvlm2-2b",
        "cursor-vs-github-copilot",
        "azure-openai-bing-grounding-vs-gemini-google-search-grounding",
    ],
)
def test_the_json_for_the_page_matches_what_the_html_shows(client: TestClient, pair: str) -> None:
    response = client.get(f"/compare/{pair}")
    assert response.status_code == 200
    data = client.get(f"/api/v1/compare/{pair}").json()
    assert len(data["scorecard"]["rows"]) == 7
    assert_page_matches_json(response.text, data)


def test_smolvlm2_against_perplexity_reads_like_the_reference(client: TestClient) -> None:
    html = client.get("/compare/smolvlm2-2b-vs-perplexity-sonar-pro").text
    assert '<p class="eyebrow">AI tool comparison</p>' in html
    assert "Which one should you ship with?" in html
    assert html.count('<span class="verdict-line verdict-ship">Ship · 5 ship / 2 skip</span>') == 2
    assert html.count("71%") >= 2
    assert "No community votes yet" in html
    assert "Open source" in html and "Paid" in html
    assert "Sample data" in html
    # The search API at its default usage: 10M in x $3/M + 2M out x $15/M + 50,000 x $5/1000.
    assert "<strong>$310 a month</strong>" in html
    assert (
        "SmolVLM2-2B lists no plans to price, so only Perplexity Sonar Pro API has a cost "
        "at a usage."
    ) in html


def test_both_orders_render_as_asked_with_one_canonical_url(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    base = sqlite_runtime.settings.base_url.rstrip("/")
    canonical = f'<link rel="canonical" href="{base}/compare/gpt-4o-vs-smolvlm2-2b">'
    forward = client.get("/compare/gpt-4o-vs-smolvlm2-2b")
    backward = client.get("/compare/smolvlm2-2b-vs-gpt-4o")
    assert "<h1>GPT-4o vs SmolVLM2-2B</h1>" in forward.text
    assert "<h1>SmolVLM2-2B vs GPT-4o</h1>" in backward.text
    assert canonical in forward.text and canonical in backward.text
    one = client.get("/api/v1/compare/gpt-4o-vs-smolvlm2-2b").json()
    two = client.get("/api/v1/compare/smolvlm2-2b-vs-gpt-4o").json()
    assert one["canonical_url"] == two["canonical_url"] == "/compare/gpt-4o-vs-smolvlm2-2b"
    assert (one["a"]["tool"]["slug"], two["a"]["tool"]["slug"]) == ("gpt-4o", "smolvlm2-2b")
    assert one["url"] == "/compare/gpt-4o-vs-smolvlm2-2b"
    assert two["url"] == "/compare/smolvlm2-2b-vs-gpt-4o"
    # The call does not depend on which side a tool is on.
    assert one["conclusion"]["winner"] == two["conclusion"]["winner"]
    assert one["conclusion"]["strength"] == two["conclusion"]["strength"]
    for row_one, row_two in zip(one["scorecard"]["rows"], two["scorecard"]["rows"], strict=True):
        assert (row_one["a"], row_one["b"]) == (row_two["b"], row_two["a"])


def test_a_tool_without_a_panel_says_so_without_operator_commands(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    sqlite_runtime.catalog.add(make_tool("Fresh Tool"))
    html = client.get("/compare/fresh-tool-vs-smolvlm2-2b").text
    data = client.get("/api/v1/compare/fresh-tool-vs-smolvlm2-2b").json()
    assert "No critic has reviewed Fresh Tool yet, so it cannot win or lose here." in html
    assert "shiporskip review" not in html
    assert data["a"]["awaiting_review"] is True and data["b"]["awaiting_review"] is False
    assert data["a"]["verdict_line"] == "Not reviewed yet" and "Not reviewed yet" in html
    assert data["conclusion"]["strength"] == "missing" and data["conclusion"]["winner"] is None
    assert "Fresh Tool has no panel yet, so there is no call." in html
    assert data["a"]["best_for"] == "Developer Tools (paid); no panel yet"
    assert data["scorecard"]["a_higher"] == data["scorecard"]["b_higher"] == 0
    assert_page_matches_json(html, data)


def test_an_incomplete_panel_shows_how_many_critics_reported(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    sqlite_runtime.catalog.add(make_tool("Left Tool"))
    sqlite_runtime.catalog.add(make_tool("Right Tool"))
    six = ["builder", "skeptic", "futurist", "buyer", "operator", "user"]
    add_panel(
        sqlite_runtime,
        "left-tool",
        {c: ("ship" if i < 4 else "skip", 70) for i, c in enumerate(six)},
    )
    add_panel(sqlite_runtime, "right-tool", {c: ("skip", 40) for c in [*six, "scientist"]})
    html = client.get("/compare/left-tool-vs-right-tool").text
    data = client.get("/api/v1/compare/left-tool-vs-right-tool").json()
    assert data["a"]["verdict_line"] == "Ship · 4 ship / 2 skip"
    assert data["b"]["verdict_line"] == "Skip · 0 ship / 7 skip"
    assert "6 of 7 critics reported" in html
    scientist = row_html(html, "scientist")
    assert "No review" in scientist and "—" in scientist
    # 4-2 of six against 0-7: the 95% intervals overlap, and no pairwise majority decides.
    assert data["conclusion"]["strength"] == "tie" and data["conclusion"]["winner"] is None
    assert "6 of 7 critics reported" in data["conclusion"]["text"]
    assert data["a"]["best_for"] == (
        "Developer Tools (paid); shipped by the builder, skeptic, futurist and buyer; "
        "strongest case from the builder (70): “builder on left-tool”"
    )
    assert data["b"]["best_for"] == (
        "Developer Tools (paid); no critic shipped it; highest score from the builder (40): "
        "“builder on right-tool”"
    )
    assert "Left Tool +30" in row_html(html, "builder")
    assert_page_matches_json(html, data)


@pytest.mark.parametrize(
    "path",
    [
        "/compare/nope-vs-gpt-4o",
        "/compare/gpt-4o-vs-nope",
        "/compare/garbage",
        "/compare/-vs-gpt-4o",
        "/compare/gpt-4o-vs-",
        "/compare/gpt-4o-vs-claude-sonnet-4-vs-cursor",
    ],
)
def test_unknown_or_malformed_pairs_are_404(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 404 and "Not found" in page.text
    api = client.get(path.replace("/compare/", "/api/v1/compare/"))
    assert api.status_code == 404 and api.json()["error"]


def test_a_misspelt_slug_suggests_near_matches(client: TestClient) -> None:
    page = client.get("/compare/gpt-4-vs-claude-sonnet-4")
    assert page.status_code == 404
    assert 'href="/tools/gpt-4o"' in page.text
    assert "did you mean gpt-4o" in client.get("/api/v1/compare/gpt-4-vs-cursor").json()["error"]


def test_the_same_tool_twice_is_a_clear_400(client: TestClient) -> None:
    page = client.get("/compare/gpt-4o-vs-gpt-4o")
    assert page.status_code == 400
    assert "pick two different tools" in page.text
    api = client.get("/api/v1/compare/gpt-4o-vs-gpt-4o")
    assert api.status_code == 400 and "pick two different tools" in api.json()["error"]


@pytest.mark.parametrize(
    "usage",
    [
        "abc",
        "50000",
        "50000 bananas",
        "-5 requests",
        "NaN requests",
        "1e999999999999 requests",
        "1e20 requests",
        "2 subscriptions",
        "<script>alert(1)</script> requests",
        "x" * 500,
    ],
)
def test_bad_usage_still_renders_the_page_with_one_sentence(client: TestClient, usage: str) -> None:
    _, message = reader_usage(usage)
    assert message
    page = client.get("/compare/gpt-4o-vs-claude-sonnet-4", params={"usage": usage})
    assert page.status_code == 200
    assert f'role="alert" id="usage-error-compare-live">{e(message)}</p>' in page.text
    assert f'value="{e(usage.strip())}"' in page.text  # the reader can fix what they typed
    assert "<script>alert(1)</script>" not in page.text
    # The prices fall back to the default usage, and say so.
    assert "(the default usage for its plans)" in page.text
    api = client.get("/api/v1/compare/gpt-4o-vs-claude-sonnet-4", params={"usage": usage})
    assert api.status_code == 422 and api.json() == {"error": message}


def test_a_usage_prices_both_tools_at_it(client: TestClient, sqlite_runtime: Runtime) -> None:
    sqlite_runtime.catalog.add(make_tool("Cheap Search"))
    sqlite_runtime.catalog.add(
        make_tool(
            "Dear Search",
            pricing={
                "entry": "paid",
                "plans": [{"name": "Metered", "amount": 35, "unit": "request", "per": 1000}],
            },
        )
    )
    params = {"usage": "50,000 requests"}
    html = client.get("/compare/cheap-search-vs-dear-search", params=params).text
    data = client.get("/api/v1/compare/cheap-search-vs-dear-search", params=params).json()
    assert data["pricing"]["comparable"] and data["pricing"]["same_usage"]
    # The seed check: $5 per 1,000 requests at 50,000 requests a month is $250.
    assert data["a"]["pricing"]["cost_text"] == "$250 a month"
    assert data["a"]["pricing"]["cheapest"]["cost"] == "250.00"
    assert data["b"]["pricing"]["cost_text"] == "$1,750 a month"
    sentence = (
        "At 50,000 requests a month, Cheap Search costs less: $250 a month (API) against "
        "$1,750 a month for Dear Search (Metered)."
    )
    assert data["pricing"]["sentence"] == sentence and sentence in html
    assert "<strong>$250 a month</strong> at 50,000 requests" in html
    assert 'value="50,000 requests"' in html
    assert_page_matches_json(html, data)


def test_comparable_tools_prefill_the_common_default_usage(client: TestClient) -> None:
    data = client.get("/api/v1/compare/gpt-4o-vs-claude-sonnet-4").json()
    assert data["pricing"]["form"]["value"] == "10M input tokens; 2M output tokens"
    assert data["a"]["pricing"]["cost_text"] == "$45 a month"
    assert data["b"]["pricing"]["cost_text"] == "$60 a month"


def test_tools_metering_different_units_get_a_plain_sentence(client: TestClient) -> None:
    html = client.get("/compare/cursor-vs-perplexity-sonar-pro").text
    assert (
        "Cursor prices seats, Perplexity Sonar Pro API prices requests and tokens: there is no "
        "common usage to compare them at."
    ) in html
    data = client.get("/api/v1/compare/cursor-vs-perplexity-sonar-pro").json()
    assert data["pricing"]["comparable"] is False and data["pricing"]["form"]["value"] == ""
    assert data["a"]["pricing"]["usage_text"] == "1 seat"


def test_hostile_maker_text_is_escaped(client: TestClient, sqlite_runtime: Runtime) -> None:
    for slug in ("evil-a", "evil-b"):
        sqlite_runtime.catalog.add(
            make_tool(
                f'<script>alert("{slug}")</script>',
                slug=slug,
                vendor=HOSTILE[:80],
                tagline=HOSTILE,
                description=HOSTILE,
                pricing={
                    "entry": "paid",
                    "note": HOSTILE,
                    "plans": [
                        {"name": "<i>plan</i>", "amount": 1, "unit": "seat"},
                        {"name": '"><img src=x onerror=alert(2)>', "amount": 2, "unit": "seat"},
                    ],
                },
            )
        )
    add_panel(sqlite_runtime, "evil-a", {"builder": ("ship", 60)}, text=HOSTILE)
    for params in ({}, {"usage": HOSTILE}, {"usage": "3 seats"}):
        response = client.get("/compare/evil-a-vs-evil-b", params=params)
        assert response.status_code == 200
        html = response.text
        assert "<script>alert" not in html
        assert "<img src=x" not in html and "<i>plan</i>" not in html
        assert "&lt;script&gt;alert(&#34;evil-a&#34;)&lt;/script&gt;" in html
        assert "&lt;i&gt;plan&lt;/i&gt;" in html


def test_page_is_accessible_and_works_without_javascript(client: TestClient) -> None:
    html = client.get("/compare/gpt-4o-vs-claude-sonnet-4").text
    assert 'href="/static/compare.css"' in html or "/static/compare.css" in html
    form = (
        '<form class="usage-form" action="/compare/gpt-4o-vs-claude-sonnet-4" method="get" '
        'data-live="compare-live">'
    )
    assert form in html and '<div id="compare-live">' in html
    assert '<label for="usage-compare-live">' in html and 'id="usage-compare-live"' in html
    assert html.count("<caption") >= 4
    assert '<th scope="col">Critic</th>' in html and '<th scope="row">Panel verdict</th>' in html
    assert 'role="region" aria-labelledby="scorecard-caption" tabindex="0"' in html
    assert client.get("/static/compare.css").status_code == 200
