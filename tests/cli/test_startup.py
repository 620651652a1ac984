"""A fast CLI: `--help`, `version` and the light commands load no database, LLM or web code.

Counted in imported modules, not seconds: each case runs in a fresh interpreter and reports
which heavy packages it imported.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from shiporskip.cli.main import ROOT_OPTIONS, Root, main

HEAVY = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "openai",
    "anthropic",
    "llama_cpp",
    "httpx",
    "pydantic",
    "shiporskip.runtime",
    "shiporskip.storage",
    "shiporskip.web",
    "shiporskip.panel",
    "shiporskip.llm",
    "rich.console",  # made on first print; version and --help print with typer
)

PROBE = """
import json, sys
from shiporskip.cli.main import main
code = main(json.loads(sys.argv[1]))
heavy = json.loads(sys.argv[2])
loaded = sorted({h for h in heavy for m in sys.modules if m == h or m.startswith(h + ".")})
print("\\n" + json.dumps({"code": code, "loaded": loaded}))
"""


def imported_by(
    args: list[str], tmp_path: Path, heavy: tuple[str, ...] = HEAVY
) -> dict[str, object]:
    """Run the CLI with args in a fresh interpreter; which heavy packages did it import?"""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(heavy)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.stdout, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["version"],
        ["--data-dir", "elsewhere", "--database-url", "sqlite:///x.db", "version"],
        ["categories", "--help"],
        ["db", "--help"],
        ["serve", "--help"],
    ],
    ids=" ".join,
)
def test_light_commands_import_no_heavy_package(args: list[str], tmp_path: Path) -> None:
    assert imported_by(args, tmp_path) == {"code": 0, "loaded": []}


def test_a_command_that_needs_the_database_still_loads_it(tmp_path: Path) -> None:
    # The probe itself can see a heavy import: the case above is not passing by accident.
    args = ["--data-dir", str(tmp_path / "data"), "tools", "list", "--json"]
    first = imported_by(args, tmp_path)
    assert first["code"] == 0
    assert {"sqlalchemy", "alembic", "shiporskip.runtime"} <= set(first["loaded"])  # type: ignore[arg-type]
    # Once the schema is current, a command reads it without Alembic or the LLM machinery.
    machinery = ("alembic", "httpx", "openai", "shiporskip.panel.factory", "shiporskip.panel.run")
    assert imported_by(args, tmp_path, machinery) == {"code": 0, "loaded": []}


def test_the_shipped_heads_read_without_alembic_are_alembics() -> None:
    from shiporskip.storage import migrate

    assert migrate.shipped_heads() == set(migrate.head_revision().split(","))  # type: ignore[union-attr]


@pytest.mark.parametrize("name", sorted(Root.lazy))
def test_each_lazy_summary_is_the_commands_own_first_paragraph(name: str) -> None:
    command = Root.lazy[name].load(name, ROOT_OPTIONS)
    first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0]
    assert Root.lazy[name].summary == first_paragraph, f"update Root.lazy[{name!r}] in cli/main.py"


def test_root_help_is_the_same_before_and_after_every_command_is_loaded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import typer

    from shiporskip.cli.main import app

    assert main(["--help"]) == 0
    lazy_help = capsys.readouterr().out
    group = typer.main.get_command(app)
    loaded = {name: group.commands[name] for name in Root.order}  # type: ignore[attr-defined]
    assert list(loaded) == list(group.commands)  # type: ignore[attr-defined]
    context = group.make_context("shiporskip", ["--data-dir", "x", "version"])
    assert group.get_help(context) == lazy_help.rstrip("\n")
    for name in Root.order:
        assert f"\n  {name} " in lazy_help
