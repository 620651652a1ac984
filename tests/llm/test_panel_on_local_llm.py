"""The real path end to end: the panel against llama.cpp, over HTTP and in-process.

The tiny model's text is gibberish, but schema-constrained decoding must still give
answers that parse, which proves prompts, structured-output modes, parsing and storage
work together on a real inference engine. Gibberish never reaches readers: the quality
gate refuses it, and each refused answer is stored as a failed attempt with its reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from shiporskip.cli.main import main
from shiporskip.panel.parsing import parse_review
from tests.factories import tool_data
from tests.llm.gated import REPAIR_SEPARATOR, check_attempts


@pytest.fixture
def tool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump([tool_data("Alpha")]))
    assert main(["tools", "import", str(path)]) == 0
    capsys.readouterr()
    return "alpha"


@pytest.fixture(autouse=True)
def deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPORSKIP_LLM_TEMPERATURE", "0")
    monkeypatch.setenv("SHIPORSKIP_LLM_MAX_TOKENS", "400")
    monkeypatch.setenv("SHIPORSKIP_LLM_TIMEOUT", "60")


def review(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    """Run `review --json`: each answer parsed, and any the gate refused stored as failed."""
    code = main(["review", *args, "--json"])
    out, err = capsys.readouterr()
    data = json.loads(out)
    outcome = check_attempts(args[0], provider=args[2].partition(":")[0])
    for record in outcome.failed:
        assert (record.error or "").startswith("quality gate: "), record.error
        for answer in (record.raw_output or "").split(REPAIR_SEPARATOR):
            parse_review(answer)  # constrained decoding: every answer is schema-valid JSON
    assert code == (1 if outcome.failed else 0), err
    assert data["panel"]["reported"] == len(outcome.passed)
    return data  # type: ignore[no-any-return]


def test_panel_on_llama_cpp_server(
    llama_server: str, tool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = review(capsys, tool, "--model", f"llamacpp:tiny@{llama_server}")
    assert data["panel"]["expected"] == 7
    assert sorted(data["ran"]) == sorted(a["critic"] for a in data["reviews"] + data["failures"])
    for item in data["reviews"] + data["failures"]:
        assert item["provider"] == "llamacpp" and item["input_tokens"] > 0
        assert item["cost_usd"] == 0.0


def test_panel_with_tool_calling_mode(
    llama_server: str, tool: str, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHIPORSKIP_STRUCTURED_OUTPUT", "tool")
    data = review(capsys, tool, "--model", f"llamacpp:tiny@{llama_server}", "--critic", "buyer")
    assert data["ran"] == ["buyer"]


def test_panel_on_in_process_gguf(
    tiny_gguf: Path, tool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = review(
        capsys, tool, "--model", f"gguf:{tiny_gguf}", "--critic", "builder", "--critic", "skeptic"
    )
    # The two critics asked answered; the status counts the tool's whole panel of seven.
    assert data["panel"]["expected"] == 7 and data["ran"] == ["builder", "skeptic"]
    assert all(item["provider"] == "gguf" for item in data["reviews"] + data["failures"])


def test_missing_gguf_file_is_one_sentence(
    tool: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["review", tool, "--model", f"gguf:{tmp_path / 'none.gguf'}"])
    _, err = capsys.readouterr()
    assert code == 1 and "none.gguf does not exist" in err


def test_offline_hugging_face_download_says_what_to_do(
    tool: str, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(
        ["review", tool, "--model", "gguf:hf:someone/some-repo/model.gguf", "--critic", "user"]
    )
    _, err = capsys.readouterr()
    assert code == 1
    assert "could not download model.gguf from huggingface.co/someone/some-repo" in err
    assert "gguf:/path/to/model.gguf" in err
