"""Sign-in by email magic link, with a real SMTP server: verified votes, one-time links."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.votes import VoteStore
from shiporskip.web.app import create_app
from tests.factories import make_tool
from tests.newsletter.conftest import SmtpServer, mail_settings, smtp  # noqa: F401 - fixture

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LINK = re.compile(r"https?://\S+/signin/verify\?token=\S+")


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


def test_magic_link_verifies_the_voter(client: TestClient, rt: Runtime, smtp: SmtpServer) -> None:  # noqa: F811
    status, text = ask(client, "Reader@Example.COM")
    assert status == 200 and "a sign-in link is on its way" in text
    link = link_in(smtp, "Reader@example.com")
    path = link.split("://", 1)[-1]
    path = path[path.index("/") :]
    # A mail scanner's HEAD sees a working link and does not use it up.
    checked = client.head(path)
    assert checked.status_code == 200 and checked.content == b""
    r = client.get(path)
    assert r.status_code == 200 and "signed in as Reader@example.com" in r.text
    voter = VoteStore(rt.engine).voter(client.get("/api/v1/session").json()["voter"])
    assert voter is not None and voter.verified_at is not None
    assert "You are signed in as" in r.text
    assert 'action="/signin"' not in r.text, "signed in, yet the page asks to sign in again"
    again = client.get(path)
    assert again.status_code == 400 and "already used" in again.text
    assert client.head(path).status_code == 400


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
