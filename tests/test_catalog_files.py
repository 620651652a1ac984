"""Importing catalog files: every bad input names file, entry, field and fix; nothing is written."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiporskip import catalog as catalog_files
from shiporskip.catalog import CatalogFileError
from shiporskip.errors import UserError
from shiporskip.runtime import Runtime
from tests.factories import make_tool, tool_data


def write(path: Path, tools: list[dict[str, Any]], fmt: str = "yaml") -> Path:
    path = path.with_suffix("." + fmt)
    if fmt == "json":
        path.write_text(json.dumps({"tools": tools}, default=str))
    else:
        path.write_text(yaml.safe_dump({"tools": tools}))
    return path


def test_import_yaml_and_json(runtime: Runtime, tmp_path: Path) -> None:
    result = catalog_files.import_file(
        runtime.catalog, write(tmp_path / "a", [tool_data("One"), tool_data("Two")])
    )
    assert result.created == ("one", "two")
    result = catalog_files.import_file(
        runtime.catalog, write(tmp_path / "b", [tool_data("Three")], "json")
    )
    assert runtime.catalog.count() == 3


def test_export_round_trips_with_import(runtime: Runtime, tmp_path: Path) -> None:
    tools = [
        make_tool("One", aliases=["Uno"], launch_date="2025-05-01", licence="MIT"),
        make_tool(
            "Two",
            category="models",
            open_weights=True,
            licence="Apache-2.0",
            pricing={"entry": "open-source", "note": "Weights are free to download."},
        ),
    ]
    runtime.catalog.import_tools(tools)
    for fmt in ("yaml", "json"):
        text = catalog_files.dump(runtime.catalog.list(), fmt)
        path = tmp_path / f"export.{fmt}"
        path.write_text(text)
        assert catalog_files.load_file(path) == runtime.catalog.list()


def expect_problem(runtime: Runtime, path: Path, *fragments: str) -> str:
    before = runtime.catalog.count()
    with pytest.raises(UserError) as info:
        catalog_files.import_file(runtime.catalog, path)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert runtime.catalog.count() == before, "a failed import must write nothing"
    return message


def test_malformed_yaml(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("tools:\n  - name: [unclosed\n")
    expect_problem(runtime, path, str(path), "line 3", "invalid YAML")


def test_malformed_json(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"tools": [ {"name": "x",} ]}')
    expect_problem(runtime, path, str(path), "line 1, column", "invalid JSON")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("just a string", "expected a list of tools"),
        ("tools: []", "holds no tools"),
        ("tools: [1]\nextra: 2", "unknown top-level key(s) extra"),
        ("tools:\n  - 42", "entry 1: expected a mapping"),
    ],
)
def test_wrong_shapes(runtime: Runtime, tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "shape.yaml"
    path.write_text(content)
    expect_problem(runtime, path, fragment)


def test_missing_file_and_directory(runtime: Runtime, tmp_path: Path) -> None:
    expect_problem(runtime, tmp_path / "nope.yaml", "file not found")
    expect_problem(runtime, tmp_path, "is a directory")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    expect_problem(runtime, binary, "is not UTF-8")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"vendor": None}, ["entry 2 (Bad): vendor:", "write it as text"]),
        ("drop:tagline", ["entry 2 (Bad): tagline: is required; add it"]),
        ({"category": "Blockchain"}, ["category: unknown category 'Blockchain'", "Models"]),
        ({"open_weights": "sometimes"}, ["open_weights:", "write true or false"]),
        (
            {"pricing": {"entry": "paid", "plans": [{"name": "P", "amount": -5, "unit": "seat"}]}},
            ["pricing.plans[0].charges[0].amount", "use a larger number"],
        ),
        (
            {"pricing": {"entry": "paid", "plans": [{"name": "P", "amount": 5, "unit": "yak"}]}},
            ["unknown unit 'yak'"],
        ),
        (
            {
                "pricing": {
                    "entry": "paid",
                    "plans": [{"name": "P", "amount": 5, "unit": "seat", "currency": "DOGE"}],
                }
            },
            ["pricing.plans[0].currency: unknown currency 'DOGE'"],
        ),
        (
            {
                "pricing": {
                    "entry": "paid",
                    "plans": [{"name": "P", "amount": 5, "unit": "flat", "limit": 1}],
                }
            },
            ["pricing.plans[0].charges[0]: a flat fee cannot have a limit", "unit: seat, limit: 1"],
        ),
        (
            {
                "pricing": {
                    "entry": "paid",
                    "plans": [{"name": "P", "amount": 5, "unit": "seat", "limit": 0}],
                }
            },
            ["pricing.plans[0].charges[0].limit", "use a larger number"],
        ),
        (
            {
                "pricing": {
                    "entry": "paid",
                    "plans": [{"name": "P", "amount": 5, "unit": "seat", "minimum": 5, "limit": 2}],
                }
            },
            ["minimum 5 is above the limit 2; no usage could buy this plan"],
        ),
        (
            {
                "pricing": {
                    "entry": "paid",
                    "plans": [{"name": "P", "amount": 5, "unit": "seat", "minimum": "lots"}],
                }
            },
            ["pricing.plans[0].charges[0].minimum"],
        ),
        ({"slug": "Bad Slug!"}, ["slug 'Bad Slug!' may hold only"]),
        ({"slug": "cursor-vs-copilot"}, ["reserved for comparison pages"]),
        ({"launch_date": "last tuesday"}, ["launch_date:", "YYYY-MM-DD"]),
        ({"homepage": "example dot com"}, ["homepage: 'example dot com' is not a web address"]),
        ({"favourite": True}, ["favourite: is not a known field; remove it"]),
    ],
)
def test_bad_entries_name_file_entry_field_and_fix(
    runtime: Runtime, tmp_path: Path, change: Any, fragments: list[str]
) -> None:
    bad = tool_data("Bad")
    if change == "drop:tagline":
        del bad["tagline"]
    else:
        bad.update(change)
    path = write(tmp_path / "catalog", [tool_data("Good"), bad])
    message = expect_problem(runtime, path, str(path), "nothing was imported", *fragments)
    assert "Traceback" not in message


def test_every_problem_is_reported_at_once(runtime: Runtime, tmp_path: Path) -> None:
    entries = [tool_data(f"Bad {i}", category="Nope") for i in range(3)]
    message = expect_problem(runtime, write(tmp_path / "c", entries), "entry 1", "entry 2")
    assert "entry 3 (Bad 2)" in message


def test_duplicate_inside_one_file(runtime: Runtime, tmp_path: Path) -> None:
    entries = [tool_data("SmolVLM2"), tool_data("smolvlm 2", homepage="https://other.example")]
    expect_problem(
        runtime,
        write(tmp_path / "dup", entries),
        "entry 2 (smolvlm 2): same name as entry 1 (SmolVLM2)",
        "aliases",
    )


def test_duplicate_against_the_database(runtime: Runtime, tmp_path: Path) -> None:
    runtime.catalog.add(make_tool("Cursor", homepage="https://cursor.com"))
    entries = [
        tool_data("Fine"),
        tool_data("Cursor Editor", homepage="https://www.cursor.com/"),
    ]
    expect_problem(
        runtime,
        write(tmp_path / "dup", entries),
        "entry 2 (Cursor Editor)",
        "already in the catalog as 'cursor'",
        "shiporskip tools edit cursor",
    )
    assert runtime.catalog.find("fine") is None


def test_catalog_file_error_caps_the_list(tmp_path: Path) -> None:
    error = CatalogFileError(tmp_path / "x.yaml", [f"p{i}" for i in range(30)])
    assert "… and 10 more" in str(error)
