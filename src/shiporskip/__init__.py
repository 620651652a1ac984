"""shiporskip: a panel of AI critics reviews AI tools and votes Ship or Skip."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shiporskip.errors import UserError
    from shiporskip.runtime import Runtime, open_runtime
    from shiporskip.settings import Settings, load_settings

__all__ = ["Runtime", "Settings", "UserError", "load_settings", "open_runtime"]
__version__ = "0.1.0"

# The public API is imported on first use: `shiporskip version` and `--help` must not pay for
# the database layer that `shiporskip.runtime` brings in.
_HOMES = {
    "Runtime": "shiporskip.runtime",
    "open_runtime": "shiporskip.runtime",
    "Settings": "shiporskip.settings",
    "load_settings": "shiporskip.settings",
    "UserError": "shiporskip.errors",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'shiporskip' has no attribute {name!r}")
