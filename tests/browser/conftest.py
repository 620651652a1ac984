"""A real server and Debian's Chromium, driven by Playwright, shared by the browser tests.

Playwright's own browser downloads are not used: the test command's setup installs
Debian's `chromium` package and Playwright drives that binary.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from tests.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path(os.environ.get("SHIPORSKIP_TEST_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() == "true"
WIDTHS = {1280: 800, 390: 844, 360: 740}  # viewport width -> height: laptop, phones
# Screenshots go to a temp dir on every run; `make screenshots` writes the README's copies.
SCREENSHOTS = Path(
    os.environ.get("SHIPORSKIP_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "shiporskip-screenshots"
)
# Without the background-networking switches Chromium keeps dialling Google services,
# which on a closed network is a stream of refused connections and slow start-ups.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str) -> NoReturn:
    """Skip on a developer machine without a browser; fail in CI, which must run these."""
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true; `make setup-dev` installs it)")
    pytest.skip(f"{reason}; run `make setup-dev` to install it")


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real site (`shiporskip serve`) on a free port with the sample content."""
    with LiveServer(tmp_path_factory.mktemp("browser-data")) as server:
        yield server.base_url


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session; each test gets its own context."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def record_console_error(errors: list[str], message: ConsoleMessage) -> None:
    url = message.location.get("url") or ""
    # Chromium asks for /favicon.ico on its own whatever the page says; a page's own
    # resources (a declared icon included) are what these tests hold to no errors.
    if message.type != "error" or url.endswith("/favicon.ico"):
        return
    errors.append(f"{message.text} ({url})" if url else message.text)


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., tuple[Page, list[str]]]]:
    """Open a fresh context at a viewport width; returns the page and its console errors."""
    contexts = []

    def open_(width: int, **context_options: Any) -> tuple[Page, list[str]]:
        context = browser.new_context(
            viewport={"width": width, "height": WIDTHS[width]}, **context_options
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: record_console_error(errors, message))
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        return page, errors

    yield open_
    for context in contexts:
        context.close()
