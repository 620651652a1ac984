"""The main pages in a real browser at a laptop and a phone width; screenshots for the docs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import SCREENSHOTS, WIDTHS

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# open_page(width, **context options) -> (page, console errors seen so far)
OpenPage = Callable[..., tuple["Page", list[str]]]

TOOL = "claude-sonnet-4"
PAGES = {
    "home": "/",
    "tool": f"/tools/{TOOL}",
    "compare": f"/compare/{TOOL}-vs-smolvlm2-2b",
    "critic": "/critics/skeptic",
}
TALLY = re.compile(r"\b[0-7]\s*[–-]\s*[0-7]\b")
USAGE = "20M input tokens; 4M output tokens"
PERCENT = re.compile(r"\d+(\.\d+)?\s*%")

# Elements wider than the viewport, named so a failure says what to fix.
OVERFLOWING = """() => {
  const limit = document.documentElement.clientWidth + 1;
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > limit) {
      const classes = typeof el.className === "string" ? el.className.trim() : "";
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
        (classes ? "." + classes.split(/\\s+/).join(".") : "");
      out.push(name + " right=" + Math.round(box.right));
    }
  }
  return out.slice(0, 15);
}"""


def goto(page: Page, url: str) -> int | None:
    response = page.goto(url)
    return response.status if response else None


def key_content(name: str, page: Page) -> None:
    """What a reader comes to each page for is on screen."""
    main = page.locator("main")
    if name == "home":
        assert main.get_by_role("heading", name="Latest verdicts").is_visible()
        assert main.locator("a[href^='/tools/']").first.is_visible()
    elif name == "tool":
        verdict = main.locator(".verdict-box .verdict")
        assert verdict.is_visible()
        assert re.search(r"\b(Ship|Skip|Split)\b", verdict.inner_text())
        assert TALLY.search(main.locator(".verdict-box .tally").inner_text())
    elif name == "compare":
        scorecard = main.get_by_text(re.compile("scorecard", re.I)).first
        assert scorecard.is_visible()
        # Every critic appears on the scorecard, once per tool at least.
        for critic in ("Skeptic", "Builder", "Futurist", "Buyer", "Operator", "User", "Scientist"):
            assert main.get_by_text(re.compile(critic)).first.is_visible(), critic
    elif name == "critic":
        rate = main.get_by_text(re.compile("ship rate", re.I)).first
        assert rate.is_visible()
        assert PERCENT.search(main.inner_text())


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_at_width(site: str, open_page: OpenPage, name: str, width: int) -> None:
    page, errors = open_page(width)
    status = goto(page, site + PAGES[name])
    assert status == 200, f"{PAGES[name]} answered {status}"

    assert page.locator("h1").count() == 1
    assert page.locator("main, [role=main]").count() == 1
    key_content(name, page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"scrolls sideways by {overflow}px: {page.evaluate(OVERFLOWING)}"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    assert errors == []


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_skip_link_is_first_and_moves_focus_to_main(
    site: str, open_page: OpenPage, name: str, width: int
) -> None:
    page, errors = open_page(width)
    status = goto(page, site + PAGES[name])
    assert status == 200, f"{PAGES[name]} answered {status}"

    link = page.locator("a.skip-link")
    hidden = link.bounding_box()
    assert hidden is None or hidden["x"] + hidden["width"] <= 0, "skip link shows before Tab"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    box = link.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width, box

    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # Either <main> takes focus itself (tabindex=-1), or Chromium has moved the sequential
    # focus starting point there: the next Tab must land inside main, not back in the header.
    if page.evaluate("document.activeElement.id") != "main":
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
        assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), (
            f"after the skip link, Tab went to {focused}"
        )
    assert errors == []


def test_tool_page_pricing_form_updates_in_place(site: str, open_page: OpenPage) -> None:
    page, errors = open_page(1280)
    page.goto(f"{site}/tools/{TOOL}")
    form = page.locator("form.usage-form[data-live]").first
    if form.count() == 0:
        pytest.skip("the tool page has no live pricing form (form.usage-form[data-live]) yet")
    region_id = form.get_attribute("data-live")
    region = page.locator(f"#{region_id}")
    before = region.inner_text()
    page.evaluate("window.__notReloaded = true")

    fill_usage(page)
    with page.expect_response(lambda r: r.request.headers.get("x-partial") == region_id):
        form.locator("[type=submit]").first.click()
    page.wait_for_function(
        "([id, before]) => document.getElementById(id).innerText !== before",
        arg=[region_id, before],
    )

    assert page.evaluate("window.__notReloaded === true"), "the form reloaded the page"
    assert "usage=" in page.url
    assert_priced_at_usage(page, region_id)
    assert errors == []


def fill_usage(page: Page) -> None:
    """Type a usage other than the default into the pricing form's text field."""
    field = page.locator("form.usage-form[data-live] input[type=text]").first
    assert field.input_value() != USAGE
    field.fill(USAGE)


def assert_priced_at_usage(page: Page, region_id: str | None) -> None:
    region = page.locator(f"#{region_id}")
    assert region.is_visible()
    assert region.locator(".usage-error").count() == 0, region.inner_text()
    assert re.search(r"20M input tokens.*4M output tokens", region.inner_text()), (
        region.inner_text()
    )
    assert "Cheapest" in region.inner_text()


def test_tool_page_works_without_javascript(site: str, open_page: OpenPage) -> None:
    page, errors = open_page(390, java_script_enabled=False)
    assert goto(page, f"{site}/tools/{TOOL}") == 200
    key_content("tool", page)
    assert page.locator("main .review").count() >= 1

    form = page.locator("form.usage-form[data-live]").first
    if form.count():
        # Without JavaScript the pricing form is a plain GET form: submitting navigates.
        fill_usage(page)
        with page.expect_navigation() as navigation:
            form.locator("[type=submit]").first.click()
        answer = navigation.value
        assert answer is not None and answer.status == 200
        assert "usage=" in page.url
        assert_priced_at_usage(page, form.get_attribute("data-live"))
    assert errors == []


def test_voting_updates_in_place_and_counts(site: str, open_page: OpenPage) -> None:
    """A Ship click on the tool page records a vote without reloading the page."""
    page, errors = open_page(390)
    page.goto(f"{site}/tools/moondream2")
    page.evaluate("window.__notReloaded = true")
    box = page.locator("#vote-moondream2")
    box.locator("button.vote-ship").click()
    page.wait_for_function(
        "() => document.querySelector('#vote-moondream2 legend').textContent.includes('Ship')"
    )
    assert page.evaluate("window.__notReloaded === true"), "updated in place, no reload"
    assert "1 vote so far" in page.locator("#vote-moondream2").inner_text()
    page.locator("#vote-moondream2 button.vote-skip").click()
    page.wait_for_function(
        "() => document.querySelector('#vote-moondream2 legend').textContent.includes('Skip')"
    )
    assert "1 vote so far" in page.locator("#vote-moondream2").inner_text(), "changed, not added"
    assert errors == []
