"""Request bodies read once, the same way on every route: url-encoded forms and JSON.

A NUL character is refused (422 naming the field) before any value reaches a store:
PostgreSQL text cannot hold one, and no form field needs one. JSON nested beyond
`structured.MAX_DEPTH` is refused before Python's recursive reader sees it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import HTTPException

from shiporskip.structured import TooDeep, find_nul, loads_json


def _named(field: str) -> str:
    shown = field.replace("\x00", "")
    return repr(shown if len(shown) <= 40 else shown[:40] + "…")


def nul_refusal(field: str, where: str) -> HTTPException:
    return HTTPException(
        422,
        f"the {where} {_named(field)} holds a NUL character, which cannot be stored; "
        "remove it and send it again",
    )


def parse_form(body: bytes, *, keep_blank_values: bool = True) -> dict[str, list[str]]:
    """A url-encoded body as `parse_qs` reads it; 422 when a name or value holds a NUL."""
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=keep_blank_values)
    for name, values in fields.items():
        if "\x00" in name or any("\x00" in value for value in values):
            raise nul_refusal(name, "form field")
    return fields


def parse_json(body: bytes) -> Any:
    """A JSON body (empty: None); 422 when nested too deep or a field holds a NUL.
    Invalid JSON raises `ValueError` (JSONDecodeError, UnicodeDecodeError) for the caller."""
    try:
        data = loads_json(body or b"null")
    except TooDeep as exc:
        raise HTTPException(422, str(exc)) from None
    where = find_nul(data)
    if where is not None:
        raise nul_refusal(where, "field")
    return data
