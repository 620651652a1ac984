"""Sign-in by email magic link, with a real SMTP server: verified votes, one-time links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from shiporskip.domain.votes import VoteValue
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import Settings, load_settings
from shiporskip.storage.votes import VoteStore
from shiporskip.web.app import create_app
from tests.factories import make_tool
from tests.live import LiveServer, assert_whole
from tests.newsletter.conftest import (  # noqa: F401 - smtp is a fixture
    SmtpServer,
    mail_settings,
    smtp,
)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LINK = re.compile(r"https?://\S+/signin/verify\?token=\S+")
LINK_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def rt(smtp: SmtpServer, isolated_env) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]  # noqa: F811
    runtime = open_runtime(load_settings(overrides=mail_settings(smtp)))
    yield runtime
    runtime.close()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as c:
        yield c


def ask(client: TestClient, email: str) -> tuple[int, str]:
    page = client.get("/signin").text
    token = CSRF.search(page)
    assert token
    r = client.post("/signin", data={"csrf": token.group(1), "email": email})
    return r.status_code, r.text


def link_in(smtp: SmtpServer, address: str) -> str:  # noqa: F811
    assert smtp.handler.wait_for(1)
    message = smtp.handler.to(address)[-1]
    found = LINK.search(message.get_content())
    assert found
    return found.group(0).replace("http://testserver", "")


def press(browser: TestClient | httpx.Client, page: str) -> httpx.Response:
    """Press the button on a sign-in link's page, as the browser that opened it."""
    csrf, token = CSRF.search(page), LINK_TOKEN.search(page)
    assert csrf and token, page
    return browser.post("/signin/verify", data={"csrf": csrf.group(1), "token": token.group(1)})


def test_magic_link_verifies_the_voter(client: TestClient, rt: Runtime, smtp: SmtpServer) -> None:  # noqa: F811
    status, text = ask(client, "Reader@Example.COM")
    assert status == 200 and "a sign-in link is on its way" in text
    link = link_in(smtp, "Reader@example.com")
    path = link.split("://", 1)[-1]
    path = path[path.index("/") :]
    # A mail scanner's HEAD or GET sees a working link, signs nobody in and uses nothing up.
    checked = client.head(path)
    assert checked.status_code == 200 and checked.content == b""
    scanned = TestClient(client.app).get(path)
    assert scanned.status_code == 200 and "signed in as" not in scanned.text
    opened = client.get(path)
    assert opened.status_code == 200 and "Sign in as Reader@example.com" in opened.text
    r = press(client, opened.text)
    assert r.status_code == 200 and "signed in as Reader@example.com" in r.text
    voter = VoteStore(rt.engine).voter(client.get("/api/v1/session").json()["voter"])
    assert voter is not None and voter.verified_at is not None
    assert "You are signed in as" in r.text
    assert 'action="/signin"' not in r.text, "signed in, yet the page asks to sign in again"
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.text
    assert client.head(path).status_code == 400
    assert press(client, opened.text).status_code == 400


def test_the_button_needs_this_browsers_form_token(
    client: TestClient,
    rt: Runtime,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    """A page on another site cannot press the button for a visitor (login CSRF)."""
    ask(client, "reader@example.com")
    path = link_in(smtp, "reader@example.com")
    token = LINK_TOKEN.search(client.get(path).text)
    assert token
    other = TestClient(client.app)
    other.get("/signin")
    forged = other.post("/signin/verify", data={"token": token.group(1), "csrf": "forged"})
    assert forged.status_code == 403
    cookieless = TestClient(client.app).post("/signin/verify", data={"token": token.group(1)})
    assert cookieless.status_code == 403 and "visitor cookie" in cookieless.text
    assert client.get(path).status_code == 200, "a refused press used the link up"


def test_unknown_addresses_get_the_same_answer(client: TestClient, smtp: SmtpServer) -> None:  # noqa: F811
    first = ask(client, "someone@example.com")
    second = ask(client, "nobody-at-all@example.net")
    assert first[0] == second[0] == 200
    assert "on its way" in first[1] and "on its way" in second[1]


@pytest.mark.parametrize(
    "bad", ["not-an-email", "a@b.com\r\nBcc: x@y.com", "a@b.com, c@d.com", "x" * 300 + "@e.com"]
)
def test_bad_addresses_are_refused_and_nothing_is_sent(
    client: TestClient,
    smtp: SmtpServer,  # noqa: F811
    bad: str,
) -> None:
    status, text = ask(client, bad)
    assert status == 422 and 'role="alert"' in text
    assert smtp.handler.by_recipient() == {}


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_tampered_tokens(client: TestClient, token: str) -> None:
    r = client.get(f"/signin/verify?token={token}")
    assert r.status_code == 400 and "request a new" in r.text


def test_expired_token(client: TestClient, rt: Runtime, smtp: SmtpServer, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ask(client, "late@example.com")
    path = link_in(smtp, "late@example.com")
    path = path[path.index("/signin") :]
    import itsdangerous.timed

    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 31 * 60)
    r = client.get(path)
    assert r.status_code == 400 and "expired" in r.text


def test_missing_csrf(client: TestClient, smtp: SmtpServer) -> None:  # noqa: F811
    client.get("/signin")
    r = client.post("/signin", data={"email": "a@example.com"})
    assert r.status_code == 403 and smtp.handler.by_recipient() == {}


def test_without_smtp_the_page_says_so(isolated_env) -> None:  # type: ignore[no-untyped-def]
    runtime = open_runtime(load_settings())
    with TestClient(create_app(runtime)) as c:
        token = CSRF.search(c.get("/signin").text)
        assert token
        r = c.post("/signin", data={"csrf": token.group(1), "email": "a@example.com"})
    assert r.status_code == 503 and "SHIPORSKIP_SMTP_HOST" in r.text


def test_every_vote_box_says_how_to_verify(client: TestClient, rt: Runtime) -> None:
    """Regression: nothing linked to /signin, so no reader could find how to verify a vote."""
    slug = rt.catalog.add(make_tool("Verify Me")).slug
    page = client.get(f"/tools/{slug}").text
    box = page[page.index('<div class="vote-box"') :]
    rules = box[box.index('class="vote-rules"') :]
    assert '<a href="/signin">Sign in to verify your vote</a>' in rules[: rules.index("</p>")]


# -- through the real server -------------------------------------------------------------
VICTIM = "victim@example.com"


def live_mail(smtp: SmtpServer) -> dict[str, str]:  # noqa: F811
    return {k: str(v) for k, v in mail_settings(smtp).items()}


def live_ask(browser: httpx.Client, email: str) -> httpx.Response:
    token = CSRF.search(browser.get("/signin").text)
    assert token
    answer = browser.post("/signin", data={"csrf": token.group(1), "email": email})
    assert_whole(answer)
    return answer


def live_vote(browser: httpx.Client, slug: str, value: str) -> None:
    session = browser.get("/api/v1/session").json()
    answer = browser.post(
        f"/api/v1/tools/{slug}/vote",
        json={"vote": value},
        headers={"X-CSRF-Token": session["csrf_token"]},
    )
    assert answer.status_code == 200, answer.text


def test_a_link_asked_for_by_someone_else_signs_in_only_the_browser_that_opens_it(
    isolated_env: Path,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    """Regression: the link carried the requester's visitor id, so asking for a link to a
    stranger's address made the stranger's browser, once it opened the link, vote as the
    requester from then on (and verified the requester's votes)."""
    seed = open_runtime(load_settings())
    seed.catalog.add(make_tool("Alpha"))
    seed.close()
    with (
        LiveServer(isolated_env, live_mail(smtp)) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as attacker,
        httpx.Client(base_url=server.base_url, timeout=30) as victim,
    ):
        live_vote(attacker, "alpha", "skip")
        attacker_id = attacker.get("/api/v1/session").json()["voter"]
        assert live_ask(attacker, VICTIM).status_code == 200
        link = link_in(smtp, VICTIM)
        opened = victim.get(link[link.index("/signin/verify") :])
        assert_whole(opened)
        assert opened.status_code == 200 and f"Sign in as {VICTIM}" in opened.text
        signed_in = press(victim, opened.text)
        assert_whole(signed_in)
        assert signed_in.status_code == 200 and f"signed in as {VICTIM}" in signed_in.text
        victim_id = victim.get("/api/v1/session").json()["voter"]
        assert victim_id != attacker_id, "the victim's browser adopted the requester's id"
        live_vote(victim, "alpha", "ship")
        community = victim.get("/api/v1/tools/alpha").json()["community"]
        assert (community["votes"], community["ships"], community["skips"]) == (2, 1, 1)
        assert community["verified"] == 1
    after = open_runtime(load_settings())
    try:
        store = VoteStore(after.engine)
        requester, opener = store.voter(attacker_id), store.voter(victim_id)
        assert requester is not None and requester.verified_at is None and requester.email is None
        assert opener is not None and opener.email == VICTIM and opener.verified_at is not None
        assert store.my_vote("alpha", attacker_id) == VoteValue.skip
    finally:
        after.close()


def test_one_client_cannot_mail_a_burst_of_addresses(
    isolated_env: Path,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    """Regression: sign-in links were limited per address only, so one client mailed a
    different stranger with every request; the newsletter's per-client limit did not count
    them. Now both share one allowance per client address (`mail_requests_ip`, default 5)."""
    allowed = Settings().mail_requests_ip
    with (
        LiveServer(isolated_env, live_mail(smtp)) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        answers: list[httpx.Response] = []
        for n in range(3 * allowed):
            email = f"stranger{n}@example.com"
            if n % 3 == 0:
                answers.append(live_ask(client, email))
            elif n % 3 == 1:
                answers.append(
                    client.post(
                        "/newsletter",
                        data={"email": email},
                        headers={"Origin": server.base_url},
                    )
                )
            else:
                answers.append(client.post("/api/v1/newsletter", json={"email": email}))
        statuses = [a.status_code for a in answers]
        accepted = [202 if "/api/" in str(a.url) else 200 for a in answers[:allowed]]
        assert statuses[:allowed] == accepted, statuses
        refused = answers[allowed:]
        assert {a.status_code for a in refused} == {429}, statuses
        assert all(int(a.headers["retry-after"]) > 0 for a in refused)
        assert "no mail was sent" in next(a.text for a in refused if "/signin" in str(a.url))
        assert "error" in next(a.json() for a in refused if "/api/" in str(a.url))
        assert smtp.handler.wait_for(allowed)
    # The server has stopped, so every mail it was going to send has been sent.
    assert sum(smtp.handler.by_recipient().values()) == allowed
