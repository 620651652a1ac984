"""Community voting over HTTP: identity, CSRF (a token for the API, the Origin for the form
on shared pages), every bad input refused with nothing recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime
from shiporskip.settings import replace
from shiporskip.storage.votes import VoteStore
from shiporskip.web.app import create_app
from shiporskip.web.identity import VOTER_COOKIE, signer
from tests.factories import make_tool

# What a browser sends with a form posted from this site's own page.
SAME_SITE = {"Origin": "http://testserver"}


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


def form_vote(client: TestClient, data: dict[str, str], **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/tools/alpha/vote", data=data, headers=SAME_SITE | headers, follow_redirects=False
    )


def test_form_vote_change_and_withdraw(client: TestClient, sqlite_runtime: Runtime) -> None:
    r = form_vote(client, {"vote": "ship"})
    assert (
        r.status_code == 303 and r.headers["location"] == "/tools/alpha?voted=alpha:ship#vote-alpha"
    )
    assert VOTER_COOKIE in r.cookies, "the first vote makes the visitor"
    assert r.headers["cache-control"] == "private, no-store"
    assert counts(sqlite_runtime) == (1, 0)
    r = form_vote(client, {"vote": "skip"})
    assert "set-cookie" not in r.headers, "the same visitor: no new cookie"
    assert counts(sqlite_runtime) == (0, 1), "one vote per voter: changing replaces it"
    r = form_vote(client, {"vote": "withdraw", "next": "/compare/alpha-vs-beta?usage=1"})
    assert r.headers["location"] == "/compare/alpha-vs-beta?voted=alpha:withdraw#vote-alpha"
    assert counts(sqlite_runtime) == (0, 0)


@pytest.mark.parametrize("next_", ["//evil.example/x", "/\\evil.example", "https://evil.example/"])
def test_the_form_never_sends_the_voter_elsewhere(client: TestClient, next_: str) -> None:
    r = form_vote(client, {"vote": "ship", "next": next_})
    assert r.headers["location"] == "/tools/alpha?voted=alpha:ship#vote-alpha"


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


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        ({"Origin": "https://evil.example"}, "sent from another site"),
        ({"Origin": "http://testserver.evil.example"}, "sent from another site"),
        ({"Referer": "https://evil.example/tools/alpha"}, "sent from another site"),
        (SAME_SITE | {"Sec-Fetch-Site": "cross-site"}, "sent from another site"),
        ({}, "without an Origin or Referer header"),
        ({"Origin": "null"}, "without an Origin or Referer header"),
    ],
)
def test_a_form_vote_from_another_site_or_nowhere_is_refused(
    client: TestClient, sqlite_runtime: Runtime, headers: dict[str, str], text: str
) -> None:
    r = client.post("/tools/alpha/vote", data={"vote": "ship"}, headers=headers)
    refused(client, sqlite_runtime, r, 403, text)
    assert VOTER_COOKIE not in r.cookies, "a refused vote makes no visitor"


def test_a_form_vote_from_this_site_by_referer_or_base_url(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    """Origin absent (an old browser): the Referer says where the form was. The site's
    `base_url` is its origin too, whatever Host the request names."""
    r = client.post(
        "/tools/alpha/vote",
        data={"vote": "ship"},
        headers={"Referer": "http://testserver/tools/alpha"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and counts(sqlite_runtime) == (1, 0)
    base = sqlite_runtime.settings.base_url.rstrip("/")
    r = client.post(
        "/tools/alpha/vote",
        data={"vote": "skip"},
        headers={"Origin": base},
        follow_redirects=False,
    )
    assert r.status_code == 303 and counts(sqlite_runtime) == (0, 1)


def test_missing_and_forged_csrf_on_the_api(client: TestClient, sqlite_runtime: Runtime) -> None:
    session(client)
    refused(
        client,
        sqlite_runtime,
        client.post("/api/v1/tools/alpha/vote", json={"vote": "ship"}),
        403,
        "missing its security token",
    )
    refused(
        client,
        sqlite_runtime,
        client.post(
            "/api/v1/tools/alpha/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": "forged"}
        ),
        403,
        "not valid",
    )
    stranger = TestClient(client.app)
    their_token = session(stranger)
    refused(
        client,
        sqlite_runtime,
        client.post(
            "/api/v1/tools/alpha/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": their_token}
        ),
        403,
        "belongs to another visitor",
    )


def test_tampered_or_missing_cookie(client: TestClient, sqlite_runtime: Runtime) -> None:
    token = session(client)
    value = client.cookies[VOTER_COOKIE]
    client.cookies.set(VOTER_COOKIE, value[:-3] + "abc")
    refused(
        client,
        sqlite_runtime,
        client.post(
            "/api/v1/tools/alpha/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": token}
        ),
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
    # The form replaces a cookie that does not verify (a changed secret key, say) with a
    # new visitor: the tampered value names nobody, so nobody's vote is changed.
    r = form_vote(client, {"vote": "ship"})
    assert r.status_code == 303
    new = r.cookies[VOTER_COOKIE]
    assert signer(sqlite_runtime).unsign("voter", new) != signer(sqlite_runtime).unsign(
        "voter", value
    )
    assert counts(sqlite_runtime) == (1, 0)


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
        form_vote(client, {"vote": "maybe"}),
        422,
        "vote must be ship, skip or withdraw",
    )
    refused(client, sqlite_runtime, form_vote(client, {}), 422, "choose Ship or Skip")


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
    big = {"vote": "ship", "pad": "x" * 5000}
    refused(client, sqlite_runtime, form_vote(client, big), 413, "larger than")


def test_honeypot(client: TestClient, sqlite_runtime: Runtime) -> None:
    r = form_vote(client, {"vote": "ship", "website": "spam"})
    refused(client, sqlite_runtime, r, 400, "robot")
    assert VOTER_COOKIE not in r.cookies


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
    page = client.get("/tools/alpha")
    html = page.text
    assert "No community votes yet" in html and 'name="website"' in html
    assert "set-cookie" not in page.headers and 'name="csrf"' not in html
    assert "aria-pressed" not in html and "Withdraw" not in html
    r = client.post("/tools/alpha/vote", data={"vote": "ship"}, headers=SAME_SITE)
    assert r.status_code == 200 and r.url.path == "/tools/alpha"
    assert r.url.query == b"voted=alpha:ship"
    assert VOTER_COOKIE in client.cookies
    box = r.text[r.text.index('id="vote-alpha"') :]
    assert "1 vote so far" in box and "Your vote (Ship) is recorded." in box
    assert "Your vote: Ship" in box and 'value="ship" class="vote-ship" aria-pressed="true"' in box
    assert 'value="withdraw"' in box
    assert "Your vote (Ship)" not in client.get("/tools/alpha").text, "only the variant says so"
    assert "Your vote (Ship)" not in client.get("/tools/alpha?voted=other:ship").text
    api = client.get("/api/v1/tools/alpha").json()["community"]
    assert api["votes"] == 1 and api["shown"] == "—"
    assert "csrf" not in str(api), "per-visitor tokens stay out of the page data"


def test_me_reports_this_visitors_votes_and_makes_nobody(
    client: TestClient, sqlite_runtime: Runtime
) -> None:
    sqlite_runtime.catalog.add(make_tool("Beta"))
    nobody = client.get("/api/v1/me?tools=alpha,beta")
    assert nobody.json() == {"votes": {}, "csrf_token": None}
    assert "set-cookie" not in nobody.headers and VOTER_COOKIE not in client.cookies
    assert nobody.headers["cache-control"] == "private, no-store" and "etag" not in nobody.headers
    form_vote(client, {"vote": "skip"})
    me = client.get("/api/v1/me?tools=alpha,beta,no-such-tool").json()
    assert me["votes"] == {"alpha": "skip"}
    voter = signer(sqlite_runtime).unsign("voter", client.cookies[VOTER_COOKIE])
    assert signer(sqlite_runtime).unsign("csrf", me["csrf_token"]) == voter
    voted = client.post(
        "/api/v1/tools/beta/vote", json={"vote": "ship"}, headers={"X-CSRF-Token": me["csrf_token"]}
    )
    assert voted.status_code == 200
    assert client.get("/api/v1/me?tools=beta").json()["votes"] == {"beta": "ship"}
    assert client.get("/api/v1/me").json()["votes"] == {}
    many = client.get("/api/v1/me?tools=" + ",".join(f"t{i}" for i in range(51)))
    assert many.status_code == 422
    assert many.json()["error"] == "ask about at most 50 tools at a time"


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
