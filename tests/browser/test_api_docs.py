"""/api/docs works offline: Swagger UI renders the API from this server's files alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.browser


def test_api_docs_render_with_no_other_host(
    site: str, open_page: Callable[..., tuple[Page, list[str]]]
) -> None:
    page, errors = open_page(1280)
    here = urlsplit(site).netloc
    elsewhere: list[str] = []

    def only_here(route: Route, *_: Any) -> None:
        if urlsplit(route.request.url).netloc == here:
            route.continue_()
        else:  # as on a machine with no way out: the page must not need it
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_here)
    page.goto(f"{site}/api/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="shiporskip").wait_for()
    page.locator(".opblock-summary-path", has_text="/api/v1/tools/{slug}").first.wait_for()
    assert elsewhere == [] and errors == []
