"""Sending the digest through a real SMTP server: headers, parts, unsubscribe, failures, pace."""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from shiporskip.errors import UserError
from shiporskip.newsletter import IssueStore, SubscriberStore, send_digest
from shiporskip.newsletter.send import SmtpMailer
from shiporskip.newsletter.weeks import IsoWeek, week_of
from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import Settings, load_settings, replace
from shiporskip.storage.schema import newsletter_issues, newsletter_sends
from shiporskip.web.app import create_app
from tests.newsletter.conftest import BASE_URL, SmtpServer
from tests.newsletter.helpers import add_tool, confirmed, vote

FAST = (0.05, 0.05, 0.05)


def last_week() -> IsoWeek:
    return week_of(datetime.now(UTC)).previous()


def reviewed_last_week(runtime: Runtime, name: str = "Alpha") -> str:
    slug = add_tool(runtime, name)
    vote(runtime, slug, "SSSSKKK", last_week().start + timedelta(days=2))
    return slug


def states(runtime: Runtime) -> dict[str, str]:
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.select(newsletter_sends.c.email, newsletter_sends.c.state))
        return {r.email: r.state for r in rows}


def test_each_subscriber_gets_one_well_formed_mail_with_one_click_unsubscribe(
    mail_runtime: Runtime, smtp: SmtpServer
) -> None:
    reviewed_last_week(mail_runtime)
    now = datetime.now(UTC)
    confirmed(mail_runtime, "ann@example.com", "bob@example.net", "cy@example.org", now=now)
    report = send_digest(mail_runtime, str(last_week()))
    assert report.sent_now == 3 and report.count("sent") == 3 and report.recipients == 3
    assert smtp.handler.by_recipient() == {
        "ann@example.com": 1,
        "bob@example.net": 1,
        "cy@example.org": 1,
    }
    [raw] = [m for m in smtp.handler.received if m.rcpt_tos == ["ann@example.com"]]
    assert raw.mail_from == "verdicts@example.org"
    message = raw.message()
    assert message["From"] == "Weekly verdicts <verdicts@example.org>"
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == f"Ship or Skip {last_week()}: 1 new verdict: Alpha"
    assert abs(parsedate_to_datetime(message["Date"]) - now) < timedelta(minutes=1)
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", message["Message-ID"])
    unsubscribe = re.fullmatch(
        r"<(http://testserver/newsletter/unsubscribe\?token=[\w.-]+)>, "
        r"<mailto:verdicts@example\.org\?subject=unsubscribe>",
        message["List-Unsubscribe"],
    )
    assert unsubscribe, message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Written on one line, not as RFC 2047 encoded words a client would not read as a link.
    assert b"List-Unsubscribe: <http://testserver/" in raw.content
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    url = unsubscribe.group(1)
    assert "Alpha: Ship 4-3" in text.get_content() and url in text.get_content()
    assert "Alpha" in html.get_content() and url.replace("&", "&amp;") in html.get_content()
    ids = {m.message()["Message-ID"] for m in smtp.handler.received}
    assert len(ids) == 3

    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the URL, nothing else.
    with TestClient(create_app(mail_runtime)) as client:
        answer = client.post(
            url.removeprefix(BASE_URL),
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200 and "You are unsubscribed" in answer.text
        archive = client.get("/newsletter/archive").text
        assert f'href="/newsletter/archive/{last_week()}"' in archive
        issue = client.get(f"/newsletter/archive/{last_week()}")
        assert issue.status_code == 200 and "Alpha" in issue.text
        assert "token=" not in issue.text.split('class="digest-issue"')[1].split("</article>")[0]
    ann = SubscriberStore(mail_runtime.engine).find("ann@example.com")
    assert ann is not None and ann.status == "unsubscribed"

    again = send_digest(mail_runtime, str(last_week()))
    assert again.sent_now == 0 and again.count("sent") == 3 and len(smtp.handler.received) == 3


def test_refused_addresses_are_recorded_and_transient_ones_retried_then_failed(
    mail_runtime: Runtime, smtp: SmtpServer
) -> None:
    reviewed_last_week(mail_runtime)
    now = datetime.now(UTC)
    emails = ["ok@example.com", "gone@example.com", "grey@example.com", "down@example.com"]
    confirmed(mail_runtime, *emails, now=now)
    smtp.handler.refuse.add("gone@example.com")
    smtp.handler.defer["grey@example.com"] = 2  # succeeds on the third attempt
    smtp.handler.defer["down@example.com"] = 99  # never accepted
    report = send_digest(mail_runtime, str(last_week()), retry_delays=FAST)
    assert states(mail_runtime) == {
        "ok@example.com": "sent",
        "gone@example.com": "refused",
        "grey@example.com": "sent",
        "down@example.com": "failed",
    }
    assert report.sent_now == 2 and report.count("refused") == 1 and report.count("failed") == 1
    reasons = {email: (state, reason) for email, state, reason in report.failures}
    assert reasons["gone@example.com"] == (
        "refused",
        "550 5.1.1 <gone@example.com>: no such user here (at RCPT TO)",
    )
    assert reasons["down@example.com"][1].startswith("gave up after 4 attempts: 451 4.7.1")
    gone = SubscriberStore(mail_runtime.engine).find("gone@example.com")
    assert gone is not None and gone.status == "bounced"
    assert smtp.handler.defer["down@example.com"] == 95  # 4 attempts, then it stopped asking

    before = len(smtp.handler.received)
    send_digest(mail_runtime, str(last_week()), retry_delays=FAST)
    assert len(smtp.handler.received) == before  # refused and failed are never retried
    assert smtp.handler.defer["down@example.com"] == 95


def test_a_connection_lost_during_data_is_sent_again_with_the_same_message_id(
    mail_runtime: Runtime, smtp: SmtpServer
) -> None:
    reviewed_last_week(mail_runtime)
    confirmed(
        mail_runtime, "a@example.com", "b@example.com", "c@example.com", now=datetime.now(UTC)
    )
    smtp.handler.drop["b@example.com"] = 2  # the server keeps it twice but never answers
    smtp.handler.drop["c@example.com"] = 99
    report = send_digest(mail_runtime, str(last_week()), retry_delays=FAST)
    assert states(mail_runtime) == {
        "a@example.com": "sent",
        "b@example.com": "sent",
        "c@example.com": "unknown",
    }
    assert smtp.handler.by_recipient() == {
        "a@example.com": 1,
        "b@example.com": 3,
        "c@example.com": 4,
    }
    for address in ("b@example.com", "c@example.com"):
        assert len({m["Message-ID"] for m in smtp.handler.to(address)}) == 1
    reasons = {email: (state, reason) for email, state, reason in report.failures}
    assert reasons["c@example.com"][1].startswith(
        "gave up after 4 attempts: connection lost while the server was receiving the message"
    )
    before = len(smtp.handler.received)
    send_digest(mail_runtime, str(last_week()), retry_delays=FAST)
    assert len(smtp.handler.received) == before  # out of attempts: it stays unknown


def test_sending_is_paced_by_mail_rate(smtp: SmtpServer, sqlite_mail_runtime: Runtime) -> None:
    runtime = sqlite_mail_runtime
    runtime.settings = replace(runtime.settings, mail_rate=20.0)
    reviewed_last_week(runtime)
    confirmed(runtime, *(f"r{i}@example.com" for i in range(11)), now=datetime.now(UTC))

    class Clock:
        """Time that passes only when the sender sleeps: the pacing is read, not timed."""

        now = 1000.0

        def monotonic(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.now += seconds

    clock = Clock()
    starts: list[float] = []

    class Recording(SmtpMailer):
        def deliver(self, message, sender, recipient):  # type: ignore[no-untyped-def]
            starts.append(clock.now)
            super().deliver(message, sender, recipient)

    report = send_digest(
        runtime,
        str(last_week()),
        mailer_factory=Recording,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    assert report.sent_now == 11 and len(smtp.handler.received) == 11
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([1 / 20] * 10)  # 20 starts a second, no faster
    assert report.elapsed == pytest.approx(10 / 20)


def test_a_lost_smtp_server_leaves_rows_pending_and_a_later_run_finishes(
    smtp: SmtpServer, sqlite_mail_runtime: Runtime
) -> None:
    runtime = sqlite_mail_runtime
    reviewed_last_week(runtime)
    confirmed(runtime, "a@example.com", "b@example.com", "c@example.com", now=datetime.now(UTC))

    class DiesAfterOne(SmtpMailer):
        sent = 0

        def deliver(self, message, sender, recipient):  # type: ignore[no-untyped-def]
            if DiesAfterOne.sent == 1:
                raise UserError("cannot talk to the SMTP server (test)")
            DiesAfterOne.sent += 1
            super().deliver(message, sender, recipient)

    with pytest.raises(UserError, match="cannot talk to the SMTP server"):
        send_digest(runtime, str(last_week()), mailer_factory=DiesAfterOne)
    assert sorted(states(runtime).values()) == ["pending", "pending", "sent"]  # none "sending"
    SubscriberStore(runtime.engine).unsubscribe(
        SubscriberStore(runtime.engine).find("c@example.com").id,  # type: ignore[union-attr]
        datetime.now(UTC),
    )
    report = send_digest(runtime, str(last_week()))
    assert states(runtime) == {
        "a@example.com": "sent",
        "b@example.com": "sent",
        "c@example.com": "skipped",
    }
    assert report.sent_now == 1 and smtp.handler.by_recipient()["a@example.com"] == 1


def test_a_second_sender_is_refused_while_the_first_is_alive(
    smtp: SmtpServer, sqlite_mail_runtime: Runtime
) -> None:
    runtime = sqlite_mail_runtime
    reviewed_last_week(runtime)
    confirmed(runtime, "a@example.com", now=datetime.now(UTC))
    send_digest(runtime, str(last_week()))
    host = socket.gethostname()
    alive = f"{host}:{os.getppid()}"
    with runtime.engine.begin() as conn:
        conn.execute(
            sa.update(newsletter_issues).values(sender=alive, sender_seen_at=datetime.now(UTC))
        )
    with pytest.raises(UserError, match=f"another `digest send` for {last_week()} is running"):
        send_digest(runtime, str(last_week()))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with runtime.engine.begin() as conn:
        conn.execute(sa.update(newsletter_issues).values(sender=f"{host}:{dead.pid}"))
    assert send_digest(runtime, str(last_week())).count("sent") == 1  # the dead holder's lease


def test_bad_weeks_and_missing_smtp_get_one_sentence_and_write_nothing(
    smtp: SmtpServer, sqlite_mail_runtime: Runtime, isolated_env: object
) -> None:
    runtime = sqlite_mail_runtime
    reviewed_last_week(runtime)
    confirmed(runtime, "a@example.com", now=datetime.now(UTC))
    this_week = week_of(datetime.now(UTC))
    for week, message in [
        ("last tuesday", "is not an ISO week; use the form 2026-W47"),
        ("2025-W53", "2025 has no week 53"),
        (str(this_week), f"week {this_week} is still in progress"),
        ("2999-W01", "week 2999-W01 has not started yet"),
    ]:
        with pytest.raises(UserError, match=message):
            send_digest(runtime, week)
    no_smtp = open_runtime(load_settings())
    try:
        with pytest.raises(UserError, match="set SHIPORSKIP_SMTP_HOST"):
            send_digest(no_smtp, str(last_week()))
    finally:
        no_smtp.close()
    assert IssueStore(runtime.engine).list() == [] and smtp.handler.received == []


def test_a_quiet_week_sends_nothing_and_archives_nothing(
    smtp: SmtpServer, sqlite_mail_runtime: Runtime
) -> None:
    confirmed(sqlite_mail_runtime, "a@example.com", now=datetime.now(UTC))
    report = send_digest(sqlite_mail_runtime, str(last_week()))
    assert report.empty and report.lines()[0].startswith(f"Nothing to send for {last_week()}")
    assert IssueStore(sqlite_mail_runtime.engine).list() == [] and smtp.handler.received == []


def test_smtp_setting_mistakes_are_one_sentence(tmp_path: object) -> None:
    base = load_settings()
    cases: list[tuple[Settings, str]] = [
        (replace(base, smtp_host="mail.example", smtp_security="ssl"), "starttls, tls or none"),
        (
            replace(base, smtp_host="mail.example", smtp_security="none", smtp_user="u"),
            "refusing to send the SMTP password unencrypted",
        ),
        (replace(base, smtp_host="mail.example", smtp_port=0), "smtp_port 0 is out of range"),
    ]
    for settings, message in cases:
        with pytest.raises(UserError, match=message):
            SmtpMailer(settings)
    closed = replace(base, smtp_host="127.0.0.1", smtp_port=9, smtp_security="none")
    with pytest.raises(UserError, match=r"cannot talk to the SMTP server 127\.0\.0\.1:9"):
        SmtpMailer(closed).connect()
