"""`review` and `tools show` say which counted review is from an earlier run, and when."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shiporskip.cli.main import main
from tests.cli.test_review import one_critic_fails, run, server, tool  # noqa: F401
from tests.llm.fault_server import FaultServer


def test_a_failed_re_review_is_reported_as_an_earlier_run(
    server: FaultServer,  # noqa: F811
    tool: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ok, model = one_critic_fails(server, monkeypatch)
    server.set(ok)
    code, out, err = run(capsys, "review", tool, "--model", model)
    assert code == 0, err
    today = datetime.now(UTC).date().isoformat()
    earlier = f"1 from an earlier run ({today}, scripted (local))"
    # The whole panel again; the fourth call fails, and its critic's first review still counts.
    server.set(ok, ok, ok, ("status", 500), ok, ok, ok)
    code, out, err = run(capsys, "review", tool, "--model", model, "--rerun")
    assert code == 1
    assert f"Alpha: Ship 7-0 · ship 100% · 7 of 7 critics reported — {earlier}" in out
    assert out.count("[earlier run:") == 1
    assert earlier in err
    server.set(ok, ok, ok, ("status", 500), ok, ok, ok)
    code, out, _ = run(capsys, "review", tool, "--model", model, "--rerun", "--json")
    provenance = json.loads(out)["provenance"]
    assert earlier in provenance["status"]
    assert len(provenance["earlier_runs"]) == 1
    assert provenance["models"] == ["scripted (local)"]
    assert main(["tools", "show", tool, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert earlier in shown["panel"]["status"] and shown["panel"]["tally"] == "7-0"
    # The operator's audit lists the failed attempt beside the review that counts.
    statuses = sorted(r["status"] for r in shown["reviews"])
    assert statuses == ["failed"] + ["ok"] * 7
    assert main(["tools", "show", tool]) == 0
    assert f"Panel: Ship 7-0 · 7 of 7 critics reported — {earlier}" in capsys.readouterr().out
