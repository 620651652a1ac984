"""The newsletter pages: double opt-in end to end, no leaks, CSRF, rate limit, tokens."""

from __future__ import annotations

import re
import time

import itsdangerous
import pytest
from fastapi.testclient import TestClient

from shiporskip.newsletter.subscribers import SubscriberStore
from shiporskip.newsletter.tokens import signer_for, unsubscribe_token
from shiporskip.runtime import Runtime
from shiporskip.security import secret_key
from shiporskip.storage.client_limits import ClientAllowance
from shiporskip.web.app import create_app
from shiporskip.web.newsletter import install
from tests.newsletter.conftest import SmtpServer

# What a browser sends with the footer form posted from this site's own page.
SAME_SITE = {"Origin": "http://testserver"}


def subscribe(client: TestClient, email: str) -> tuple[int, str]:
    answer = client.post("/newsletter", data={"email": email}, headers=SAME_SITE)
    return answer.status_code, answer.text


def lede(html: str) -> str:
    match = re.search(r'<p class="lede"[^>]*>(.*?)</p>', html, re.S)
    assert match
    return match.group(1)


def confirm_link(smtp: SmtpServer, email: str) -> str:
    [mail] = smtp.handler.to(email)
    text = mail.get_body(("plain",))
    assert text is not None
    match = re.search(r"http://testserver(/newsletter/confirm\?token=\S+)", text.get_content())
    assert match
    return match.group(1)


def test_subscribe_confirm_end_to_end(
    client: TestClient, smtp: SmtpServer, sqlite_mail_runtime: Runtime
) -> None:
    status, page = subscribe(client, "New.Reader@Example.com")
    assert status == 200 and "Check your inbox" in lede(page)
    [mail] = smtp.handler.to("New.Reader@example.com")
    assert mail["Subject"] == "Confirm your subscription to the weekly verdicts"
    assert mail["From"] == "Weekly verdicts <verdicts@example.org>"
    assert mail.get_body(("html",)) is not None
    store = SubscriberStore(sqlite_mail_runtime.engine)
    assert store.find("new.reader@example.com").status == "pending"  # type: ignore[union-attr]

    # A mail scanner's HEAD sees a working link and confirms nothing.
    checked = client.head(confirm_link(smtp, "New.Reader@example.com"))
    assert checked.status_code == 200 and checked.content == b""
    assert store.find("new.reader@example.com").status == "pending"  # type: ignore[union-attr]
    answer = client.get(confirm_link(smtp, "New.Reader@example.com"))
    assert answer.status_code == 200 and "Confirmed: the weekly verdicts" in lede(answer.text)
    assert store.find("new.reader@example.com").status == "confirmed"  # type: ignore[union-attr]
    again = client.get(confirm_link(smtp, "New.Reader@example.com"))
    assert "already confirmed" in lede(again.text)


def test_the_answer_never_says_whether_an_address_is_subscribed(
    client: TestClient, smtp: SmtpServer, sqlite_mail_runtime: Runtime
) -> None:
    new = subscribe(client, "fresh@example.com")
    subscribe(client, "known@example.com")
    pending = subscribe(client, "known@example.com")
    client.get(confirm_link(smtp, "known@example.com"))
    confirmed = subscribe(client, "known@example.com")
    assert new == pending == confirmed
    api = [client.post("/api/v1/newsletter", json={"email": e}) for e in ("x@example.com",) * 2]
    api.append(client.post("/api/v1/newsletter", json={"email": "known@example.com"}))
    assert {(a.status_code, a.text) for a in api} == {(202, api[0].text)}
    # One confirmation per address per hour, however often it is asked for.
    assert smtp.handler.by_recipient() == {
        "fresh@example.com": 1,
        "known@example.com": 1,
        "x@example.com": 1,
    }


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("a@b.com\r\nBcc: x@y.com", "line break"),
        ("a@b.com, c@d.com", "one address only"),
        ("Name <a@b.com>", "without a name"),
        ("x" * 300 + "@example.com", "longer than 254"),
        ("ｉnfo@example.com", "plain ASCII"),
        ("not-an-address", "exactly one @"),
    ],
)
def test_invalid_addresses_are_refused_and_nothing_is_stored(
    client: TestClient, smtp: SmtpServer, sqlite_mail_runtime: Runtime, email: str, reason: str
) -> None:
    status, page = subscribe(client, email)
    assert status == 400 and reason in lede(page)
    assert "Bcc:" not in lede(page)
    answer = client.post("/api/v1/newsletter", json={"email": email})
    assert answer.status_code == 422 and reason in answer.json()["error"]
    assert SubscriberStore(sqlite_mail_runtime.engine).count() == 0
    assert smtp.handler.received == []


def test_forms_from_another_site_or_nowhere_or_a_robot_are_refused(
    client: TestClient, sqlite_mail_runtime: Runtime, smtp: SmtpServer
) -> None:
    """The footer form is on every shared page, which carries no token: its Origin (or
    Referer) must be this site, and the field people never see must stay empty."""
    page = client.get("/tools")
    assert 'name="csrf_token"' not in page.text and 'name="website"' in page.text
    cases = [
        ({"Origin": "https://evil.example"}, "sent from another site"),
        ({"Referer": "https://evil.example/"}, "sent from another site"),
        (SAME_SITE | {"Sec-Fetch-Site": "cross-site"}, "sent from another site"),
        ({}, "without an Origin or Referer header"),
        ({"Origin": "null"}, "without an Origin or Referer header"),
    ]
    for headers, text in cases:
        answer = client.post("/newsletter", data={"email": "a@example.com"}, headers=headers)
        assert answer.status_code == 403 and text in lede(answer.text), headers
    robot = client.post(
        "/newsletter", data={"email": "a@example.com", "website": "x"}, headers=SAME_SITE
    )
    assert robot.status_code == 400 and "filled in by a robot" in lede(robot.text)
    assert SubscriberStore(sqlite_mail_runtime.engine).count() == 0
    assert smtp.handler.received == []
    same_site = client.post(
        "/newsletter",
        data={"email": "a@example.com"},
        headers=SAME_SITE | {"Sec-Fetch-Site": "same-origin"},
    )
    assert same_site.status_code == 200
    by_referer = client.post(
        "/newsletter",
        data={"email": "b@example.com"},
        headers={"Referer": "http://testserver/tools/cursor"},
    )
    assert by_referer.status_code == 200
    assert SubscriberStore(sqlite_mail_runtime.engine).count() == 2


def test_subscribing_is_rate_limited_per_client(
    sqlite_mail_runtime: Runtime, smtp: SmtpServer
) -> None:
    app = create_app(sqlite_mail_runtime)
    # A frozen clock, 60 s before the window ends: on a loaded machine a second may pass
    # between the requests, which would make the wait 59 s instead of 60.
    runtime = sqlite_mail_runtime
    key = secret_key(runtime.settings)
    install(app, ClientAllowance(runtime.engine, key, "mail", 3, 600, clock=lambda: 1140.0))
    with TestClient(app) as client:
        codes = [subscribe(client, f"r{i}@example.com")[0] for i in range(3)]
        assert codes == [200, 200, 200]
        page = client.post("/newsletter", data={"email": "r9@example.com"}, headers=SAME_SITE)
        assert page.status_code == 429 and page.headers["Retry-After"] == "60"
        api = client.post("/api/v1/newsletter", json={"email": "r9@example.com"})
        assert api.status_code == 429 and api.headers["Retry-After"] == "60"
        assert "try again in 60 seconds" in api.json()["error"]
    assert SubscriberStore(sqlite_mail_runtime.engine).count() == 3


def test_tampered_expired_and_misused_tokens_get_a_clear_400_page(
    client: TestClient,
    smtp: SmtpServer,
    sqlite_mail_runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subscribe(client, "reader@example.com")
    link = confirm_link(smtp, "reader@example.com")
    tampered = client.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert tampered.status_code == 400 and "This link is not valid" in lede(tampered.text)
    assert client.get("/newsletter/confirm").status_code == 400
    assert client.get("/newsletter/confirm?token=" + "x" * 5000).status_code == 400
    signer = signer_for(sqlite_mail_runtime.settings)
    unsubscribe = unsubscribe_token(signer, 1)
    misused = client.get(f"/newsletter/confirm?token={unsubscribe}")
    assert misused.status_code == 400 and "not valid" in lede(misused.text)

    eight_days_ago = int(time.time()) - 8 * 24 * 3600
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: eight_days_ago
    )
    reader = SubscriberStore(sqlite_mail_runtime.engine).find("reader@example.com")
    assert reader is not None
    expired_token = signer.sign("newsletter-confirm", {"s": reader.id})
    monkeypatch.undo()
    expired = client.get(f"/newsletter/confirm?token={expired_token}")
    assert expired.status_code == 400 and "This link has expired" in lede(expired.text)
    store = SubscriberStore(sqlite_mail_runtime.engine)
    assert store.find("reader@example.com").status == "pending"  # type: ignore[union-attr]

    for method in (client.get, client.post):
        bad = method("/newsletter/unsubscribe?token=nonsense")
        assert bad.status_code == 400 and "This link is not valid" in bad.text


def test_the_unsubscribe_link_asks_first_and_the_post_unsubscribes(
    client: TestClient, sqlite_mail_runtime: Runtime, smtp: SmtpServer
) -> None:
    subscribe(client, "reader@example.com")
    client.get(confirm_link(smtp, "reader@example.com"))
    store = SubscriberStore(sqlite_mail_runtime.engine)
    subscriber = store.find("reader@example.com")
    assert subscriber is not None
    token = unsubscribe_token(signer_for(sqlite_mail_runtime.settings), subscriber.id)
    page = client.get(f"/newsletter/unsubscribe?token={token}")
    assert (
        page.status_code == 200 and '<button type="submit" class="button">Unsubscribe' in page.text
    )
    assert store.get(subscriber.id).status == "confirmed"  # type: ignore[union-attr]
    done = client.post(f"/newsletter/unsubscribe?token={token}")
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert store.get(subscriber.id).status == "unsubscribed"  # type: ignore[union-attr]
    assert client.post(f"/newsletter/unsubscribe?token={token}").status_code == 200
    after = client.get(f"/newsletter/unsubscribe?token={token}")
    assert "You are unsubscribed" in after.text and 'class="button">Unsubscribe' not in after.text


def test_archive_pages_when_nothing_was_sent(client: TestClient) -> None:
    index = client.get("/newsletter/archive")
    assert index.status_code == 200 and "No issue has been sent yet" in index.text
    assert client.get("/api/v1/newsletter/archive").json() == {"count": 0, "issues": []}
    missing = client.get("/newsletter/archive/2026-W01")
    assert missing.status_code == 404 and "no digest was sent for week 2026-W01" in missing.text
    garbage = client.get("/api/v1/newsletter/archive/yesterday")
    assert garbage.status_code == 404
    assert garbage.json() == {"error": "week 'yesterday' is not an ISO week; use the form 2026-W47"}


def test_the_api_only_takes_json(client: TestClient, sqlite_mail_runtime: Runtime) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        answer = client.post(
            "/api/v1/newsletter",
            content='{"email": "a@example.com"}',
            headers={"Content-Type": content_type},
        )
        assert answer.status_code == 422
    assert SubscriberStore(sqlite_mail_runtime.engine).count() == 0
