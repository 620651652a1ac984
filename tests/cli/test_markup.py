"""Maker text that looks like Rich markup prints as itself and never crashes a command."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiporskip.cli.main import main
from tests.live import COMMAND
from tests.llm.fault_server import FaultServer, serve
from tests.support import review_json

NAME = "Bad [/] Name [bold]"
ADD = [
    "tools", "add", "--name", NAME, "--vendor", "Vendor [/]",
    "--homepage", "https://example.com/bad", "--category", "Search",
    "--tagline", "Tagline [red]not red[/]", "--description", "Closes [/] nothing.",
    "--entry", "paid", "--plan", "Requests [/]: 5 USD per 1000 requests",
]  # fmt: skip
SLUG = "bad-name-bold"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


def test_add_edit_show_list_print_markup_literally(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *ADD)
    assert code == 0, err
    assert out.strip() == f"Added {NAME} as {SLUG}."
    code, out, err = run(capsys, "tools", "show", SLUG)
    assert code == 0, err
    assert f"{NAME} — Tagline [red]not red[/]" in out and "Closes [/] nothing." in out
    code, out, err = run(capsys, "tools", "list")
    assert code == 0 and NAME in out
    code, out, err = run(capsys, "tools", "cost", SLUG, "--usage", "1000 requests")
    assert code == 0 and "Requests [/]: $5 a month" in out
    code, out, err = run(capsys, "tools", "edit", SLUG, "--tagline", "Now [/] this")
    assert code == 0, err
    assert out.strip() == f"Updated {NAME} ({SLUG})."


def test_review_prints_a_markup_name_literally(
    server: FaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, *ADD)[0] == 0
    server.set(("ok", review_json("ship", 81)))
    model = f"openai-compatible:scripted@{server.base_url}"
    code, out, err = run(capsys, "review", SLUG, "--model", model)
    assert code == 0, err
    assert f"{NAME}: Ship 7-0 · ship 100% · 7 of 7 critics reported" in out


def test_the_console_script_prints_markup_literally(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
    env |= {"SHIPORSKIP_DATA_DIR": str(tmp_path), "SHIPORSKIP_LOAD_SAMPLE": "false"}
    for args, expected in (
        (ADD, f"Added {NAME} as {SLUG}."),
        (["tools", "show", SLUG], f"{NAME} — Tagline [red]not red[/]"),
        (["tools", "edit", SLUG, "--vendor", "V [/]"], f"Updated {NAME} ({SLUG})."),
    ):
        done = subprocess.run(
            [str(COMMAND), *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout and "Traceback" not in done.stderr
