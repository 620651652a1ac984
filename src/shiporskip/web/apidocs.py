"""The API reference at /api/docs: Swagger UI served from this server, not from a CDN.

FastAPI's default page loads Swagger UI's script and stylesheet from a CDN, so it is blank
offline and on networks that block it, and every reader's visit tells a third party. The
files come from the pinned `swagger-ui-bundle-v2` package (Swagger UI 5, which reads the
OpenAPI 3.1 document FastAPI writes) and are served under `ASSETS`. The page is written
here rather than by FastAPI's `get_swagger_ui_html`, whose inline start-up script the
site's Content-Security-Policy refuses: Swagger UI starts from /static/swagger-init.js.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

DOCS_URL = "/api/docs"
ASSETS = "/static/swagger-ui"
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Mount the Swagger UI files and add the docs page; before the `/static` mount, which
    would otherwise answer (404) for `ASSETS` too."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_URL, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(
            PAGE.format(
                title=escape(f"{app.title} API"), assets=ASSETS, openapi_url=escape(openapi_url)
            )
        )
