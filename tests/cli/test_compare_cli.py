"""`shiporskip compare A B` end to end, against a real scripted HTTP model server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from shiporskip.cli.main import main
from tests.factories import tool_data
from tests.llm.fault_server import FaultServer, serve


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


@pytest.fixture
def pair(tmp_path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump([tool_data("Alpha"), tool_data("Beta")]))
    assert main(["tools", "import", str(path)]) == 0
    capsys.readouterr()
    return "beta", "alpha"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_model_that_always_answers_a_keeps_no_pick(
    server: FaultServer, pair: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server.set(("ok", json.dumps({"pick": "A", "reason": "The first one."})))
    model = f"openai-compatible:scripted@{server.base_url}"
    before = len(server.requests)
    code, out, err = run(capsys, "compare", *pair, "--model", model)
    assert code == 0, err
    assert len(server.requests) - before == 14, "seven critics, two orders each"
    assert "no preference" in out and "(order-sensitive)" in out  # the table may wrap it
    assert "Swap consistency: 0 of 7 critics gave the same answer in both orders (0%" in out
    code, out, _ = run(capsys, "compare", *pair, "--model", model, "--json")
    data = json.loads(out)
    assert code == 0 and data["ran"] == [] and len(data["skipped_already_picked"]) == 7
    assert data["pairwise"]["consistency"] == 0.0
    assert data["pairwise"]["picks"][0] == {
        "critic": "builder",
        "first": "alpha",
        "swapped": "beta",
        "kept": None,
    }
    audit = data["picks"][0]
    assert audit["model"] == model and audit["prompt_version"] and audit["first_raw"]
    before = len(server.requests)
    code, out, _ = run(capsys, "compare", *pair, "--model", model, "--rerun", "--json")
    assert code == 0 and len(json.loads(out)["ran"]) == 7
    assert len(server.requests) - before == 14


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "alpha"], "no tool with slug 'nope'"),
        (["alpha", "nope"], "no tool with slug 'nope'"),
        (["alpha", "alpha"], "both sides are 'alpha'; compare two different tools"),
    ],
)
def test_bad_slugs_are_one_sentence_and_ask_nobody(
    server: FaultServer,
    pair: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    before = len(server.requests)
    model = f"openai-compatible:scripted@{server.base_url}"
    code, out, err = run(capsys, "compare", *args, "--model", model)
    assert code == 1 and message in err and "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1
    assert len(server.requests) == before
