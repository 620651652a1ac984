"""An app factory for ASGI servers running several worker processes.

`uvicorn --factory shiporskip.web.asgi:create --workers 4` builds one app per process from
the same settings (environment and config file) as the CLI. `shiporskip serve --workers N`
passes its flags on through the environment, base_url included; run under uvicorn directly,
set SHIPORSKIP_BASE_URL (or SHIPORSKIP_HOST and SHIPORSKIP_PORT), because uvicorn's own
--port is not a setting and links would otherwise name port 8000, and pass
--no-proxy-headers: uvicorn otherwise believes X-Forwarded-For from loopback before the app
can apply `trusted_proxies` (web/proxies.py).
"""

from __future__ import annotations

from fastapi import FastAPI

from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.web.app import create_app


def create() -> FastAPI:
    """One app per worker process; migrations are already applied by the parent."""
    return create_app(open_runtime(load_settings(), upgrade=False))
