"""A strict schema with a tolerant reader: find the JSON object in what a model wrote."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from shiporskip.domain.reviews import ReviewDraft


class ReviewParseError(ValueError):
    """Model output that is not a valid review; the message is fed back for one repair."""


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def _candidates(text: str) -> list[str]:
    found = [m.group(1) for m in _FENCE.finditer(text)]
    start = text.find("{")
    if start != -1:
        depth, in_string, escaped = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    found.append(text[start : i + 1])
                    break
    found.append(text)
    return found


def parse_review(text: str) -> ReviewDraft:
    """Parse and validate; raise ReviewParseError saying what is wrong."""
    if not text.strip():
        raise ReviewParseError("the answer was empty")
    data: Any = None
    for candidate in _candidates(text):
        try:
            data = json.loads(candidate)
            break
        except json.JSONDecodeError:
            continue
    if not isinstance(data, dict):
        raise ReviewParseError("the answer is not a JSON object")
    if data.get("prediction") in ({}, None, ""):
        data.pop("prediction", None)
    if isinstance(data.get("verdict"), str):
        data["verdict"] = data["verdict"].strip().lower()
    try:
        return ReviewDraft.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'object'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise ReviewParseError(f"the JSON does not match the review schema ({problems})") from None
