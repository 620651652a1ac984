"""Pages any cache may keep, through the real server, on SQLite and PostgreSQL.

A public page is the same bytes for every visitor, says so (`Cache-Control: public` with
`s-maxage` and `stale-while-revalidate`, a strong ETag, no cookie, no `Vary: Cookie`), and
the visitor's own vote comes from `GET /api/v1/me`. The no-JavaScript vote form is checked
by its Origin: from this site it votes and makes the visitor cookie (only then); from
another site, or from nowhere, it is refused with one sentence and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shiporskip.runtime import open_runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import load_settings
from shiporskip.web.identity import VOTER_COOKIE
from tests.live import LiveServer, assert_security_headers, assert_whole, seeded_site

TOOL = "/tools/cursor"
COMPARE = "/compare/aider-vs-cursor"
SHARED = [TOOL, COMPARE, "/", "/critics", "/categories/coding-agents", "/methodology", "/tools"]
PUBLIC = "public, max-age=0, s-maxage=7, stale-while-revalidate=40"


def seed(data_dir: Path, database_url: str | None) -> None:
    overrides = {"data_dir": str(data_dir)}
    if database_url:
        overrides["database_url"] = database_url
    rt = open_runtime(load_settings(overrides=overrides))
    try:
        load_samples_if_empty(rt)
    finally:
        rt.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp(f"shared-{request.param}")
    settings = {"shared_cache_seconds": "7", "shared_stale_seconds": "40", "vote_min_count": "1"}
    with seeded_site(request.param, data_dir, settings, seed) as (live, _):
        yield live


def client(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=60, follow_redirects=False)


def form_vote(
    browser: httpx.Client, slug: str, vote: str, headers: dict[str, str]
) -> httpx.Response:
    return browser.post(
        f"/tools/{slug}/vote", data={"vote": vote, "next": f"/tools/{slug}"}, headers=headers
    )


@pytest.mark.parametrize("path", SHARED)
def test_a_shared_page_is_the_same_bytes_for_every_visitor(server: LiveServer, path: str) -> None:
    with client(server) as voter, client(server) as stranger, client(server) as other_voter:
        origin = {"Origin": server.base_url}
        assert form_vote(voter, "cursor", "ship", origin).status_code == 303
        assert form_vote(other_voter, "aider", "skip", origin).status_code == 303
        assert voter.cookies[VOTER_COOKIE] != other_voter.cookies[VOTER_COOKIE]
        answers = [c.get(path) for c in (stranger, voter, other_voter, stranger)]
    for answer in answers:
        assert answer.status_code == 200
        assert_whole(answer)
        assert_security_headers(answer)
        assert answer.headers["cache-control"] == PUBLIC
        assert "set-cookie" not in answer.headers
        assert "cookie" not in answer.headers.get("vary", "").lower()
        tag = answer.headers["etag"]
        assert tag.startswith('"') and not tag.startswith("W/"), "a strong tag"
    assert len({a.content for a in answers}) == 1, "with and without cookies, the same bytes"
    assert len({a.headers["etag"] for a in answers}) == 1
    with client(server) as anyone:
        again = anyone.get(path, headers={"If-None-Match": answers[0].headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["cache-control"] == PUBLIC and "set-cookie" not in again.headers
        assert_security_headers(again)
        head = anyone.head(path)
        assert head.headers["etag"] == answers[0].headers["etag"] and head.content == b""


def test_me_gives_the_visitor_their_votes_privately(server: LiveServer) -> None:
    with client(server) as browser:
        nobody = browser.get("/api/v1/me", params={"tools": "claude-code,aider"})
        assert nobody.status_code == 200
        assert nobody.json() == {"votes": {}, "csrf_token": None}
        assert nobody.headers["cache-control"] == "private, no-store"
        assert "set-cookie" not in nobody.headers, "asking makes no visitor"
        voted = form_vote(browser, "claude-code", "skip", {"Origin": server.base_url})
        assert voted.status_code == 303
        me = browser.get("/api/v1/me", params={"tools": "claude-code,aider"})
        assert me.json()["votes"] == {"claude-code": "skip"}
        assert me.headers["cache-control"] == "private, no-store" and "etag" not in me.headers
        # The token it gives is the one the JSON vote API takes.
        changed = browser.post(
            "/api/v1/tools/claude-code/vote",
            json={"vote": "ship"},
            headers={"X-CSRF-Token": me.json()["csrf_token"]},
        )
        assert changed.status_code == 200 and changed.json()["your_vote"] == "ship"
        after = browser.get("/api/v1/me?tools=claude-code").json()["votes"]
        assert after == {"claude-code": "ship"}
        too_many = browser.get("/api/v1/me?tools=" + ",".join(f"t{i}" for i in range(51)))
        assert too_many.status_code == 422
        assert too_many.json()["error"] == "ask about at most 50 tools at a time"
    server.assert_clean_log()


def community(server: LiveServer, slug: str) -> int:
    votes: int = httpx.get(server.url(f"/api/v1/tools/{slug}"), timeout=30).json()["community"][
        "votes"
    ]
    return votes


@pytest.mark.parametrize(
    ("headers", "sentence"),
    [
        (
            {"Origin": "https://evil.example"},
            "This form was sent from another site, so nothing was done; use the form on this site.",
        ),
        (
            {"Referer": "https://evil.example/page"},
            "This form was sent from another site, so nothing was done; use the form on this site.",
        ),
        (
            {},
            "This form arrived without an Origin or Referer header, so it cannot be told from "
            "one sent by another site and nothing was done; let your browser send them for "
            "this site.",
        ),
    ],
)
def test_a_form_vote_not_from_this_site_is_refused(
    server: LiveServer, headers: dict[str, str], sentence: str
) -> None:
    before = community(server, "aider")
    with client(server) as browser:
        refused = form_vote(browser, "aider", "ship", headers)
        assert refused.status_code == 403
        assert sentence in refused.text and "Traceback" not in refused.text
        assert "set-cookie" not in refused.headers
    assert community(server, "aider") == before, "nothing recorded"


def test_a_form_vote_from_this_site_records_and_sets_the_cookie_only_then(
    server: LiveServer,
) -> None:
    before = community(server, "claude-code")
    with client(server) as browser:
        page = browser.get("/tools/claude-code")
        assert "set-cookie" not in page.headers and not browser.cookies
        voted = form_vote(browser, "claude-code", "ship", {"Origin": server.base_url})
        assert voted.status_code == 303
        assert (
            voted.headers["location"]
            == "/tools/claude-code?voted=claude-code:ship#vote-claude-code"
        )
        assert (
            VOTER_COOKIE in voted.headers["set-cookie"]
            and "HttpOnly" in voted.headers["set-cookie"]
        )
        assert voted.headers["cache-control"] == "private, no-store"
        landed = browser.get(voted.headers["location"])
        assert landed.status_code == 200 and "set-cookie" not in landed.headers
        assert landed.headers["cache-control"] == PUBLIC
        assert "Your vote (Ship) is recorded." in landed.text
        assert 'value="ship" class="vote-ship" aria-pressed="true"' in landed.text
        # Changing the vote, by Referer this time: no second cookie.
        again = form_vote(
            browser, "claude-code", "skip", {"Referer": server.url("/tools/claude-code")}
        )
        assert again.status_code == 303 and "set-cookie" not in again.headers
    assert community(server, "claude-code") == before + 1
    server.assert_clean_log()
