"""JSON and YAML from people: depth, duplicate keys, NUL characters."""

from __future__ import annotations

import json

import pytest

from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.structured import (
    MAX_DEPTH,
    DuplicateKey,
    TooDeep,
    find_nul,
    json_too_deep,
    load_yaml,
    loads_json,
)
from shiporskip.web.admin import edit, tool_yaml
from shiporskip.web.submit import Invalid


def test_json_depth_counts_brackets_outside_strings() -> None:
    assert not json_too_deep("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert json_too_deep("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    brackets_in_text = json.dumps(["[[[{{{" * 100, '\\"[' * 100])
    assert not json_too_deep(brackets_in_text)
    assert loads_json(brackets_in_text)[0].startswith("[[[")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 15000 + "]" * 15000,
        '{"a": ' * 5000 + "1" + "}" * 5000,
        "[" * 100_000,  # not even closed: refused before it is parsed
    ],
)
def test_deep_json_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(TooDeep, match="nested more than 64 levels deep"):
        loads_json(text)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 15000 + "]" * 15000,
        "a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)),
        "".join("  " * i + "k:\n" for i in range(200)),
    ],
)
def test_deep_yaml_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(TooDeep, match=r"^line \d+: the data is nested more than 64"):
        load_yaml(text)


def test_a_yaml_key_given_twice_is_named_with_both_lines() -> None:
    with pytest.raises(DuplicateKey) as caught:
        load_yaml("tools:\n  - name: A\n    tagline: x\n    name: B\n")
    assert str(caught.value) == (
        "line 4: the key 'name' is given twice (first on line 2); keep one of them"
    )


def test_yaml_merge_keys_and_equal_values_in_different_mappings_load() -> None:
    data = load_yaml("base: &b {unit: seat}\nplans:\n  - <<: *b\n    name: A\n  - name: A\n")
    assert data["plans"] == [{"unit": "seat", "name": "A"}, {"name": "A"}]


def test_find_nul_names_the_field() -> None:
    assert find_nul({"pricing": {"plans": [{"name": "ok"}, {"note": "a\x00b"}]}}) == (
        "pricing.plans[1].note"
    )
    assert find_nul({"a\x00": 1}) == "a"
    assert find_nul([1, "x", {"y": None}]) is None


def test_the_admin_edit_refuses_a_key_given_twice_and_saves_nothing(
    sqlite_runtime: Runtime,
) -> None:
    load_samples_if_empty(sqlite_runtime)
    before = sqlite_runtime.catalog.get("cursor")
    text = tool_yaml(before) + "tagline: Twice\n"
    with pytest.raises(Invalid) as caught:
        edit(sqlite_runtime, "cursor", text)
    assert caught.value.problems[0][0] == "yaml"
    assert "the key 'tagline' is given twice" in caught.value.problems[0][1]
    assert sqlite_runtime.catalog.get("cursor") == before
