"""Small builders for test data."""

from __future__ import annotations

from typing import Any

from shiporskip.domain.tools import Tool


def tool_data(name: str = "Example Tool", **overrides: Any) -> dict[str, Any]:
    slug_base = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
    data: dict[str, Any] = {
        "name": name,
        "vendor": "Example Co",
        "homepage": f"https://example.com/{slug_base}",
        "category": "Developer Tools",
        "tagline": f"{name} does one thing well",
        "description": "A tool used in tests.",
        "pricing": {
            "entry": "paid",
            "plans": [{"name": "API", "amount": 5, "unit": "request", "per": 1000}],
        },
    }
    data.update(overrides)
    return data


def make_tool(name: str = "Example Tool", **overrides: Any) -> Tool:
    return Tool.model_validate(tool_data(name, **overrides))
