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
from typing import TYPE_CHECKING

import httpx
import pytest

from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from tests.browser.conftest import SCREENSHOTS, WIDTHS
from tests.browser.test_pages import OVERFLOWING
from tests.live import COMMAND, LiveServer, assert_whole
from tests.newsletter.conftest import SmtpServer, mail_settings, running_smtp
from tests.newsletter.helpers import add_tool, confirmed, vote
from tests.newsletter.test_send import last_week

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Response

pytestmark = pytest.mark.browser

OpenPage = Callable[..., tuple["Page", list[str]]]
ADMIN_TOKEN = "journey-admin-token-0123456789"
CONFIRM_SUBJECT = "Confirm your subscription"


@dataclass
class Site:
    server: LiveServer
    smtp: SmtpServer

    def url(self, path: str) -> str:
        return self.server.url(path)

    def mail_to(
        self, address: str, subject: str, nth: int = 1, timeout: float = 20.0
    ) -> EmailMessage:
        """The nth mail to an address whose subject contains `subject`, once it arrives."""
        handler = self.smtp.handler

        def matching() -> list[EmailMessage]:
            return [m for m in handler.to(address) if subject in m["Subject"]]

        with handler.arrived:
            found = handler.arrived.wait_for(lambda: len(matching()) >= nth, timeout)
        assert found, (
            f"no mail '{subject}' to {address}; got {[m['Subject'] for m in handler.to(address)]}"
        )
        return matching()[nth - 1]

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
    """One SMTP server for the module's journeys (the newsletter tests' one per test)."""
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="module")
def journey_site(
    tmp_path_factory: pytest.TempPathFactory, smtp_server: SmtpServer
) -> Iterator[Site]:
    """The sample site mailing through the test SMTP server, with the admin area on."""
    # A percentage from the first vote, so a journey's one vote shows on the page.
    extra = {"admin_token": ADMIN_TOKEN, "vote_min_count": 1}
    settings = {k: str(v) for k, v in mail_settings(smtp_server, **extra).items()}
    server = LiveServer(tmp_path_factory.mktemp("journeys-data"), settings)
    # Links in mails must lead back to this server, whose port is known only now.
    server.env["SHIPORSKIP_BASE_URL"] = server.base_url
    with server:
        yield Site(server, smtp_server)


def shoot(page: Page, name: str, width: int = 1280) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)


def unexpected(errors: list[str], *statuses: int) -> list[str]:
    """Console errors, less Chromium's note on a page answered with an expected status."""
    expected = tuple(f"responded with a status of {status} " for status in statuses)
    return [e for e in errors if not any(x in e for x in expected)]


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
    journey_site: Site, open_page: OpenPage
) -> None:
    site = journey_site
    reader, other = "reader-a@example.com", "reader-b@example.com"
    page, errors = open_page(1280)
    page.goto(site.url("/tools/claude-sonnet-4"))
    footer = page.locator("form.newsletter-form")
    # A domain the browser lets through and the server does not: one sentence, and the
    # form right there to try again.
    footer.get_by_label("Email address").fill("reader-a@example")
    with page.expect_navigation() as typo:
        footer.get_by_role("button", name="Subscribe").click()
    assert status_of(typo.value) == 400
    assert heading(page) == "Check the address"
    assert "domain" in page.locator("main [role=alert]").inner_text()
    footer.get_by_label("Email address").fill(reader)
    with page.expect_navigation() as sent:
        footer.get_by_role("button", name="Subscribe").click()
    assert status_of(sent.value) == 200
    assert heading(page) == "Almost there"
    assert "Check your inbox" in page.locator("main [role=status]").inner_text()
    shoot(page, "newsletter-subscribed")

    confirmation = site.mail_to(reader, CONFIRM_SUBJECT)
    link = site.link_in(confirmation, "/newsletter/confirm")
    html = confirmation.get_body(preferencelist=("html",))
    assert html is not None and f'href="{link}"' in html.get_content(), "HTML part link differs"
    answer = page.goto(link)
    assert status_of(answer) == 200
    assert heading(page) == "You're subscribed"
    assert "the weekly verdicts will arrive every" in page.locator("main").inner_text()
    shoot(page, "newsletter-confirm")
    assert status_of(page.goto(link)) == 200
    assert heading(page) == "Already confirmed", "a second click must not confuse the reader"

    # Something to write about: a tool the panel reviewed last week, and a second reader
    # who will use the mail client's one-click unsubscribe.
    runtime = open_runtime(load_settings(overrides={"data_dir": site.server.data_dir}))
    try:
        # In a category with reviewed tools, so the digest proposes comparisons too.
        slug = add_tool(runtime, "Journey Lens", category="coding-agents")
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
    # Every link in the mail leads to a page that answers (the unsubscribe one is below).
    html = digest.get_body(preferencelist=("html",))
    assert html is not None
    links = set(re.findall(r'href="([^"]+)"', html.get_content()))
    site_links = {u for u in links if u.startswith(site.url("/")) and "unsubscribe" not in u}
    assert any("/tools/journey-lens" in u for u in site_links), links
    assert any("/compare/" in u and "journey-lens" in u for u in site_links), links
    for url in sorted(site_links):
        assert whole(url.replace("&amp;", "&")).status_code == 200, url
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
    # Its comparison links lead to the head-to-head page.
    page.locator("main a[href*='/compare/']").first.click()
    page.wait_for_url("**/compare/*")
    assert "Journey Lens" in heading(page), heading(page)

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

    # Unsubscribed by mistake: the footer form sends a fresh confirmation at once.
    footer = page.locator("form.newsletter-form")
    footer.get_by_label("Email address").fill(reader)
    with page.expect_navigation():
        footer.get_by_role("button", name="Subscribe").click()
    assert heading(page) == "Almost there"
    again = site.link_in(site.mail_to(reader, CONFIRM_SUBJECT, nth=2), "/newsletter/confirm")
    assert status_of(page.goto(again)) == 200
    assert heading(page) == "You're subscribed"

    # RFC 8058: the mail client POSTs to the List-Unsubscribe URL, no page, no cookie.
    other_mail = site.mail_to(other, f"Ship or Skip {last_week()}")
    other_link = site.link_in(other_mail, "/newsletter/unsubscribe")
    one_click = httpx.post(other_link, data={"List-Unsubscribe": "One-Click"}, timeout=10)
    assert_whole(one_click)
    assert one_click.status_code == 200
    assert status_of(page.goto(other_link)) == 200
    assert heading(page) == "Unsubscribed", "the one-click POST did not unsubscribe"
    assert unexpected(errors, 400) == []


# -- b. submitting a tool: a form with mistakes, then a good one ------------------------
GARBAGE = {
    "Name": "Journey Garbage",
    "Vendor": "",
    "Homepage": "not a web address",
    "Tagline": "",
    "Plans": "Pro: twenty dollars a month",
}


def field(form: Locator, label: str) -> Locator:
    """A form field by its label ("Name" exactly: other labels contain the word)."""
    return form.get_by_label(label, exact=label == "Name")


def fill_submission(page: Page, name: str, homepage: str) -> None:
    """Fill the submit form as a person would: labels, a category and an entry tier."""
    form = page.locator("form.submit-form")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Vendor").fill("Journey Labs")
    form.get_by_label("Homepage").fill(homepage)
    form.get_by_label("Category").select_option(index=1)
    form.get_by_label("Tagline").fill("Sketches architecture diagrams from a prompt")
    form.get_by_label("Entry tier").select_option("paid")
    form.get_by_label("Plans").fill("Pro: 20 USD per seat / month")


def submit(page: Page) -> int | None:
    with page.expect_navigation() as answer:
        page.locator("form.submit-form").get_by_role("button", name="Submit for review").click()
    return status_of(answer.value)


def submit_tool(site: Site, page: Page, name: str, homepage: str) -> str:
    """Submit a valid tool from /submit; the status page's URL."""
    assert status_of(page.goto(site.url("/submit"))) == 200
    fill_submission(page, name, homepage)
    assert submit(page) == 200
    assert "/submit/status/" in page.url, page.url
    return page.url


def test_submit_with_mistakes_keeps_the_text_then_submits(
    journey_site: Site, open_page: OpenPage
) -> None:
    site = journey_site
    page, errors = open_page(1280)
    assert status_of(page.goto(site.url("/submit"))) == 200
    assert heading(page) == "Propose an AI tool for the panel"
    shoot(page, "submit")

    form = page.locator("form.submit-form")
    for label, text in GARBAGE.items():
        field(form, label).fill(text)
    form.get_by_label("Entry tier").select_option("paid")
    assert submit(page) == 422

    problems = page.locator("main .form-problems")
    assert problems.is_visible()
    said = problems.inner_text()
    assert "Nothing was submitted" in said
    for named in ("vendor", "homepage", "category", "tagline"):
        assert named in said.lower(), f"no problem named for {named}: {said}"
    # The homepage problem is also next to its field, and the field says so.
    homepage = form.get_by_label("Homepage")
    assert homepage.get_attribute("aria-invalid") == "true"
    assert page.locator("#homepage-error").is_visible()
    # Everything typed is still there.
    for label, text in GARBAGE.items():
        assert field(form, label).input_value() == text, label
    assert form.get_by_label("Entry tier").input_value() == "paid"
    shoot(page, "submit-422")
    # At phone width the Plans field is far below; its problem in the summary leads there.
    page.set_viewport_size({"width": 390, "height": WIDTHS[390]})
    shoot(page, "submit-422", 390)
    problems.get_by_role("link", name=re.compile("^Plan line 1")).click()
    assert page.evaluate("location.hash") == "#plans"
    top = form.get_by_label("Plans").evaluate("el => el.getBoundingClientRect().top")
    assert 0 <= top < WIDTHS[390], f"the link did not lead to the Plans field (top={top})"
    page.set_viewport_size({"width": 1280, "height": WIDTHS[1280]})

    fill_submission(page, "Journey Sketchpad", "https://sketchpad.journey.example")
    assert submit(page) == 200
    assert "/submit/status/" in page.url
    assert heading(page) == "Journey Sketchpad"
    main = page.locator("main").inner_text()
    assert "Your submission is in the moderation queue" in main
    assert "Waiting for a moderator" in main
    shoot(page, "submission-status")
    assert "Journey Sketchpad" in whole(page.url).text

    # A tool the catalog has already: refused, with the way to its page.
    page.goto(site.url("/submit"))
    fill_submission(page, "Cursor", "https://www.cursor.com/")
    assert submit(page) == 409
    problems = page.locator("main .form-problems")
    assert "cursor" in problems.inner_text().lower()
    assert field(page.locator("form.submit-form"), "Name").input_value() == "Cursor"
    problems.get_by_role("link", name="Go to the existing page").click()
    page.wait_for_url("**/tools/cursor")
    assert heading(page).startswith("Cursor")
    assert unexpected(errors, 422, 409) == []


# -- e. a page that does not exist -------------------------------------------------------
def test_not_found_page_says_so_and_suggests(journey_site: Site, open_page: OpenPage) -> None:
    page, errors = open_page(1280)
    answer = page.goto(journey_site.url("/tools/claude-sonet-4"))
    assert status_of(answer) == 404
    assert heading(page) == "Not found"
    main = page.locator("main")
    assert main.locator(".error-detail").inner_text() == "No tool with slug 'claude-sonet-4'."
    assert main.get_by_text("Did you mean:", exact=True).is_visible()
    suggestion = main.get_by_role("link", name="claude-sonnet-4")
    assert suggestion.is_visible()
    assert main.get_by_role("link", name="search the tools").is_visible()
    shoot(page, "404")
    suggestion.click()
    page.wait_for_url("**/tools/claude-sonnet-4")
    assert "Claude Sonnet 4" in heading(page)
    assert "Did you mean" in whole(journey_site.url("/tools/claude-sonet-4")).text
    assert unexpected(errors, 404) == []


# -- f. moderation: the admin signs in and approves a submission -------------------------
def test_admin_signs_in_and_approves_a_submission(journey_site: Site, open_page: OpenPage) -> None:
    site = journey_site
    submitter, errors = open_page(1280)
    refused_url = submit_tool(site, submitter, "Journey Mirror", "https://mirror.journey.example")
    status_url = submit_tool(site, submitter, "Journey Tracer", "https://tracer.journey.example")

    page, admin_errors = open_page(1280)
    assert status_of(page.goto(site.url("/admin/login"))) == 200
    assert heading(page) == "Admin sign-in"
    shoot(page, "admin-login")
    # A bookmark to the queue without a session: the sign-in form (401), which comes back here.
    assert status_of(page.goto(site.url("/admin/submissions"))) == 401
    assert heading(page) == "Admin sign-in"

    page.get_by_label("Admin token").fill("not-the-token-at-all")
    with page.expect_navigation() as refused:
        page.get_by_role("button", name="Sign in").click()
    assert status_of(refused.value) == 403
    assert page.locator("main [role=alert]").is_visible()

    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/submissions*")
    assert heading(page) == "Submissions"
    card = page.locator("article.submission", has_text="Journey Tracer")
    assert card.is_visible()
    assert "https://tracer.journey.example" in card.inner_text()
    shoot(page, "admin-submissions")

    with page.expect_navigation():
        card.get_by_role("button", name="Approve and queue review").click()
    assert "journey-tracer is in the catalog" in page.locator("main").inner_text()
    assert page.locator("article.submission", has_text="Journey Tracer").count() == 0

    # Rejecting needs a reason, which the submitter then reads.
    card = page.locator("article.submission", has_text="Journey Mirror")
    card.get_by_label("Reason").fill("Not an AI tool: a static mirror of another site.")
    with page.expect_navigation():
        card.get_by_role("button", name="Reject").click()
    assert page.locator("article.submission", has_text="Journey Mirror").count() == 0
    page.locator("main").get_by_role("link", name=re.compile("Rejected")).click()
    assert (
        "Not an AI tool"
        in page.locator("article.submission", has_text="Journey Mirror").inner_text()
    )
    assert status_of(submitter.goto(refused_url)) == 200
    assert "Not accepted" in submitter.locator("main").inner_text()
    assert "Not an AI tool: a static mirror" in submitter.locator("main blockquote").inner_text()

    # Signing out ends the session: the queue asks for the token again.
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert heading(page) == "Admin sign-in"
    assert status_of(page.goto(site.url("/admin/submissions"))) == 401

    # The submitter sees the decision and the tool's new page.
    assert status_of(submitter.goto(status_url)) == 200
    assert "Approved" in submitter.locator("main").inner_text()
    submitter.get_by_role("link", name="See its page").click()
    submitter.wait_for_url("**/tools/journey-tracer")
    assert heading(submitter).startswith("Journey Tracer")
    assert errors == [] and unexpected(admin_errors, 401, 403) == []


# -- c. sign in by email and have the vote count as verified ----------------------------
def community(site: Site, slug: str) -> dict[str, object]:
    """The tool's community vote as the JSON API reports it."""
    answer = httpx.get(site.url(f"/api/v1/tools/{slug}"), timeout=10)
    assert answer.status_code == 200
    found: dict[str, object] = answer.json()["community"]
    return found


def test_sign_in_by_mail_and_cast_a_verified_vote(journey_site: Site, open_page: OpenPage) -> None:
    site, slug, reader = journey_site, "paligemma", "voter-c@example.com"
    page, errors = open_page(1280)
    assert status_of(page.goto(site.url(f"/tools/{slug}"))) == 200
    box = page.locator(f"#vote-{slug}")
    box.get_by_role("button", name="Ship").click()
    page.wait_for_function(
        f"() => document.querySelector('#vote-{slug} legend').textContent.includes('Ship')"
    )
    assert "1 vote" in box.inner_text() and "verified" not in box.inner_text()

    # The vote box says how to make the vote count as verified.
    with page.expect_navigation():
        box.get_by_role("link", name=re.compile("sign in", re.I)).click()
    assert heading(page) == "Sign in to verify your votes"
    # The browser accepts a domain without a dot; the server does not.
    typed = reader.removesuffix(".com")
    page.get_by_label("Email address").first.fill(typed)
    ask = page.locator("main").get_by_role("button", name="Email me a sign-in link")
    with page.expect_navigation() as typo:
        ask.click()
    assert status_of(typo.value) == 422
    problem = page.locator("main [role=alert]").inner_text()
    assert "domain" in problem.lower(), problem
    assert page.get_by_label("Email address").first.input_value() == typed
    page.get_by_label("Email address").first.fill(reader)
    with page.expect_navigation() as sent:
        ask.click()
    assert status_of(sent.value) == 200
    assert "a sign-in link is on its way" in page.locator("main [role=status]").inner_text()
    shoot(page, "signin")

    link = site.link_in(site.mail_to(reader, "sign-in link"), "/signin/verify")
    # The link opens a page with one button, so a mail scanner fetching it signs nobody in.
    assert status_of(page.goto(link)) == 200
    with page.expect_navigation() as pressed:
        page.locator("main").get_by_role("button", name=f"Sign in as {reader}").click()
    assert status_of(pressed.value) == 200
    assert f"You are signed in as {reader}" in page.locator("main").inner_text()
    # Signed in: no second sign-in form, a way back instead (both were missing).
    assert page.locator("main form").count() == 0
    assert page.locator("main").get_by_role("link", name="Back to the catalog").is_visible()
    shoot(page, "signin-verified")

    assert status_of(page.goto(site.url(f"/tools/{slug}"))) == 200
    box = page.locator(f"#vote-{slug}")
    page.wait_for_function(  # the visitor's own vote comes from /api/v1/me
        f"() => document.querySelector('#vote-{slug} legend').textContent.includes('Ship')"
    )
    assert "Your vote: Ship" in box.inner_text()
    assert "1 vote (1 verified)" in box.inner_text(), box.inner_text()
    counted = community(site, slug)
    assert (counted["votes"], counted["ships"], counted["verified"]) == (1, 1, 1)

    # The link works once.
    assert status_of(page.goto(link)) == 400
    assert "already used" in page.locator("main").inner_text()
    assert unexpected(errors, 400, 422) == []


# -- d. voting with and without JavaScript -----------------------------------------------
def test_vote_with_and_without_javascript(journey_site: Site, open_page: OpenPage) -> None:
    site, slug = journey_site, "qwen2-vl-2b"
    scripted, errors = open_page(1280)
    assert status_of(scripted.goto(site.url(f"/tools/{slug}"))) == 200
    scripted.evaluate("window.__notReloaded = true")
    scripted.locator(f"#vote-{slug}").get_by_role("button", name="Ship").click()
    scripted.wait_for_function(
        f"() => document.querySelector('#vote-{slug} legend').textContent.includes('Ship')"
    )
    assert scripted.evaluate("window.__notReloaded === true"), "the vote reloaded the page"
    assert "1 vote" in scripted.locator(f"#vote-{slug}").inner_text()

    plain, plain_errors = open_page(390, java_script_enabled=False)
    assert status_of(plain.goto(site.url(f"/tools/{slug}"))) == 200
    with plain.expect_navigation() as voted:
        plain.locator(f"#vote-{slug}").get_by_role("button", name="Skip").click()
    assert status_of(voted.value) == 200
    # The page is shared by everyone (any cache may keep it): the variant the form lands on
    # says what was recorded, for anyone who opens it.
    back = site.url(f"/tools/{slug}?voted={slug}:skip")
    assert plain.url.split("#")[0] == back, "back on the tool page"
    box = plain.locator(f"#vote-{slug}")
    in_view = "el => el.getBoundingClientRect().top < innerHeight"
    assert box.evaluate(in_view), "after the vote the page should open at the vote box"
    assert "Your vote (Skip) is recorded." in box.get_by_role("status").inner_text()
    assert "Your vote: Skip" in box.inner_text()
    assert "2 votes" in box.inner_text() and "50%" in box.inner_text(), box.inner_text()
    assert box.get_by_role("button", name="Skip").get_attribute("aria-pressed") == "true"

    # With JavaScript, the page (the same bytes for everyone) learns this visitor's vote
    # from /api/v1/me and marks it.
    scripted.reload()
    box = scripted.locator(f"#vote-{slug}")
    scripted.wait_for_function(
        f"() => document.querySelector('#vote-{slug} legend').textContent.includes('Ship')"
    )
    assert "Your vote: Ship" in box.inner_text() and "2 votes" in box.inner_text()
    assert box.get_by_role("button", name="Ship").get_attribute("aria-pressed") == "true"
    assert box.get_by_role("button", name="Skip").get_attribute("aria-pressed") is None
    assert box.get_by_role("button", name="Withdraw").is_visible()
    assert "recorded" not in box.inner_text(), "the plain page says nothing of anyone's vote"
    counted = community(site, slug)
    assert (counted["votes"], counted["ships"], counted["skips"]) == (2, 1, 1)
    assert errors == [] and plain_errors == []


# -- the form pages fit a phone ----------------------------------------------------------
FORM_PAGES = {
    "/submit": 200,
    "/signin": 200,
    "/admin/login": 200,
    "/newsletter/archive": 200,
    "/newsletter/unsubscribe?token=tampered": 400,
    "/tools/claude-sonet-4": 404,
}


@pytest.mark.parametrize("path", list(FORM_PAGES))
def test_form_pages_fit_a_phone_with_labelled_fields(
    journey_site: Site, open_page: OpenPage, path: str
) -> None:
    page, errors = open_page(360)
    assert status_of(page.goto(journey_site.url(path))) == FORM_PAGES[path]
    assert page.locator("main h1").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"scrolls sideways by {overflow}px: {page.evaluate(OVERFLOWING)}"
    fields = page.locator(":is(input, select, textarea):visible").all()
    for field in fields:
        if field.evaluate("el => el.closest('.hp') !== null"):
            continue  # the honeypot is kept off-screen on purpose
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        named = "el => el.labels.length > 0 || !!el.getAttribute('aria-label')"
        assert field.evaluate(named), (
            f"a field without a label: {field.evaluate('el => el.outerHTML')}"
        )
    assert unexpected(errors, FORM_PAGES[path]) == []


def admin_sign_in(site: Site, page: Page) -> None:
    assert status_of(page.goto(site.url("/admin/login"))) == 200
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/admin" in page.url and "login" not in page.url, page.url


def test_admin_edits_a_tool_and_a_mistake_keeps_the_text(
    journey_site: Site, open_page: OpenPage
) -> None:
    site, slug = journey_site, "internvl2-8b"
    page, errors = open_page(1280)
    admin_sign_in(site, page)
    page.locator("nav").get_by_role("link", name="Tools").click()
    row = page.locator("tr", has=page.locator(f"code:text-is('{slug}')"))
    with page.expect_navigation():
        row.get_by_role("link", name="Edit").click()
    assert heading(page).startswith("Edit ")
    yaml_box = page.get_by_label(re.compile("catalog entry"))
    original = yaml_box.input_value()
    assert re.search(r"^tagline: ", original, re.M), original

    broken = re.sub(r"^(\s*)entry: .*$", r"\1entry: gratis", original, count=1, flags=re.M)
    assert broken != original
    yaml_box.fill(broken)
    with page.expect_navigation() as refused:
        page.get_by_role("button", name="Save").click()
    assert status_of(refused.value) == 422
    problems = page.locator("main .form-problems").inner_text()
    assert "entry" in problems.lower(), problems
    assert page.get_by_label(re.compile("catalog entry")).input_value() == broken

    fixed = re.sub(
        r"^tagline: .*$", "tagline: Reads charts and scanned forms", original, flags=re.M
    )
    page.get_by_label(re.compile("catalog entry")).fill(fixed)
    with page.expect_navigation() as saved:
        page.get_by_role("button", name="Save").click()
    assert status_of(saved.value) == 200
    assert "saved" in page.locator("main").inner_text().lower()
    page.get_by_role("link", name="View the page").click()
    page.wait_for_url(f"**/tools/{slug}")
    assert "Reads charts and scanned forms" in page.locator("main").inner_text()
    assert unexpected(errors, 422) == []
