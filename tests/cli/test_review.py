"""`shiporskip review` and `critics` end to end, against a real scripted HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiporskip.cli.main import main
from tests.factories import tool_data
from tests.llm.fault_server import FaultServer, serve
from tests.support import review_json


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


@pytest.fixture
def tool(tmp_path, capsys: pytest.CaptureFixture[str]) -> str:  # type: ignore[no-untyped-def]
    import yaml

    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump([tool_data("Alpha")]))
    assert main(["tools", "import", str(path)]) == 0
    capsys.readouterr()
    return "alpha"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_review_prints_the_scorecard_and_stores_the_panel(
    server: FaultServer, tool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.set(("ok", review_json("ship", 81)))
    model = f"openai-compatible:scripted@{server.base_url}"
    code, out, err = run(capsys, "review", tool, "--model", model)
    assert code == 0, err
    assert "Alpha: Ship 7-0 · ship 100% · 7 of 7 critics reported" in out
    assert out.count("A ship from a scripted critic.") == 7
    code, out, _ = run(capsys, "review", tool, "--model", model, "--json")
    data = json.loads(out)
    assert data["ran"] == [] and len(data["skipped_already_reviewed"]) == 7
    assert len(server.requests) == 7, "the same input is not sent twice"
    assert data["panel"]["verdict"] == "ship" and data["panel"]["complete"]
    review = data["reviews"][0]
    assert review["model"] == model and review["prompt_version"] and review["input_tokens"] == 100


def test_review_one_critic_with_rerun(
    server: FaultServer, tool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.set(("ok", review_json("skip", 20)))
    model = f"openai-compatible:scripted@{server.base_url}"
    code, out, _ = run(capsys, "review", tool, "--model", model, "--critic", "skeptic", "--json")
    data = json.loads(out)
    assert code == 0 and data["ran"] == ["skeptic"]
    assert data["panel"]["status"] == "1 of 7 critics reported", "the tool's panel, not the run's"
    code, out, _ = run(
        capsys, "review", tool, "--model", model, "--critic", "skeptic", "--rerun", "--json"
    )
    assert json.loads(out)["ran"] == ["skeptic"] and len(server.requests) == 2


def one_critic_fails(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[str, str], str]:
    """The fourth critic's call gets a 500 and is not retried; returns (ok answer, model)."""
    monkeypatch.setenv("SHIPORSKIP_LLM_RETRIES", "0")
    monkeypatch.setenv("SHIPORSKIP_LLM_CONCURRENCY", "1")
    ok = ("ok", review_json())
    server.set(ok, ok, ok, ("status", 500), ok, ok, ok)
    model = f"openai-compatible:scripted@{server.base_url}"
    return ok, model


def test_partial_failure_is_reported_as_incomplete(
    server: FaultServer, tool: str, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    ok, model = one_critic_fails(server, monkeypatch)
    code, out, err = run(capsys, "review", tool, "--model", model)
    assert code == 1
    assert "6 of 7 critics reported (1 failed)" in out and "(incomplete)" in out
    assert "run `shiporskip review alpha` again to retry the missing critics" in err
    server.set(ok)
    code, out, err = run(capsys, "review", tool, "--model", model, "--json")
    data = json.loads(out)
    assert code == 0 and len(data["ran"]) == 1 and data["panel"]["complete"]


def test_rerunning_one_critic_prints_the_tools_panel(
    server: FaultServer, tool: str, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    ok, model = one_critic_fails(server, monkeypatch)
    code, out, _ = run(capsys, "review", tool, "--model", model, "--json")
    data = json.loads(out)
    assert code == 1 and data["panel"]["status"] == "6 of 7 critics reported (1 failed)"
    [failed] = [f["critic"] for f in data["failures"]]
    chosen = next(r["critic"] for r in data["reviews"])
    server.set(ok)
    code, out, err = run(capsys, "review", tool, "--model", model, "--critic", chosen, "--rerun")
    assert code == 0, err
    assert "Alpha: Ship 6-0 · ship 100% · 6 of 7 critics reported (1 failed)  (incomplete)" in out
    assert "1 of 1" not in out and "failed    " in out
    assert len(server.requests) == 1, f"only {chosen} was asked again, not {failed}"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {}, "no model is configured; set SHIPORSKIP_MODEL"),
        (["--model", "gpt4"], {}, "cannot read model 'gpt4'"),
        (["--model", "openai:gpt-4o"], {}, "needs an API key; set OPENAI_API_KEY"),
        (["--critic", "poet", "--model", "ollama:x"], {}, "no critic 'poet'"),
        (
            ["--model", "llamacpp:x@http://127.0.0.1:9/v1"],
            {"SHIPORSKIP_LLM_RETRIES": "0"},
            "cannot reach http://127.0.0.1:9/v1",
        ),
    ],
)
def test_review_errors_are_one_sentence(
    tool: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = run(capsys, "review", tool, *args)
    assert code == 1 and message in err and "Traceback" not in out + err


def test_bad_key_is_named(
    server: FaultServer, tool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.set(("status", 401))
    code, _, err = run(capsys, "review", tool, "--model", f"openai-compatible:m@{server.base_url}")
    assert code == 1
    assert err.strip().endswith(
        "wants an API key (HTTP 401) and none is set for it; set it in "
        f"SHIPORSKIP_LLM_SERVER_KEYS as {server.base_url}=KEY"
    )
    assert len(server.requests) == 7, "a rejected key is not retried"


def test_unknown_tool(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "review", "nope", "--model", "ollama:x")
    assert code == 1 and "no tool with slug 'nope'" in err


def test_critics_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "critics", "list", "--json")
    assert code == 0 and json.loads(out)["count"] == 7
    code, out, _ = run(capsys, "critics", "show", "buyer")
    assert "Do the arithmetic at real volume" in out and "Tired of:" in out
    code, _, err = run(capsys, "critics", "show", "poet")
    assert code == 1 and "no critic 'poet'" in err


def test_a_servers_key_reaches_it_and_is_kept_nowhere(
    server: FaultServer,
    tool: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    isolated_env: Path,
) -> None:
    key = "tok-audit-SECRET-7"
    monkeypatch.setenv("SHIPORSKIP_LLM_SERVER_KEYS", f"{server.base_url}={key}")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-SECRET-8")
    server.set(("ok", review_json("ship", 70)))
    model = f"openai-compatible:scripted@{server.base_url}"
    code, out, err = run(capsys, "review", tool, "--model", model, "--json")
    assert code == 0, err
    assert {h["authorization"] for h in server.headers} == {f"Bearer {key}"}
    _, shown, _ = run(capsys, "tools", "show", tool, "--json")
    _, settings, _ = run(capsys, "settings", "--json")
    stored = b"".join(p.read_bytes() for p in isolated_env.glob("shiporskip.db*"))
    for secret in (key, "sk-openai-SECRET"):
        assert secret not in out + err + shown + settings + caplog.text
        assert secret.encode() not in stored
