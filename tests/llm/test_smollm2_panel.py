"""A real instruct model as the whole panel: SmolLM2-135M-Instruct reviews a sample tool.

SmolLM2 once got junk published as "Ship 7-0": bodies of a few words, the fence marker as a
body, the tagline as a one-liner, a Ship verdict with a score of 5. Run again here through
`llama_cpp.server` and the real CLI, and in-process through the `gguf:` kind, every stored
attempt must pass the quality gate or be a failed attempt with its reason, and the panel
line may count as reported only the critics whose answer passed (plus older reviews it
names as such).

Bounded for CI on 2 cores: one tool, 400 output tokens, one call at a time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shiporskip.cli.main import main
from shiporskip.panel.critics import load_critics
from tests.llm.gated import Outcome, check_attempts

TOOL = "cursor"  # a sample tool with seven sample reviews: the panel the issue saw
PANEL_LINE = re.compile(r"(\d+) of (\d+) critics reported(?: \((\d+) failed\))?(?: — (.*))?")
EARLIER = re.compile(r"(\d+) from (?:an earlier run|earlier runs)")


@pytest.fixture(autouse=True)
def bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPORSKIP_LLM_TEMPERATURE", "0")
    monkeypatch.setenv("SHIPORSKIP_LLM_MAX_TOKENS", "400")
    # One call at a time: llama.cpp answers one request at a time anyway, and a queued call
    # must not time out while it waits.
    monkeypatch.setenv("SHIPORSKIP_LLM_CONCURRENCY", "1")
    monkeypatch.setenv("SHIPORSKIP_LLM_TIMEOUT", "600")
    monkeypatch.setenv("COLUMNS", "400")  # the panel line on one line when piped


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("shiporskip")), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)


def fresh_claims(status: str) -> int:
    """How many reviews the panel line counts as this run's: reported minus older ones."""
    match = PANEL_LINE.search(status)
    assert match, status
    reported, expected = int(match.group(1)), int(match.group(2))
    assert expected == 7, status
    earlier = EARLIER.search(match.group(4) or "")
    return reported - (int(earlier.group(1)) if earlier else 0)


def report(outcome: Outcome) -> str:
    return f"{len(outcome.passed)} of 7 passed the gate; failures: {outcome.errors}"


def test_smollm2_panel_through_llama_cpp_server_and_the_cli(smollm2_server: str) -> None:
    loaded = cli("sample", "load")
    assert loaded.returncode == 0, loaded.stderr
    result = cli("review", TOOL, "--rerun", "--model", f"llamacpp:smollm2@{smollm2_server}")

    outcome = check_attempts(TOOL, provider="llamacpp")
    print(report(outcome))  # what the model did, for whoever reads the CI log
    assert len(outcome.passed) + len(outcome.failed) == 7, "one stored attempt per critic"
    asked = sorted(r.critic_id for r in outcome.passed + outcome.failed)
    assert asked == sorted(c.id for c in load_critics())
    assert "Traceback" not in result.stderr
    if outcome.failed:
        assert result.returncode == 1 and result.stderr.startswith("Error: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
    else:
        assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if PANEL_LINE.search(line)]
    assert lines, result.stdout
    assert fresh_claims(lines[0]) <= len(outcome.passed), (lines[0], report(outcome))
    labels = {c.id: c.label for c in load_critics()}
    for record in outcome.failed:
        # A failed critic's line shows its reason, or the older review that still counts.
        label = labels[record.critic_id]
        shown = [line for line in result.stdout.splitlines() if line.startswith(f"  {label} ")]
        assert len(shown) == 1, (label, result.stdout)
        assert " failed " in shown[0] or "[earlier run: " in shown[0], shown[0]


def test_smollm2_panel_in_process_through_the_gguf_kind(
    smollm2_gguf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sample", "load"]) == 0
    capsys.readouterr()
    code = main(["review", TOOL, "--rerun", "--json", "--model", f"gguf:{smollm2_gguf}"])
    out, err = capsys.readouterr()
    data = json.loads(out)

    outcome = check_attempts(TOOL, provider="gguf")
    print(report(outcome))
    assert len(outcome.passed) + len(outcome.failed) == 7
    assert sorted(data["ran"]) == sorted(r.critic_id for r in outcome.passed + outcome.failed)
    assert code == (1 if outcome.failed else 0), err
    provenance = data["provenance"]
    assert fresh_claims(provenance["status"]) <= len(outcome.passed), provenance["status"]
    assert data["panel"]["reported"] - len(provenance["earlier_runs"]) <= len(outcome.passed)
    fresh = [r for r in data["reviews"] if r["provider"] == "gguf"]
    assert sorted(r["critic"] for r in fresh) == sorted(r.critic_id for r in outcome.passed)
    assert all(r["status"] == "ok" for r in fresh)
