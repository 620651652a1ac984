"""Catalog files: read (YAML or JSON) and validate many tools at once, and write them back.

An import is all or nothing. Every problem is reported with the file, the entry, the field
and the fix, and nothing is written until every entry is valid.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shiporskip.domain.text import EXCERPT, excerpt
from shiporskip.domain.tools import Tool
from shiporskip.errors import DuplicateToolError, UserError
from shiporskip.storage.catalog import CatalogStore, ImportResult, update_hint
from shiporskip.structured import load_yaml, loads_json

MAX_ERRORS_SHOWN = 20

_FIXES: dict[str, str] = {
    "missing": "add it",
    "extra_forbidden": "remove it or fix its spelling",
    "string_type": "write it as text",
    "string_too_short": "it may not be empty",
    "string_too_long": "shorten it",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "decimal_parsing": "write a number such as 5 or 0.25",
    "decimal_type": "write a number such as 5 or 0.25",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "date_from_datetime_parsing": "write a date as YYYY-MM-DD",
    "date_parsing": "write a date as YYYY-MM-DD",
    "date_type": "write a date as YYYY-MM-DD",
    "enum": "use one of the listed values",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
    "tuple_type": "write a list",
    "list_type": "write a list",
    "model_type": "write a mapping of field: value",
    "dict_type": "write a mapping of field: value",
}


class CatalogFileError(UserError):
    """A catalog file that cannot be imported; `problems` holds one line per problem."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_ERRORS_SHOWN]
        more = len(self.problems) - len(shown)
        lines = [f"{path}: nothing was imported; fix these and run the import again:"]
        lines += [f"  - {p}" for p in shown]
        if more:
            lines.append(f"  … and {more} more")
        super().__init__("\n".join(lines))


def _field_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(entry)"


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One 'field: problem; fix' line per error, in words a catalog editor understands."""
    lines = []
    for err in exc.errors(include_url=False):
        field = _field_path([p for p in err["loc"] if p not in ("function-after",)])
        kind = err["type"]
        message = str(err["msg"])
        if kind == "value_error":
            message = message.removeprefix("Value error, ")
            lines.append(f"{field}: {message}")
            continue
        if kind == "missing":
            lines.append(f"{field}: is required; add it")
            continue
        if kind == "extra_forbidden":
            lines.append(f"{field}: is not a known field; remove it or fix its spelling")
            continue
        fix = _FIXES.get(kind, "correct the value")
        given = err.get("input")
        if isinstance(given, str):
            given = excerpt(given)
        shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) else ""
        lines.append(f"{field}: {message[0].lower() + message[1:]}{shown}; {fix}")
    # A message quotes at most excerpts of the input; this bounds what any message adds.
    return [excerpt(line, 8 * EXCERPT) for line in lines]


def _entry_label(index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"entry {index + 1}" + (f" ({name})" if isinstance(name, str) and name else "")


def parse_file(path: Path) -> list[Any]:
    """The raw entries of a YAML or JSON catalog file: a list, or a mapping with `tools`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory; give a .yaml or .json file") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: is not UTF-8 text; save it as UTF-8 YAML or JSON") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    try:
        data = loads_json(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except UserError as exc:  # nested too deep, a key given twice
        raise UserError(f"{path}: {exc}; nothing was imported") from None
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg}); "
            "fix the syntax there"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise UserError(f"{path}: {where}invalid YAML ({problem}); fix the syntax there") from None
    if isinstance(data, dict) and "tools" in data:
        extra = sorted(set(data) - {"tools"})
        if extra:
            raise UserError(f"{path}: unknown top-level key(s) {', '.join(extra)}; only `tools`")
        data = data["tools"]
    if not isinstance(data, list):
        raise UserError(
            f"{path}: expected a list of tools (or a mapping with a `tools:` list), "
            f"found {type(data).__name__}"
        )
    if not data:
        raise UserError(f"{path}: holds no tools; add at least one entry under `tools:`")
    return data


def validate_entries(path: Path | str, entries: Sequence[Any]) -> list[Tool]:
    """Validate every entry and check the batch for duplicates; raise with all problems."""
    problems: list[str] = []
    valid: list[tuple[int, Tool]] = []
    for index, raw in enumerate(entries):
        label = _entry_label(index, raw)
        if not isinstance(raw, dict):
            problems.append(f"{label}: expected a mapping of field: value")
            continue
        try:
            valid.append((index, Tool.model_validate(raw)))
        except ValidationError as exc:
            problems += [f"{label}: {line}" for line in describe_validation_error(exc)]
    seen: dict[str, tuple[int, str]] = {}
    for index, tool in valid:
        keys = [("slug", tool.slug), ("homepage", tool.homepage_key)]
        keys += [("name", k) for k in sorted(tool.name_keys)]
        for kind, key in keys:
            first = seen.get(f"{kind}:{key}")
            if first is not None and first[0] != index:
                problems.append(
                    f"{_entry_label(index, entries[index])}: same {kind} as entry "
                    f"{first[0] + 1} ({first[1]}); one product gets one entry, "
                    "so merge them (put other names under `aliases`)"
                )
                break
            seen.setdefault(f"{kind}:{key}", (index, tool.name))
    if problems:
        raise CatalogFileError(path, problems)
    return [tool for _, tool in valid]


def load_file(path: Path) -> list[Tool]:
    return validate_entries(path, parse_file(path))


def import_file(store: CatalogStore, path: Path, *, update: bool = False) -> ImportResult:
    """Validate the whole file, then write it in one transaction."""
    tools = load_file(path)
    return import_tools(store, path, tools, update=update)


def import_tools(
    store: CatalogStore, source: Path | str, tools: Sequence[Tool], *, update: bool = False
) -> ImportResult:
    try:
        return store.import_tools(tools, update=update)
    except DuplicateToolError as exc:
        index = exc.index
        label = f"entry {index + 1} ({tools[index].name})" if index is not None else "an entry"
        message = str(exc)
        if update and index is not None and tools[index].slug != exc.existing_slug:
            message = message.split("; to change")[0] + "; " + update_hint(exc.existing_slug)
        raise CatalogFileError(source, [f"{label}: {message}"]) from None


def dump(tools: Sequence[Tool], fmt: str = "yaml") -> str:
    """Tools as a catalog file that `tools import` reads back unchanged."""
    data = {"tools": [t.to_data() for t in tools]}
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


SAMPLE_CATALOG = "catalog.yaml"


def sample_tools() -> list[Tool]:
    """The bundled sample catalog, validated."""
    resource = resources.files("shiporskip.sample").joinpath(SAMPLE_CATALOG)
    with resources.as_file(resource) as path:
        return load_file(path)


def load_sample_if_empty(store: CatalogStore) -> int:
    """Load the sample catalog into an empty database; return how many tools were added."""
    if store.count():
        return 0
    tools = sample_tools()
    import_tools(store, "sample catalog", tools)
    return len(tools)
