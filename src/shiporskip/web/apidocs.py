"""The API reference at /api/docs: Swagger UI served from this server, not from a CDN.

FastAPI's default page loads Swagger UI's script and stylesheet from a CDN, so it is blank
offline and on networks that block it, and every reader's visit tells a third party. The
files come from the pinned `swagger-ui-bundle-v2` package (Swagger UI 5, which reads the
OpenAPI 3.1 document FastAPI writes) and are served under `ASSETS`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

DOCS_URL = "/api/docs"
ASSETS = "/static/swagger-ui"


def install(app: FastAPI) -> None:
    """Mount the Swagger UI files and add the docs page; before the `/static` mount, which
    would otherwise answer (404) for `ASSETS` too."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_URL, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )
