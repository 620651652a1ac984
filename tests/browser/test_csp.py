"""The Content-Security-Policy (`web/headers.py`) refuses nothing the pages themselves do.

Each journey runs in Chromium against the real server with a listener for the browser's
`securitypolicyviolation` events and its console; both must stay silent while the page's
scripts run: the vote box and the pricing form update in place, the submit form posts,
Swagger UI starts from its file and calls the API. A first test proves the listener
hears: an inline script put into a page does not run and is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

OpenPage = Callable[..., tuple["Page", list[str]]]
# Runs before the page's own scripts, in every document of the context.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} (${where})`);
});
"""


def watched(open_page: OpenPage) -> tuple[Page, list[str]]:
    page, errors = open_page(1280)
    page.add_init_script(LISTEN)
    return page, errors


def refused(page: Page, errors: list[str]) -> list[str]:
    """What the policy refused on the current page, by event and by console message."""
    events: list[str] = page.evaluate("window.__violations || []")
    said = [e for e in errors if "Content Security Policy" in e]
    return events + said


def test_the_policy_is_in_force_and_heard(site: str, open_page: OpenPage) -> None:
    page, errors = watched(open_page)
    page.goto(f"{site}/")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__inline = true";
          document.body.append(s);
        }"""
    )
    page.wait_for_function("() => window.__violations.length > 0")
    assert page.evaluate("window.__inline === undefined"), "an inline script ran"
    assert any("script-src" in v for v in refused(page, errors)), refused(page, errors)


def test_home_and_compare_run_with_nothing_refused(site: str, open_page: OpenPage) -> None:
    page, errors = watched(open_page)
    page.goto(f"{site}/")
    page.locator("main").wait_for()
    assert page.evaluate("window.__shiporskip === true"), "site.js did not run"
    assert refused(page, errors) == []
    page.goto(f"{site}/compare/aider-vs-cursor")
    form = page.locator("form.usage-form[data-live]").first
    if form.count():
        region = form.get_attribute("data-live")
        field = form.locator("input[type=text]").first
        field.fill("500 requests")
        with page.expect_response(lambda r: r.request.headers.get("x-partial") == region):
            form.locator("[type=submit]").first.click()
    assert refused(page, errors) == [] and errors == []


def test_voting_on_a_tool_page_runs_with_nothing_refused(site: str, open_page: OpenPage) -> None:
    page, errors = watched(open_page)
    page.goto(f"{site}/tools/cursor")
    page.evaluate("window.__notReloaded = true")
    page.locator("#vote-cursor button.vote-ship").click()
    page.wait_for_function(
        "() => document.querySelector('#vote-cursor legend').textContent.includes('Ship')"
    )
    assert page.evaluate("window.__notReloaded === true"), "site.js did not vote in place"
    assert refused(page, errors) == [] and errors == []


def test_the_submit_form_posts_with_nothing_refused(site: str, open_page: OpenPage) -> None:
    page, errors = watched(open_page)
    page.goto(f"{site}/submit")
    with page.expect_navigation() as sent:
        page.locator("form.submit-form").get_by_role("button", name="Submit for review").click()
    answer = sent.value
    assert answer is not None and answer.status == 422  # an empty form: problems listed
    assert refused(page, errors) == []


def test_swagger_ui_starts_and_calls_the_api_with_nothing_refused(
    site: str, open_page: OpenPage
) -> None:
    page, errors = watched(open_page)
    page.goto(f"{site}/api/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="shiporskip").wait_for()
    operation = page.locator(
        ".opblock-get", has=page.locator(".opblock-summary-path", has_text="/api/v1/home")
    )
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/home")):
        operation.get_by_role("button", name="Execute").click()
    operation.locator(".live-responses-table .response-col_status").first.wait_for()
    assert refused(page, errors) == [] and errors == []
