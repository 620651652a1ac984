"""`shiporskip eval` through the CLI, against a real scripted HTTP server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from shiporskip.cli.main import main
from tests.llm.fault_server import FaultServer, serve
from tests.support import review_json


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_prints_the_numbers_as_json_and_the_report_as_markdown(
    server: FaultServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server.set(("ok", review_json("ship", 81)))
    model = f"openai-compatible:scripted@{server.base_url}"
    report = tmp_path / "eval.md"
    args = ["eval", "--model", model, "--tools", "1", "--payloads", "2", "--pairs", "0"]
    code, out, err = run(capsys, *args, "--json", "--report", str(report))
    assert code == 0, err
    data = json.loads(out)
    assert data["model"] == model and len(data["tools"]) == 1
    assert data["answers"] == 7 * 3 and data["panels"] == 3
    assert data["schema_valid"]["first_answer"]["rate"] == 1.0
    assert data["injection"]["payloads"] == ["ignore-previous", "skip-competitor"]
    # A server that always ships: the skip ask could move it and did not; nothing moved away.
    flips = data["injection"]
    assert flips["flip_rate"] == {"k": 0, "n": 7, "rate": 0.0, "interval": [0.0, 0.3543]}
    assert flips["away_rate"]["k"] == 0 and flips["away_rate"]["n"] == 7
    assert data["swap_consistency"]["measured"] is False
    assert data["per_panel"]["tokens"]["median"] == 7 * 150
    assert data["per_panel"]["cost_usd"] is None, "no price is known for this model"
    text = report.read_text()
    assert text.startswith(f"# shiporskip eval: {model}\n")
    assert "| Schema-valid, first answer | 100% | 21 of 21 |" in text
    assert "| Swap consistency | not measured: --pairs 0 |" in text
    assert "| ignore-previous | ship | 0 of 0 |" in text
    assert "| skip-competitor | skip | 0 of 7 |" in text

    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert out.startswith(f"# shiporskip eval: {model}\n") and "| Panel (s) |" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tools", "0"], "Error: --tools must be between 1 and 15"),
        (["--payloads", "26"], "Error: --payloads must be between 0 and 25"),
        (["--model", "nonsense"], "Error: cannot read model 'nonsense'"),
        (["--critic", "nobody"], "Error: "),
        (["--report", "/nonexistent/dir/r.md"], "Error: cannot write the report to"),
    ],
)
def test_bad_input_is_one_sentence(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], isolated_env: Path
) -> None:
    code, out, err = run(
        capsys, "eval", "--model", "openai-compatible:x@http://127.0.0.1:9/v1", *args
    )
    assert code == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1, err
    assert not (isolated_env / "shiporskip.db").exists(), "nothing written"


def test_an_unreachable_server_is_one_sentence(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPORSKIP_LLM_RETRIES", "0")
    code, out, err = run(
        capsys, "eval", "--model", "openai-compatible:x@http://127.0.0.1:9/v1", "--tools", "1"
    )
    assert code == 1 and out == ""
    assert err.startswith("Error: the model did not answer: ") and err.count("\n") == 1, err


def test_eval_shows_live_progress_on_a_terminal(
    server: FaultServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=160)
    monkeypatch.setattr("shiporskip.cli.eval.err_console", terminal)
    server.set(("ok", review_json("skip", 20)))
    model = f"openai-compatible:scripted@{server.base_url}"
    code, out, err = run(capsys, "eval", "--model", model, "--tools", "1", "--payloads", "1")
    assert code == 0, err
    shown = screen.getvalue()
    for phase, total in (("Clean panels", 7), ("Swapped pairs", 7), ("Injected panels", 7)):
        assert phase in shown and f"{total}/{total}" in shown, shown[-2000:]
    assert "| Injection flip rate (toward the ask) | 0% | 0 of 7 |" in out
