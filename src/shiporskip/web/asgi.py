"""An app factory for ASGI servers running several worker processes.

`uvicorn --factory shiporskip.web.asgi:create --workers 4` builds one app per process from
the same settings (environment and config file) as the CLI.
"""

from __future__ import annotations

from fastapi import FastAPI

from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.web.app import create_app


def create() -> FastAPI:
    """One app per worker process; migrations are already applied by the parent."""
    return create_app(open_runtime(load_settings(), upgrade=False))
