"""Every example in the README and the docs runs as written: the installed `shiporskip`
command in a subprocess, on a fresh data dir, in the order the page gives them.

An example is a `$ ` line in a ```console block (with its `\\` continuations); the lines up
to the next `$ ` are the output the page promises, compared with whitespace collapsed (the
page wraps long lines). Output starting with `Error:` promises exit code 1, anything else
exit code 0. Examples that cannot finish here are listed in SPECIAL with what is checked
instead and why, so nothing is skipped silently.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
COMMAND = Path(sys.executable).with_name("shiporskip")
PAGES = ["README.md", "docs/cli.md", "docs/settings.md"]
# No LLM server is reachable here on purpose: port 9 (discard) refuses connections at once.
UNREACHABLE_LLM = {
    "SHIPORSKIP_LLM_BASE_URL": "http://127.0.0.1:9/v1",
    "SHIPORSKIP_LLM_RETRIES": "0",
}


@dataclass(frozen=True, slots=True)
class Special:
    """How an example that cannot run as written here is handled."""

    reason: str
    skip: bool = False
    env: dict[str, str] = field(default_factory=dict)
    error: str = ""  # expected one-line error (exit code 1) when it runs


SPECIAL: dict[str, Special] = {
    "serve": Special(
        "runs until stopped; tests/cli/test_serve.py starts it for real on a free port",
        skip=True,
    ),
    "worker": Special(
        "runs until stopped; tests/cli/test_worker.py runs the worker with --burst", skip=True
    ),
    "review": Special(
        "needs an LLM server; run against an unreachable one, the failure must be one sentence",
        env=UNREACHABLE_LLM,
        error="failed after 1 attempts: cannot reach http://127.0.0.1:9/v1",
    ),
    "digest send": Special(
        "sends through smtp.example.com (the internet); tests/newsletter/test_send.py sends "
        "through a real SMTP server in-process",
        skip=True,
    ),
    "submissions approve": Special(
        "a fresh database has no submission 3 (they come from the site's submit form); "
        "tests/cli/test_admin_cli.py approves real ones",
        error="no submission 3; see `shiporskip submissions list`",
    ),
    "submissions reject": Special(
        "a fresh database has no submission 3; tests/cli/test_admin_cli.py rejects real ones",
        error="no submission 3; see `shiporskip submissions list`",
    ),
}


@dataclass(slots=True)
class Example:
    page: str
    line: int
    command: str
    output: list[str]


def examples(page: str) -> list[Example]:
    """The `$ ` commands of every console block of a page, with the output shown after each."""
    found: list[Example] = []
    inside = False
    continued = False
    for number, line in enumerate((ROOT / page).read_text().splitlines(), start=1):
        if line.startswith("```"):
            inside = line == "```console" and not inside
            continued = False
            continue
        if not inside:
            continue
        if continued:
            found[-1].command += "\n" + line
        elif line.startswith("$ "):
            found.append(Example(page, number, line[2:], []))
        elif found:
            found[-1].output.append(line)
        continued = line.endswith("\\")
    return found


def argv_of(command: str) -> tuple[dict[str, str], list[str]]:
    """Leading VAR=value assignments and the words of a shell command line."""
    words = shlex.split(command.replace("\\\n", " "), comments=True)
    inline: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        key, value = words.pop(0).split("=", 1)
        inline[key] = value
    return inline, words


def special_for(argv: list[str]) -> Special | None:
    words = " ".join(a for a in argv[1:] if not a.startswith("-"))
    for name, special in SPECIAL.items():
        if words == name or words.startswith(name + " "):
            return special
    return None


def squash(text: str) -> str:
    return " ".join(text.split())


def run_page(page: str, tmp_path: Path) -> list[str]:
    """Run a page's examples in order on a fresh data dir; return what was checked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
    env |= {
        "SHIPORSKIP_DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path / "home"),
        "BROWSER": "true",  # `digest preview --open` hands the file to `true`, not a browser
        "COLUMNS": "200",
    }
    done: list[str] = []
    for example in examples(page):
        where = f"{page}:{example.line}: $ {example.command}"
        inline, words = argv_of(example.command)
        if words[:1] == ["export"]:
            env |= dict(word.split("=", 1) for word in words[1:])
            done.append(f"{where} (set for the next examples)")
            continue
        assert words and words[0] in ("shiporskip", ".venv/bin/shiporskip"), where
        special = special_for(words)
        if special and special.skip:
            done.append(f"{where} (not run: {special.reason})")
            continue
        result = subprocess.run(
            [str(COMMAND), *words[1:]],
            env={**env, **(special.env if special else {}), **inline},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        shown = result.stdout + result.stderr
        assert "Traceback" not in shown, f"{where}\n{shown}"
        expected = "\n".join(example.output)
        if special and special.error:
            assert result.returncode == 1, f"{where}: exit {result.returncode}\n{shown}"
            errors = [line for line in shown.splitlines() if line.startswith("Error: ")]
            assert len(errors) == 1 and special.error in errors[0], f"{where}\n{shown}"
            done.append(f"{where} (fails as expected: {special.reason})")
            continue
        want = 1 if expected.startswith("Error:") else 0
        assert result.returncode == want, f"{where}: exit {result.returncode}\n{shown}"
        if expected:
            assert squash(shown) == squash(expected), f"{where}\nprinted:\n{shown}"
        done.append(where)
    return done


@pytest.mark.parametrize("page", PAGES)
def test_every_example_runs_as_written(page: str, tmp_path: Path) -> None:
    done = run_page(page, tmp_path)
    assert done, f"{page} has no console examples"


def test_examples_are_found_and_every_special_case_is_used() -> None:
    readme = [argv_of(e.command)[1] for e in examples("README.md")]
    assert readme[0] == [".venv/bin/shiporskip", "sample", "load"], "README starts on a fresh dir"
    used = {id(special_for(argv_of(e.command)[1])) for page in PAGES for e in examples(page)}
    assert {name for name, s in SPECIAL.items() if id(s) not in used} == set()


def test_docs_have_no_bare_command_blocks() -> None:
    """Commands live in ```console blocks with `$ `, so the test above finds them all."""
    for page in PAGES:
        fence = None
        for number, line in enumerate((ROOT / page).read_text().splitlines(), start=1):
            if line.startswith("```"):
                fence = None if fence is not None else line[3:]
            elif fence == "" and "shiporskip " in line:
                pytest.fail(f"{page}:{number}: put commands in a ```console block with `$ `")
