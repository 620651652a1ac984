"""Kill `digest send` with SIGKILL mid-way, start it again: nobody gets the digest twice.

The SMTP server answers each message slowly. The test kills the sender while the server
holds the third message but has not yet said "250 queued": the sender cannot know whether
that one was delivered. The honest outcome is at-most-once: it is reported as unknown,
never sent again, and every other subscriber gets exactly one copy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from shiporskip.newsletter.issues import IssueStore
from shiporskip.runtime import Runtime
from shiporskip.storage.schema import newsletter_sends
from tests.newsletter.conftest import SmtpServer, mail_settings
from tests.newsletter.helpers import add_tool, confirmed, vote
from tests.newsletter.test_send import last_week

SUBSCRIBERS = [f"reader{i}@example.com" for i in range(1, 7)]


def send_command(
    runtime: Runtime, smtp: SmtpServer, data_dir: Path
) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env["SHIPORSKIP_DATA_DIR"] = str(data_dir)
    env["SHIPORSKIP_DATABASE_URL"] = runtime.settings.sqlalchemy_url
    for name, value in mail_settings(smtp).items():
        env[f"SHIPORSKIP_{name.upper()}"] = str(value)
    command = [sys.executable, "-m", "shiporskip.cli.main", "digest", "send"]
    return [*command, "--week", str(last_week())], env


def rows(runtime: Runtime) -> dict[str, str]:
    with runtime.engine.connect() as conn:
        found = conn.execute(sa.select(newsletter_sends.c.email, newsletter_sends.c.state))
        return {r.email: r.state for r in found}


def test_sigkill_in_the_middle_of_a_send_then_resume(
    mail_runtime: Runtime, smtp: SmtpServer, isolated_env: Path
) -> None:
    slug = add_tool(mail_runtime, "Alpha")
    vote(mail_runtime, slug, "SSSSKKK", last_week().start + timedelta(days=1))
    confirmed(mail_runtime, *SUBSCRIBERS, now=datetime.now(UTC))
    command, env = send_command(mail_runtime, smtp, isolated_env)

    smtp.handler.delay = 1.0
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert smtp.handler.wait_for(3, timeout=60), "the sender never reached the third message"
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert len(smtp.handler.received) == 3
    # Marked before the SMTP conversation: two confirmed sent, one in flight, three waiting.
    assert sorted(rows(mail_runtime).values()) == ["pending"] * 3 + ["sending"] + ["sent"] * 2
    in_flight = next(e for e, s in rows(mail_runtime).items() if s == "sending")

    smtp.handler.delay = 0.0
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "1 message(s) were being sent when a previous run stopped" in second.stdout
    assert "Sent 3 now" in second.stdout and "5 of 6 recipients are marked sent" in second.stdout
    assert f"unknown: {in_flight}" in second.stdout

    # What actually happened at the server: every subscriber exactly once, including the
    # one recorded as unknown (its copy arrived before the kill; it was not sent again).
    assert smtp.handler.by_recipient() == {email: 1 for email in SUBSCRIBERS}
    final = rows(mail_runtime)
    assert final[in_flight] == "unknown"
    assert sorted(final.values()) == ["sent"] * 5 + ["unknown"]
    issue = IssueStore(mail_runtime.engine).get(str(last_week()))
    assert issue is not None and issue.completed_at is not None

    third = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and "Sent 0 now" in third.stdout
    assert len(smtp.handler.received) == 6
