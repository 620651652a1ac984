"""Community voting over HTTP: identity, CSRF, every bad input refused with nothing recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime
from shiporskip.settings import replace
from shiporskip.storage.votes import VoteStore
from shiporskip.web.app import create_app
from shiporskip.web.identity import VOTER_COOKIE
from tests.factories import make_tool


@pytest.fixture
def client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    sqlite_runtime.catalog.add(make_tool("Alpha"))
    sqlite_runtime.settings = replace(sqlite_runtime.settings, vote_min_count=2)
    with TestClient(create_app(sqlite_runtime)) as c:
        yield c


def session(client: TestClient) -> str:
    response = client.get("/api/v1/session")
    assert response.status_code == 200 and VOTER_COOKIE in response.cookies
    return str(response.json()["csrf_token"])


def counts(runtime: Runtime) -> tuple[int, int]:
    c = VoteStore(runtime.engine).community("alpha", 1)
    return c.ships, c.skips


def test_form_vote_change_and_withdraw(client: TestClient, sqlite_runtime: Runtime) -> None:
    token = session(client)
    r = client.post(
        "/tools/alpha/vote", data={"csrf": token, "vote": "ship"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/tools/alpha#vote"
    assert counts(sqlite_runtime) == (1, 0)
    client.post("/tools/alpha/vote", data={"csrf": token, "vote": "skip"}, follow_redirects=False)
    assert counts(sqlite_runtime) == (0, 1), "one vote per voter: changing replaces it"
    client.post(
        "/tools/alpha/vote", data={"csrf": token, "vote": "withdraw"}, follow_redirects=False
    )
    assert counts(sqlite_runtime) == (0, 0)


def test_api_vote_reports_the_community(client: TestClient, sqlite_runtime: Runtime) -> None:
    token = session(client)
    r = client.post(
        "/api/v1/tools/alpha/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["your_vote"] == "ship" and body["votes"] == 1
    assert body["shown"] == "—" and "1 vote so far" in body["note"]
    other = TestClient(client.app)
    r = other.post(
        "/api/v1/tools/alpha/vote", json={"vote": "skip"}, headers={"X-CSRF-Token": session(other)}
    )
    assert r.json()["shown"] == "50%" and "95% CI" in r.json()["note"]
    r = client.post(
        "/api/v1/tools/alpha/vote", json={"vote": None}, headers={"X-CSRF-Token": token}
    )
    assert r.json()["votes"] == 1 and r.json()["your_vote"] is None


def refused(client: TestClient, runtime: Runtime, response, status: int, text: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    payload = (
        response.json()["error"]
        if response.headers["content-type"].startswith("application/json")
        else response.text
    )
    assert text in payload
    assert counts(runtime) == (0, 0), "nothing recorded"


def test_missing_and_forged_csrf(client: TestClient, sqlite_runtime: Runtime) -> None:
    session(client)
    refused(
        client,
        sqlite_runtime,
        client.post("/tools/alpha/vote", data={"vote": "ship"}),
        403,
        "missing its security token",
    )
    refused(
        client,
        sqlite_runtime,
        client.post("/tools/alpha/vote", data={"vote": "ship", "csrf": "forged.token"}),
        403,
        "not valid",
    )
    stranger = TestClient(client.app)
    their_token = session(stranger)
    refused(
        client,
        sqlite_runtime,
        client.post("/tools/alpha/vote", data={"vote": "ship", "csrf": their_token}),
        403,
        "belongs to another visitor",
    )
    refused(
        client,
        sqlite_runtime,
        client.post("/api/v1/tools/alpha/vote", json={"vote": "ship"}),
        403,
        "security token",
    )


def test_tampered_or_missing_cookie(client: TestClient, sqlite_runtime: Runtime) -> None:
    token = session(client)
    value = client.cookies[VOTER_COOKIE]
    client.cookies.set(VOTER_COOKIE, value[:-3] + "abc")
    refused(
        client,
        sqlite_runtime,
        client.post("/tools/alpha/vote", data={"vote": "ship", "csrf": token}),
        403,
        "tampered with",
    )
    fresh = TestClient(client.app)
    refused(
        client,
        sqlite_runtime,
        fresh.post(
            "/api/v1/tools/alpha/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": token}
        ),
        403,
        "cookie is missing",
    )


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ({"vote": "maybe"}, "vote must be ship, skip or withdraw"),
        ({"vote": 5}, "vote must be ship, skip or withdraw"),
        ({"vote": "ship", "extra": 1}, "extra: Extra inputs are not permitted"),
    ],
)
def test_bad_vote_values(
    client: TestClient, sqlite_runtime: Runtime, payload: dict, text: str
) -> None:  # type: ignore[type-arg]
    token = session(client)
    refused(
        client,
        sqlite_runtime,
        client.post("/api/v1/tools/alpha/vote", json=payload, headers={"X-CSRF-Token": token}),
        422,
        text,
    )
    refused(
        client,
        sqlite_runtime,
        client.post("/tools/alpha/vote", data={"csrf": token, "vote": "maybe"}),
        422,
        "vote must be ship, skip or withdraw",
    )
    refused(
        client,
        sqlite_runtime,
        client.post("/tools/alpha/vote", data={"csrf": token}),
        422,
        "choose Ship or Skip",
    )


def test_garbage_json_body(client: TestClient, sqlite_runtime: Runtime) -> None:
    token = session(client)
    r = client.post(
        "/api/v1/tools/alpha/vote",
        content=b"{not json",
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    refused(client, sqlite_runtime, r, 422, "as JSON (body: Invalid JSON")


def test_unknown_tool(client: TestClient, sqlite_runtime: Runtime) -> None:
    token = session(client)
    r = client.post(
        "/api/v1/tools/nope/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": token}
    )
    refused(client, sqlite_runtime, r, 404, "no tool with slug 'nope'")


def test_oversized_body(client: TestClient, sqlite_runtime: Runtime) -> None:
    token = session(client)
    big = {"csrf": token, "vote": "ship", "pad": "x" * 5000}
    refused(client, sqlite_runtime, client.post("/tools/alpha/vote", data=big), 413, "larger than")


def test_honeypot(client: TestClient, sqlite_runtime: Runtime) -> None:
    token = session(client)
    r = client.post("/tools/alpha/vote", data={"csrf": token, "vote": "ship", "website": "spam"})
    refused(client, sqlite_runtime, r, 400, "robot")


def test_rate_limit_per_voter(client: TestClient, sqlite_runtime: Runtime) -> None:
    sqlite_runtime.settings = replace(sqlite_runtime.settings, vote_rate_voter=3)
    token = session(client)
    for value in ("ship", "skip", "ship"):
        r = client.post(
            "/api/v1/tools/alpha/vote", json={"vote": value}, headers={"X-CSRF-Token": token}
        )
        assert r.status_code == 200
    r = client.post(
        "/api/v1/tools/alpha/vote", json={"vote": "skip"}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 429 and r.headers["retry-after"] == "60"
    assert "too many votes from you" in r.json()["error"]
    assert counts(sqlite_runtime) == (1, 0), "the refused vote changed nothing"
    events = VoteStore(sqlite_runtime.engine).events()
    assert events[0]["accepted"] is False and "too many" in events[0]["reason"]


def test_rate_limit_per_ip(client: TestClient, sqlite_runtime: Runtime) -> None:
    sqlite_runtime.settings = replace(sqlite_runtime.settings, vote_rate_ip=2)
    for _ in range(2):
        c = TestClient(client.app)
        assert (
            c.post(
                "/api/v1/tools/alpha/vote",
                json={"vote": "ship"},
                headers={"X-CSRF-Token": session(c)},
            ).status_code
            == 200
        )
    c = TestClient(client.app)
    r = c.post(
        "/api/v1/tools/alpha/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": session(c)}
    )
    assert r.status_code == 429 and "from your network" in r.json()["error"]


def test_tool_page_vote_box_round_trip(client: TestClient, sqlite_runtime: Runtime) -> None:
    import re

    html = client.get("/tools/alpha").text
    assert "No community votes yet" in html and 'name="website"' in html
    token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert token
    r = client.post("/tools/alpha/vote", data={"csrf": token.group(1), "vote": "ship"})
    assert r.status_code == 200 and r.url.path == "/tools/alpha"
    assert "1 vote so far" in r.text and "Your vote: Ship" in r.text
    api = client.get("/api/v1/tools/alpha").json()["community"]
    assert api["votes"] == 1 and api["shown"] == "—"
    assert "csrf" not in str(api), "per-visitor tokens stay out of the page data"


def test_community_disagreement_is_noted(client: TestClient, sqlite_runtime: Runtime) -> None:
    from shiporskip.domain.reviews import Verdict, summarize
    from shiporskip.domain.votes import Community

    panel = summarize([Verdict.ship] * 5 + [Verdict.skip] * 2, 7)
    assert Community(1, 12, 0, 5).disagreement(panel) == (
        "The community leans Skip while the panel says Ship."
    )
    assert Community(5, 6, 0, 5).disagreement(panel) is None, "within the interval: no note"
    assert Community(1, 2, 0, 5).disagreement(panel) is None, "below the minimum: no note"


def test_compare_cards_carry_vote_buttons(client: TestClient, sqlite_runtime: Runtime) -> None:
    sqlite_runtime.catalog.add(make_tool("Beta"))
    html = client.get("/compare/alpha-vs-beta").text
    assert 'action="/tools/alpha/vote"' in html and 'action="/tools/beta/vote"' in html
