"""Docs cannot drift: every command, option and setting is documented, with examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from shiporskip import settings_docs
from shiporskip.cli.main import app
from shiporskip.settings import table

ROOT = Path(__file__).parents[1]


def commands() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def walk(command: Any, path: str) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if hasattr(sub, "commands"):
                walk(sub, f"{path} {name}")
            else:
                found.append((f"{path} {name}", sub))

    walk(typer.main.get_command(app), "shiporskip")
    return found


def cli_section(path: str) -> str:
    text = (ROOT / "docs" / "cli.md").read_text()
    match = re.search(rf"^### `{re.escape(path)}`\n(.*?)(?=^#|\Z)", text, re.M | re.S)
    assert match, f"{path} has no section in docs/cli.md"
    return match.group(1)


@pytest.mark.parametrize(("path", "command"), commands(), ids=lambda v: str(v))
def test_every_command_and_option_is_documented(path: str, command: Any) -> None:
    section = cli_section(path)
    for param in command.params:
        if param.param_type_name == "option":
            assert any(opt in section for opt in param.opts), f"{path}: {param.opts} undocumented"
    assert "Example:" in (command.help or ""), f"{path} needs an example in its help"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    for row in table():
        assert f"`{row.env}`" in text and f"`{row.name}`" in text, row.name


def test_settings_page_is_generated_from_the_table() -> None:
    fix = "run `.venv/bin/shiporskip settings --markdown > docs/settings.md`"
    assert (ROOT / "docs" / "settings.md").read_text() == settings_docs.markdown(), fix


def test_settings_page_table_is_one_unbroken_markdown_table() -> None:
    lines = settings_docs.markdown().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| Setting |"))
    rows = lines[first : first + len(table()) + 2]
    assert all(row.startswith("|") and row.endswith("|") for row in rows)
    # Seven unescaped pipes per row: six cells, none split by a pipe in its text.
    assert {len(re.findall(r"(?<!\\)\|", row)) for row in rows} == {7}
    assert [row.split(" | ")[0].strip("| `") for row in rows[2:]] == [r.name for r in table()]


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block is not None
    lines = [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]
    assert lines == ["make run", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_security_model_names_tests_that_exist() -> None:
    """docs/security.md says which test holds each rule; a renamed test must not leave it
    pointing at nothing."""
    text = (ROOT / "docs" / "security.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", text)
    assert len(named) >= 10, named
    for path, test in named:
        source = ROOT / path
        assert source.is_file(), f"docs/security.md names {path}, which does not exist"
        if test:
            assert re.search(rf"def {test}\(", source.read_text()), (
                f"docs/security.md names {path}::{test}, which does not exist"
            )
    for setting in re.findall(r"`(\w+)` \(default", text):
        assert setting in {s.name for s in table()}, f"docs/security.md names {setting}"
