"""What the OpenAPI schema says beyond the route signatures: the error answers of the API,
and the JSON bodies that routes read themselves.

Every refusal under /api/ is `{"error": "one sentence"}` (`app.py` turns each HTTPException
into that), so each route declares the statuses it can refuse with, and clients and the
schema test (`tests/web/test_schemathesis.py`) know every answer's shape. A route that
reads its body by hand, to bound its size and word its own errors, declares that body with
`json_body` so the schema shows it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    """A refusal: what is wrong, and how to fix it."""

    error: str


class InvalidOut(ErrorOut):
    """422: the request is not valid, and `error` says why. A submission lists each
    problem in `problems`; a parameter or body of the wrong type also gets FastAPI's list
    of `detail` objects (`web/guard.py`)."""

    problems: list[str] | None = None
    detail: list[dict[str, Any]] | None = None


class DuplicateOut(ErrorOut):
    """409: the tool is already in the catalog (`existing_url` is its page) or waiting in
    the moderation queue; or the submission was already decided."""

    existing_url: str | None = None


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    400: (
        ErrorOut,
        "The query string holds a NUL character (%00), or the body could not be read.",
    ),
    401: (ErrorOut, "No admin token, or not the right one: send `Authorization: Bearer TOKEN`."),
    403: (
        ErrorOut,
        "The visitor cookie or its CSRF token (`X-CSRF-Token`) is missing or does not match "
        "(get both from `GET /api/v1/session`), or a moderator suspended this voter.",
    ),
    404: (ErrorOut, "Nothing has that name (for the admin API: the admin area is off)."),
    409: (DuplicateOut, "It conflicts with what is already there."),
    413: (ErrorOut, "The body is larger than the route takes (`max_body_kb`, or less)."),
    422: (InvalidOut, "The request is not valid."),
    429: (ErrorOut, "Too many requests from you: wait `Retry-After` seconds."),
}
# Every route may answer these: the NUL guard sees every request (`web/guard.py`).
EVERY_ROUTE = (400,)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of an API route that can refuse with these statuses."""
    declared: dict[int | str, dict[str, Any]] = {}
    for code in sorted({*codes, *EVERY_ROUTE}):
        model, description = ERRORS[code]
        declared[code] = {"model": model, "description": description}
        if code == 429:
            declared[code]["headers"] = RETRY_AFTER
    return declared


def answers(model: type[BaseModel], *codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route whose success answer (200) is documented by `model` rather
    than produced by it (the route has `response_model=None`), and its refusals."""
    return {200: {"model": model, "description": "Successful Response"}, **errors(*codes)}


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inlined(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inlined(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(item, definitions) for item in schema]
    return schema


def json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """The `openapi_extra=` of a route that reads a JSON body of this shape itself.

    The model's schema is written out whole, its definitions inlined: a `$ref` to the
    model's own `$defs` would point nowhere inside the OpenAPI document."""
    schema = model.model_json_schema(mode="validation")
    body = _inlined({k: v for k, v in schema.items() if k != "$defs"}, schema.get("$defs", {}))
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": body}},
        }
    }
