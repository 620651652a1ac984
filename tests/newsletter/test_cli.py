"""`shiporskip digest preview|send` and `shiporskip newsletter subscribers`."""

from __future__ import annotations

import json
import webbrowser
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shiporskip.cli.main import main
from shiporskip.newsletter import IssueStore
from shiporskip.runtime import Runtime
from tests.newsletter.conftest import SmtpServer, mail_settings
from tests.newsletter.helpers import add_tool, confirmed, vote
from tests.newsletter.test_send import last_week


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_preview_writes_html_and_text_and_prints_the_paths(
    sqlite_runtime: Runtime,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slug = add_tool(sqlite_runtime, "Alpha")
    vote(sqlite_runtime, slug, "SSSSKKK", last_week().start + timedelta(days=1))
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    target = tmp_path / "issue.html"
    code, out, err = run(
        capsys, "digest", "preview", "--week", str(last_week()), "--output", str(target), "--open"
    )
    assert code == 0, err
    assert out.splitlines() == [
        f"{last_week()}: 1 new verdict · 1 split",
        str(target),
        str(tmp_path / "issue.txt"),
    ]
    assert "Alpha" in target.read_text() and target.read_text().startswith("<!doctype html>")
    assert "NEW VERDICTS" in (tmp_path / "issue.txt").read_text()
    assert opened == [target.resolve().as_uri()]

    code, out, _ = run(capsys, "digest", "preview")  # default: last week, into the data dir
    assert code == 0 and out.splitlines()[1].endswith(f"digests/{last_week()}.html")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "garbage"], "Error: week 'garbage' is not an ISO week; use the form 2026-W47"),
        (["--week", "2026-W54"], "Error: 2026 has no week 54; its ISO weeks run from"),
        (["--week", "2999-W10"], "Error: week 2999-W10 has not started yet"),
        (["--output", "/nonexistent/dir/x.html"], "Error: cannot write /nonexistent/dir/x.html"),
        (["--output", "digest.txt"], "Error: --output digest.txt names the HTML file"),
    ],
)
def test_preview_mistakes_are_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "digest", "preview", *args)
    assert code == 1 and out == "" and err.startswith(message) and err.count("\n") == 1


def test_send_without_smtp_names_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "digest", "send")
    assert code == 1
    assert err.startswith("Error: no SMTP server is configured; set SHIPORSKIP_SMTP_HOST")


def test_send_and_count_subscribers(
    smtp: SmtpServer,
    sqlite_runtime: Runtime,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in mail_settings(smtp).items():
        monkeypatch.setenv(f"SHIPORSKIP_{name.upper()}", str(value))
    slug = add_tool(sqlite_runtime, "Alpha")
    vote(sqlite_runtime, slug, "SSSSKKK", last_week().start + timedelta(days=1))
    confirmed(sqlite_runtime, "a@example.com", "b@example.com", now=datetime.now(UTC))
    smtp.handler.refuse.add("b@example.com")
    code, out, err = run(capsys, "digest", "send", "--week", str(last_week()))
    assert code == 0, err
    assert f"{last_week()}: Ship or Skip {last_week()}: 1 new verdict: Alpha" in out
    assert "Sent 1 now" in out and "1 of 2 recipients are marked sent." in out
    assert "refused: b@example.com: 550 5.1.1" in out
    code, out, _ = run(capsys, "newsletter", "subscribers", "--json")
    assert json.loads(out) == {
        "count": 2,
        "statuses": {"pending": 0, "confirmed": 1, "unsubscribed": 0, "bounced": 1},
    }
    code, out, _ = run(capsys, "newsletter", "subscribers")
    assert code == 0 and "2 subscribers" in out and "confirmed" in out

    code, out, err = run(capsys, "digest", "status", "--json")  # default: the last week
    assert code == 0, err
    shown = json.loads(out)
    assert shown["week"] == str(last_week()) and shown["recipients"] == 2
    assert shown["counts"] == {
        "sent": 1,
        "unknown": 0,
        "failed": 0,
        "pending": 0,
        "sending": 0,
        "refused": 1,
        "skipped": 0,
    }
    assert "T" in shown["last_attempt_at"] and shown["last_attempt_at"].endswith("+00:00")
    attempted = datetime.fromisoformat(shown["last_attempt_at"])
    assert abs(attempted - datetime.now(UTC)) < timedelta(minutes=5)
    code, out, _ = run(capsys, "digest", "status", str(last_week()))
    assert code == 0 and f"{last_week()}: Ship or Skip {last_week()}" in out
    assert "refused" in out and "Complete since" in out and "to continue" not in out


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("garbage", "week 'garbage' is not an ISO week; use the form 2026-W47"),
        ("2026-W54", "2026 has no week 54; its ISO weeks run from 2026-W01 to 2026-W53"),
    ],
)
def test_status_of_a_malformed_week_is_a_usage_error(
    sqlite_runtime: Runtime, capsys: pytest.CaptureFixture[str], week: str, message: str
) -> None:
    code, out, err = run(capsys, "digest", "status", week)
    assert code == 2 and out == ""
    assert f"Error: Invalid value for 'WEEK': {message}\n" in err
    assert IssueStore(sqlite_runtime.engine).list() == []


def test_status_of_a_week_never_sent_says_so(
    sqlite_runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "digest", "status", "2026-W40", "--json")
    assert code == 1 and out == ""
    assert err == (
        "Error: no digest has been sent for 2026-W40; "
        "`shiporskip digest send --week 2026-W40` sends it\n"
    )
    assert IssueStore(sqlite_runtime.engine).list() == []
