"""JSON and YAML from people: bounded nesting, no duplicate keys, no NUL characters.

Python's JSON reader and PyYAML's composer recurse once per level, so a 30 KB body of
`[[[[…` crashed them (RecursionError) before any validation ran. The depth is checked here
first, by a scan that does not recurse. YAML that repeats a key silently kept the last
value; here it is refused with the key and its line. A NUL character cannot be stored in
PostgreSQL text, so `find_nul` names the field that holds one.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

from shiporskip.errors import UserError

# Far deeper than any catalog entry (a tool is five levels deep), far below recursion limits.
MAX_DEPTH = 64


class TooDeep(UserError):
    """Nested deeper than MAX_DEPTH."""


def too_deep(where: str = "") -> TooDeep:
    return TooDeep(
        f"{where}the data is nested more than {MAX_DEPTH} levels deep; "
        "no catalog field needs that, so flatten it"
    )


def json_too_deep(text: str | bytes) -> bool:
    """Whether JSON text nests brackets beyond MAX_DEPTH, strings skipped (no recursion)."""
    data = text.encode() if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return False  # too few brackets to be too deep: skip the byte-by-byte scan
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def loads_json(text: str | bytes) -> Any:
    """`json.loads`, raising TooDeep first for data nested beyond MAX_DEPTH."""
    if json_too_deep(text):
        raise too_deep()
    return json.loads(text)


def field_path(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the body)"


def find_nul(data: Any) -> str | None:
    """The path of the first key or string value holding a NUL character, else None."""
    stack: list[tuple[list[str | int], Any]] = [([], data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return field_path(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and "\x00" in key:
                    return field_path([*path, key.replace("\x00", "")])
                stack.append(([*path, str(key)], item))
        elif isinstance(value, list | tuple):
            stack += [([*path, i], item) for i, item in enumerate(value)]
    return None


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting beyond MAX_DEPTH and keys given twice."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise too_deep(f"line {mark.line + 1}: ")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, Hashable) and key in seen:
                raise DuplicateKey(key, seen[key], line)
            if isinstance(key, Hashable):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


class DuplicateKey(UserError):
    """A YAML mapping that gives a key twice."""

    def __init__(self, key: Any, first: int, again: int) -> None:
        shown = str(key)
        shown = shown if len(shown) <= 80 else shown[:80] + "…"
        super().__init__(
            f"line {again}: the key {shown!r} is given twice (first on line {first}); "
            "keep one of them",
        )


def load_yaml(text: str) -> Any:
    """`yaml.safe_load` with StrictLoader: TooDeep or DuplicateKey instead of a crash."""
    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
