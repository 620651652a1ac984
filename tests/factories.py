"""Small builders for test data."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shiporskip.domain.reviews import Prediction, ReviewDraft, ReviewRecord, Verdict
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


def review_record(
    slug: str,
    critic: str,
    verdict: str | None = "ship",
    score: int = 70,
    *,
    one_liner: str = "A scripted take.",
    body: str = " ".join(["word"] * 90),
    status: str = "ok",
    **fields: Any,
) -> ReviewRecord:
    """A stored review (or, with status "failed", a failed attempt) as the panel writes it."""
    draft = None
    if status == "ok" and verdict is not None:
        draft = ReviewDraft(verdict=Verdict(verdict), score=score, one_liner=one_liner, body=body)
    values: dict[str, Any] = {
        "provider": "test",
        "model": "test-model",
        "prompt_version": "test",
        "input_hash": f"{slug}:{critic}:{verdict}:{score}",
        "params": {},
        "error": None if status == "ok" else "timed out",
    }
    values.update(fields)
    return ReviewRecord(tool_slug=slug, critic_id=critic, status=status, draft=draft, **values)


def predicting(
    slug: str, critic: str, claim: str | None, months: int = 12, **fields: Any
) -> ReviewRecord:
    """A stored successful review carrying a prediction (none when `claim` is None)."""
    record = review_record(slug, critic, **fields)
    assert record.draft is not None
    prediction = None if claim is None else Prediction(claim=claim, horizon_months=months)
    return replace(record, draft=record.draft.model_copy(update={"prediction": prediction}))
