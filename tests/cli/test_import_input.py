"""`shiporskip tools import` with hostile files (one case also as the installed command).

Deep nesting crashed the JSON and YAML readers with a traceback; a key given twice in YAML
silently kept the last value; control, bidi-override and zero-width characters were stored
as given; a huge field made a message as large as the field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shiporskip.cli.main import main
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from tests.factories import tool_data
from tests.web.test_live_maker_text import UNSHOWABLE, dirty_entry

COMMAND = Path(sys.executable).with_name("shiporskip")


def shiporskip(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def stored_names() -> list[str]:
    runtime = open_runtime(load_settings())
    try:
        return [tool.name for tool in runtime.catalog.list()]
    finally:
        runtime.close()


def refused(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    """Run the import, which must fail with one short message and write nothing."""
    code, out, err = shiporskip(capsys, "tools", "import", str(path))
    assert code == 1, out + err
    assert err.startswith("Error: ") and "Traceback" not in out + err
    assert len(err) < 1000, err[:300]
    assert stored_names() == []
    return err


def test_text_fields_are_stored_without_hidden_characters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "dirty.yaml"
    source.write_text(yaml.safe_dump({"tools": [dirty_entry("Dirty Tool")]}, allow_unicode=True))
    code, _, err = shiporskip(capsys, "tools", "import", str(source))
    assert code == 0, err
    runtime = open_runtime(load_settings())
    try:
        tool = runtime.catalog.get("dirty-tool")
    finally:
        runtime.close()
    text = json.dumps(tool.to_data(), ensure_ascii=False)
    assert not UNSHOWABLE.findall(text), text
    assert tool.name == "Dirty Tool" and tool.aliases == ("Dirty Tool Alias",)
    assert tool.tagline == "Writes code for you"  # a single line: the break became a space
    assert tool.description == "Line one.\n\tLine two."  # multi-line text keeps its breaks


def test_a_key_given_twice_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "twice.yaml"
    entry = yaml.safe_dump(tool_data("Twice"), sort_keys=False)
    source.write_text("tools:\n- " + entry.replace("\n", "\n  ") + "name: Other\n")
    lines = source.read_text().splitlines()
    again = next(i for i, line in enumerate(lines) if line.startswith("  name: Other")) + 1
    message = refused(capsys, source)
    assert f"line {again}: the key 'name' is given twice (first on line 2)" in message


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_deep_nesting_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str
) -> None:
    source = tmp_path / f"deep{suffix}"
    source.write_text('{"tools": ' + "[" * 15000 + "]" * 15000 + "}")
    assert "nested more than 64 levels deep" in refused(capsys, source)


def test_the_installed_command_refuses_deep_nesting_without_a_traceback(tmp_path: Path) -> None:
    source = tmp_path / "deep.yaml"
    source.write_text("tools:\n  - " + "[" * 15000 + "]" * 15000 + "\n")
    result = subprocess.run(
        [str(COMMAND), "tools", "import", str(source)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert "line 2: the data is nested more than 64 levels deep" in result.stderr


HUGE = "x" * 5_000_000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tagline", HUGE),
        ("homepage", "https://" + HUGE),
        ("homepage", "https://example.com/ " + HUGE),
        ("category", HUGE),
        ("aliases", ["!" * 5_000_000]),
        ("slug", HUGE),
        ("pricing", {"entry": "paid", "plans": [{"name": "A", "amount": 1, "unit": HUGE}]}),
        (
            "pricing",
            {
                "entry": "paid",
                "plans": [{"name": "A", "amount": 1, "unit": "request", "currency": HUGE}],
            },
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "huge",
)
def test_a_huge_field_gives_a_short_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str, value: object
) -> None:
    source = tmp_path / "huge.json"
    source.write_text(json.dumps({"tools": [tool_data("Huge", **{field: value})]}))
    message = refused(capsys, source)
    assert message.count("\n  - ") == 1, message
    assert field in message
