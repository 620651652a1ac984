"""Whole journeys as a person makes them: a real browser, `shiporskip serve`, a real SMTP server.

Each test follows one visitor from the first page to the end of a task (subscribe and
unsubscribe, submit a tool, sign in and vote, moderate) and asserts what is on screen.
The mail server is aiosmtpd in this process; mails are read the way a person reads them
and their links opened in the same browser. Screenshots of every form page go to
SCREENSHOTS (`make screenshots` writes the README's copies).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from aiosmtpd.controller import Controller

from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from tests.browser.conftest import SCREENSHOTS
from tests.live import COMMAND, LiveServer, assert_whole
from tests.newsletter.conftest import Recorder, SmtpServer, free_port
from tests.newsletter.helpers import add_tool, confirmed, vote
from tests.newsletter.test_send import last_week

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

pytestmark = pytest.mark.browser

OpenPage = Callable[..., tuple["Page", list[str]]]
ADMIN_TOKEN = "journey-admin-token-0123456789"


@dataclass
class Site:
    server: LiveServer
    smtp: SmtpServer

    def url(self, path: str) -> str:
        return self.server.url(path)

    def mail_to(self, address: str, subject: str, timeout: float = 20.0) -> EmailMessage:
        """The first mail to an address whose subject contains `subject`, once it arrives."""
        handler = self.smtp.handler
        with handler.arrived:
            found = handler.arrived.wait_for(
                lambda: any(subject in m["Subject"] for m in handler.to(address)), timeout
            )
        assert found, (
            f"no mail '{subject}' to {address}; got {[m['Subject'] for m in handler.to(address)]}"
        )
        return next(m for m in handler.to(address) if subject in m["Subject"])

    def link_in(self, message: EmailMessage, path: str) -> str:
        """The link to `path` in a mail's plain-text part, pointing at this server."""
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, "the mail has no plain-text part"
        text = part.get_content()
        found = re.search(re.escape(self.url(path)) + r"\?token=[^\s>\"]+", text)
        assert found, f"no {path} link in:\n{text}"
        return found.group(0)


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    handler = Recorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def journey_site(
    tmp_path_factory: pytest.TempPathFactory, smtp_server: SmtpServer
) -> Iterator[Site]:
    """The sample site mailing through the test SMTP server, with the admin area on."""
    settings = {
        "smtp_host": smtp_server.host,
        "smtp_port": str(smtp_server.port),
        "smtp_security": "none",
        "mail_from": "Weekly verdicts <verdicts@example.org>",
        "mail_rate": "1000",
        "admin_token": ADMIN_TOKEN,
        "vote_min_count": "1",
    }
    server = LiveServer(tmp_path_factory.mktemp("journeys-data"), settings)
    # Links in mails must lead back to this server, whose port is known only now.
    server.env["SHIPORSKIP_BASE_URL"] = server.base_url
    with server:
        yield Site(server, smtp_server)


def shoot(page: Page, name: str, width: int = 1280) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)


def status_of(response: Response | None) -> int | None:
    return response.status if response else None


def heading(page: Page) -> str:
    return page.locator("main h1").inner_text()


def whole(url: str) -> httpx.Response:
    """A page fetched outside the browser, checked to have arrived complete."""
    answer = httpx.get(url, timeout=10)
    assert_whole(answer)
    return answer


# -- a. the newsletter, from the footer form to the one-click unsubscribe ----------------
def test_subscribe_confirm_read_the_digest_and_unsubscribe(
    journey_site: Site, open_page: OpenPage, tmp_path: Path
) -> None:
    site = journey_site
    reader, other = "reader-a@example.com", "reader-b@example.com"
    page, errors = open_page(1280)
    page.goto(site.url("/tools/claude-sonnet-4"))
    footer = page.locator("form.newsletter-form")
    footer.get_by_label("Email address").fill(reader)
    with page.expect_navigation() as sent:
        footer.get_by_role("button", name="Subscribe").click()
    assert status_of(sent.value) == 200
    assert heading(page) == "Almost there"
    assert "Check your inbox" in page.locator("main [role=status]").inner_text()
    shoot(page, "newsletter-subscribed")

    confirmation = site.mail_to(reader, "onfirm")
    answer = page.goto(site.link_in(confirmation, "/newsletter/confirm"))
    assert status_of(answer) == 200
    assert heading(page) == "You're subscribed"
    assert "the weekly verdicts will arrive every" in page.locator("main").inner_text()
    shoot(page, "newsletter-confirm")

    # Something to write about: a tool the panel reviewed last week, and a second reader
    # who will use the mail client's one-click unsubscribe.
    runtime = open_runtime(load_settings(overrides={"data_dir": site.server.data_dir}))
    try:
        slug = add_tool(runtime, "Journey Lens")
        vote(runtime, slug, "SSSSKKK", last_week().start + timedelta(days=2))
        confirmed(runtime, other, now=datetime.now(UTC))
    finally:
        runtime.close()
    send = subprocess.run(
        [str(COMMAND), "digest", "send", "--week", str(last_week())],
        env=site.server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert send.returncode == 0, send.stdout + send.stderr
    assert "2 of 2 recipients are marked sent" in send.stdout, send.stdout

    digest = site.mail_to(reader, f"Ship or Skip {last_week()}")
    assert "1 new verdict: Journey Lens" in digest["Subject"]
    unsubscribe = site.link_in(digest, "/newsletter/unsubscribe")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"<{unsubscribe}>" in digest["List-Unsubscribe"]

    # The archive lists the issue; it reads as the mail did, without anyone's link.
    assert status_of(page.goto(site.url("/newsletter/archive"))) == 200
    assert re.match(r"Newsletter archive\s+1 issue$", heading(page)), heading(page)
    issue = page.locator("main .archive-list a").first
    assert str(last_week()) in issue.inner_text()
    shoot(page, "archive")
    issue.click()
    page.wait_for_url(f"**/newsletter/archive/{last_week()}")
    assert "Journey Lens" in page.locator("main").inner_text()
    assert "unsubscribe?token" not in page.content()

    # The link in the mail asks first (mail scanners follow links); the button acts.
    assert status_of(page.goto(unsubscribe)) == 200
    assert heading(page) == "Unsubscribe"
    shoot(page, "unsubscribe")
    with page.expect_navigation() as done:
        page.locator("main").get_by_role("button", name="Unsubscribe").click()
    assert status_of(done.value) == 200
    assert heading(page) == "Unsubscribed"
    assert "no more weekly verdicts" in page.locator("main").inner_text()
    shoot(page, "unsubscribed")

    # RFC 8058: the mail client POSTs to the List-Unsubscribe URL, no page, no cookie.
    other_mail = site.mail_to(other, f"Ship or Skip {last_week()}")
    other_link = site.link_in(other_mail, "/newsletter/unsubscribe")
    one_click = httpx.post(other_link, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert_whole(one_click)
    assert one_click.status_code == 200
    assert status_of(page.goto(other_link)) == 200
    assert heading(page) == "Unsubscribed", "the one-click POST did not unsubscribe"
    assert errors == []
