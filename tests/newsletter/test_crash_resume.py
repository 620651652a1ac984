"""Kill `digest send` with SIGKILL mid-way, start it again: nobody loses the issue.

The SMTP server keeps the fifth message, then holds its "250 queued" until the test says
so; the test kills the sender (`digest send`, or the worker running the digest job) while
it waits. The sender cannot know whether that copy was
delivered. Delivery is at least once: the next run sends it again with the Message-ID of
the first attempt (a deduplicating receiver drops the second copy), sends the rest once,
and never re-sends what was marked sent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from shiporskip.jobs.worker import open_queue
from shiporskip.newsletter.issues import IssueStore
from shiporskip.runtime import Runtime
from shiporskip.storage.schema import jobs, newsletter_sends
from tests.newsletter.conftest import SmtpServer, mail_settings
from tests.newsletter.helpers import add_tool, confirmed, vote
from tests.newsletter.test_send import last_week

SUBSCRIBERS = [f"reader{i:02d}@example.com" for i in range(1, 13)]
HOLD_AT = 5


def cli_env(runtime: Runtime, smtp: SmtpServer, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SHIPORSKIP_DATA_DIR"] = str(data_dir)
    env["SHIPORSKIP_DATABASE_URL"] = runtime.settings.sqlalchemy_url
    for name, value in mail_settings(smtp).items():
        env[f"SHIPORSKIP_{name.upper()}"] = str(value)
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "shiporskip.cli.main", *args]


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
    env = cli_env(mail_runtime, smtp, isolated_env)
    week = str(last_week())
    send = cli("digest", "send", "--week", week)

    smtp.handler.hold_at = HOLD_AT
    first = subprocess.Popen(send, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert smtp.handler.held.wait(timeout=60), "the sender never reached the held message"
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    smtp.handler.release.set()  # the held reply now goes to a dead connection
    assert len(smtp.handler.received) == HOLD_AT
    # Marked before the SMTP conversation: four confirmed sent, one in flight, seven waiting.
    assert Counter(rows(mail_runtime).values()) == {"sent": 4, "sending": 1, "pending": 7}
    in_flight = next(e for e, s in rows(mail_runtime).items() if s == "sending")

    status = subprocess.run(
        cli("digest", "status", week), env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stderr
    assert "1 message(s) were in flight when their sender stopped" in status.stdout
    assert f"Run `shiporskip digest send --week {week}` to continue." in status.stdout

    second = subprocess.run(send, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "1 message(s) were being sent when a previous run stopped." in second.stdout
    assert "1 message(s) that may or may not have arrived were sent again" in second.stdout
    assert "Sent 8 now" in second.stdout and "12 of 12 recipients are marked sent" in second.stdout

    # What the server got: one copy each, and for the one in flight at the kill a second
    # copy with the same Message-ID (its first had arrived before the kill).
    assert smtp.handler.by_recipient() == {e: 2 if e == in_flight else 1 for e in SUBSCRIBERS}
    first_copy, second_copy = smtp.handler.to(in_flight)
    assert first_copy["Message-ID"] == second_copy["Message-ID"]
    ids = {m.message()["Message-ID"] for m in smtp.handler.received}
    assert len(ids) == len(SUBSCRIBERS)
    assert set(rows(mail_runtime).values()) == {"sent"}
    issue = IssueStore(mail_runtime.engine).get(week)
    assert issue is not None and issue.completed_at is not None

    status = subprocess.run(
        cli("digest", "status", week, "--json"), env=env, capture_output=True, text=True
    )
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["recipients"] == 12 and shown["sender"] is None
    assert shown["counts"] == {
        "sent": 12,
        "unknown": 0,
        "failed": 0,
        "pending": 0,
        "sending": 0,
        "refused": 0,
        "skipped": 0,
    }
    assert shown["last_attempt_at"] is not None and shown["completed_at"] is not None

    third = subprocess.run(send, env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and "Sent 0 now" in third.stdout
    assert len(smtp.handler.received) == len(SUBSCRIBERS) + 1


def test_sigkill_of_the_worker_mid_send_then_the_job_retry_resends(
    mail_runtime: Runtime, smtp: SmtpServer, isolated_env: Path
) -> None:
    slug = add_tool(mail_runtime, "Alpha")
    vote(mail_runtime, slug, "SSSSKKK", last_week().start + timedelta(days=1))
    confirmed(mail_runtime, *SUBSCRIBERS, now=datetime.now(UTC))
    week = str(last_week())
    # The key the worker's weekly scheduler uses, so it cannot queue a second digest job.
    assert open_queue(mail_runtime).enqueue("send_digest", {"week": week}, key=f"digest:{week}")
    env = cli_env(mail_runtime, smtp, isolated_env)
    env.update(SHIPORSKIP_JOB_ENGINE="embedded", SHIPORSKIP_JOB_LEASE="2")
    env["SHIPORSKIP_DAILY_TIME"] = "off"
    worker = cli("worker", "--burst", "--poll", "0.2")

    smtp.handler.hold_at = HOLD_AT
    first = subprocess.Popen(worker, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert smtp.handler.held.wait(timeout=60), "the worker never reached the held message"
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    smtp.handler.release.set()
    assert Counter(rows(mail_runtime).values()) == {"sent": 4, "sending": 1, "pending": 7}
    in_flight = next(e for e, s in rows(mail_runtime).items() if s == "sending")

    # The dead worker's job lease has to run out before another worker may claim the job.
    with mail_runtime.engine.connect() as conn:
        locked_until = conn.scalar(sa.select(jobs.c.locked_until))
    assert locked_until is not None
    while datetime.now(UTC) <= locked_until:
        time.sleep(0.1)
    second = subprocess.run(worker, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr

    assert smtp.handler.by_recipient() == {e: 2 if e == in_flight else 1 for e in SUBSCRIBERS}
    first_copy, second_copy = smtp.handler.to(in_flight)
    assert first_copy["Message-ID"] == second_copy["Message-ID"]
    assert set(rows(mail_runtime).values()) == {"sent"}
    [done] = open_queue(mail_runtime).list("done")
    assert done.args == {"week": week}
