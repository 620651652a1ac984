"""The pricing read on tool pages: a GET form, costs per plan, and the same numbers as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from shiporskip.domain.pricing_read import NOT_COVERED, reader_usage
from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.web.app import create_app
from tests.factories import make_tool
from tests.live import LiveServer, assert_whole


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    load_samples_if_empty(sqlite_runtime)
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


def e(text: str) -> str:
    return str(escape(text))


def region(html: str) -> str:
    """The part of the page that site.js swaps in place."""
    start = html.index('<div id="pricing-read">')
    return html[start : html.index("</section>", start)]


@pytest.mark.parametrize(
    "slug", ["tavily", "github-copilot", "perplexity-sonar-pro", "gemini-google-search-grounding"]
)
def test_the_read_in_the_html_matches_the_json(client: TestClient, slug: str) -> None:
    html = client.get(f"/tools/{slug}").text
    data = client.get(f"/api/v1/tools/{slug}").json()["pricing_read"]
    read = region(html)
    assert f"Priced at <strong>{e(data['read']['usage_text'])}</strong> a month" in read
    assert "(the default usage for its plans)" in read and data["read"]["default_usage"]
    for plan in data["read"]["plans"]:
        assert e(plan["name"]) in read and e(plan["cost_text"]) in read
        if plan["reason"] and plan["covers"]:
            assert f"Not priced: {e(plan['reason'])}" in read
        elif plan["reason"]:
            assert e(plan["reason"][1:]) in read and plan["cost_text"] == NOT_COVERED
        for limit in plan["limits"]:
            assert e(limit) in read
    assert e(data["read"]["summary"]) in read
    assert f'value="{e(data["form"]["value"])}"' in html


def test_seed_check_on_the_tool_page(client: TestClient, sqlite_runtime: Runtime) -> None:
    sqlite_runtime.catalog.add(make_tool("Search Thing"))
    html = client.get("/tools/search-thing").text
    assert "Priced at <strong>50,000 requests</strong> a month" in html
    assert "Cheapest at this usage: API at $250 a month." in html
    data = client.get("/api/v1/tools/search-thing", params={"usage": "10k requests"}).json()
    assert data["pricing_read"]["read"]["cost_text"] == "$50 a month"
    assert data["pricing_read"]["read"]["default_usage"] is False
    page = client.get("/tools/search-thing", params={"usage": "10k requests"}).text
    assert "Priced at <strong>10,000 requests</strong> a month." in page
    assert 'value="10k requests"' in page


def test_the_form_works_without_javascript(client: TestClient) -> None:
    html = client.get("/tools/cursor").text
    form = '<form class="usage-form" action="/tools/cursor" method="get" data-live="pricing-read">'
    assert form in html
    assert '<label for="usage-pricing-read">Monthly usage</label>' in html
    assert 'name="usage"' in html and '<button type="submit">' in html
    assert "/static/compare.css" in html
    teams = client.get("/tools/cursor", params={"usage": "5 seats"}).text
    assert "$200 a month" in region(teams)  # Teams: $40 per seat


def test_open_source_tools_have_no_form(client: TestClient) -> None:
    html = client.get("/tools/smolvlm2-2b").text
    assert 'data-live="pricing-read"' not in html
    data = client.get("/api/v1/tools/smolvlm2-2b").json()["pricing_read"]["read"]
    assert data["plans"] == [] and data["summary"] == (
        "No plans to price: SmolVLM2-2B is open source."
    )


@pytest.mark.parametrize(
    "usage", ["abc", "12 bananas", "-1 seats", "nan seats", "9e99 seats", "<b>1</b> seats"]
)
def test_bad_usage_on_the_tool_page(client: TestClient, usage: str) -> None:
    _, message = reader_usage(usage)
    assert message
    page = client.get("/tools/cursor", params={"usage": usage})
    assert page.status_code == 200
    assert f'role="alert" id="usage-error-pricing-read">{e(message)}</p>' in page.text
    assert "<b>1</b>" not in page.text
    api = client.get("/api/v1/tools/cursor", params={"usage": usage})
    assert api.status_code == 422 and api.json() == {"error": message}


def test_hostile_plan_names_are_escaped_in_the_read(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    sqlite_runtime.catalog.add(
        make_tool(
            "Evil Plans",
            pricing={
                "entry": "paid",
                "plans": [{"name": "<script>alert(1)</script>", "amount": 3, "unit": "seat"}],
            },
        )
    )
    html = client.get("/tools/evil-plans", params={"usage": "2 seats"}).text
    assert "<script>alert(1)" not in html
    assert '&lt;script&gt;alert(1)&lt;/script&gt; <span class="chip chip-ship">Cheapest' in html
    assert "$6 a month" in region(html)


def test_tool_and_compare_pages_agree_on_the_cost(client: TestClient) -> None:
    params = {"usage": "3M input tokens; 1M output tokens"}
    tool = client.get("/api/v1/tools/gpt-4o", params=params).json()["pricing_read"]["read"]
    pair = client.get("/api/v1/compare/gpt-4o-vs-claude-sonnet-4", params=params).json()
    assert tool == pair["a"]["pricing"]
    assert tool["cost_text"] == "$17.50 a month"  # 3 x $2.50 + 1 x $10


# A team of three: Cursor's one-person Hobby tier cannot serve it, so it is not "$0, cheapest".
HOBBY_ROW = (
    "<td>Doesn&#39;t cover this usage<small>The Hobby plan allows at most 1 seat; "
    "this usage needs 3 seats.</small><small>Limit: at most 1 seat</small></td>"
)
PRO_ROW = '<th scope="row">Pro <span class="chip chip-ship">Cheapest</span></th>'
THREE_SEATS_SENTENCE = (
    "At 3 seats a month, GitHub Copilot costs less: $30 a month (Pro) against $60 a month "
    "for Cursor (Pro)."
)


def test_three_seats_on_the_tool_page(client: TestClient) -> None:
    html = client.get("/tools/cursor", params={"usage": "3 seats"}).text
    read = region(html)
    assert "Priced at <strong>3 seats</strong> a month." in read
    assert HOBBY_ROW in read
    assert PRO_ROW in read and "<td>$60 a month</td>" in read
    assert "Cheapest at this usage: Pro at $60 a month." in read
    assert "1 seats" not in html
    plans = client.get("/api/v1/tools/cursor", params={"usage": "3 seats"}).json()
    hobby, pro = plans["pricing_read"]["read"]["plans"][:2]
    assert hobby["covers"] is False and hobby["cost"] is None and not hobby["cheapest"]
    assert hobby["limits"] == ["at most 1 seat"]
    assert pro["cheapest"] and pro["cost"] == "60.00"


def test_one_seat_shows_the_free_tier_limit(client: TestClient) -> None:
    read = region(client.get("/tools/cursor", params={"usage": "1 seat"}).text)
    assert '<th scope="row">Hobby <span class="chip chip-ship">Cheapest</span></th>' in read
    assert "<td>$0 a month<small>Limit: at most 1 seat</small></td>" in read
    copilot = client.get("/tools/github-copilot").text
    limits = "at most 1 seat; at most 2,000 requests a month"
    assert f"<small>Limits: {limits}</small>" in region(copilot)
    assert f'<tr><th scope="row">Free</th><td>Free ({limits})<br>' in copilot  # the plans table
    team = client.get("/api/v1/tools/claude").json()["tool"]["pricing"]["plans"][-1]
    assert team["charges"][0]["minimum"] == 5
    assert team["text"] == "$30 per seat (at least 5 seats) a month"


def test_the_compare_page_never_calls_a_tool_that_cannot_serve_the_usage_as_cheap(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    html = client.get("/compare/cursor-vs-github-copilot", params={"usage": "3 seats"}).text
    assert THREE_SEATS_SENTENCE in html and "both cost $0" not in html
    one = client.get("/compare/cursor-vs-github-copilot", params={"usage": "1 seat"}).text
    assert (
        "At 1 seat a month, both cost $0 a month: Cursor on Hobby, GitHub Copilot on Free." in one
    )
    sqlite_runtime.catalog.add(
        make_tool(
            "Solo Editor",
            category="coding-agents",
            pricing={
                "entry": "freemium",
                "plans": [
                    {"name": "Free", "amount": 0, "unit": "seat", "limit": 1},
                    {"name": "Plus", "amount": 10, "unit": "seat", "limit": 1},
                ],
            },
        )
    )
    solo = client.get("/compare/cursor-vs-solo-editor", params={"usage": "3 seats"})
    sentence = (
        "At 3 seats a month, only Cursor has a plan that covers it: $60 a month (Pro); "
        "no Solo Editor plan covers this usage."
    )
    assert sentence in solo.text and "both cost" not in solo.text
    data = client.get("/api/v1/compare/cursor-vs-solo-editor", params={"usage": "3 seats"}).json()
    assert data["pricing"]["sentence"] == sentence
    assert data["b"]["pricing"]["summary"] == "No plan of Solo Editor covers this usage."
    assert data["b"]["pricing"]["cost_text"] == "—"


def test_seat_plans_through_the_real_server(isolated_env: Path) -> None:
    # `serve` loads the sample catalog into the empty data dir on its first start.
    with LiveServer(isolated_env / "live") as server:
        tool = httpx.get(server.url("/tools/cursor?usage=3+seats"), timeout=30)
        assert tool.status_code == 200
        assert_whole(tool)
        assert HOBBY_ROW in tool.text and PRO_ROW in tool.text
        assert "Cheapest at this usage: Pro at $60 a month." in tool.text
        pair = httpx.get(server.url("/compare/cursor-vs-github-copilot?usage=3+seats"), timeout=30)
        assert pair.status_code == 200
        assert_whole(pair)
        assert THREE_SEATS_SENTENCE in pair.text and "both cost $0" not in pair.text
        api = httpx.get(server.url("/api/v1/tools/cursor?usage=3+seats"), timeout=30)
        assert_whole(api)
        assert api.json()["pricing_read"]["read"]["cost_text"] == "$60 a month"
