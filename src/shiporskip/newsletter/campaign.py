"""Send a week's digest to every confirmed subscriber: at least once each, resumable, paced.

A message whose fate is unknown (the sender was killed, or the connection dropped during
DATA) is sent again, with the Message-ID of the first attempt: losing a subscriber's issue
silently is worse than a second copy that a deduplicating receiver drops.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from shiporskip.errors import UserError
from shiporskip.newsletter import issues as states
from shiporskip.newsletter.addresses import mask_email
from shiporskip.newsletter.digest import build_digest
from shiporskip.newsletter.issues import Issue, IssueStatus, IssueStore, SendRow
from shiporskip.newsletter.render import digest_message, render_issue, sender_address
from shiporskip.newsletter.send import (
    REFUSED,
    TRANSIENT,
    UNKNOWN,
    DeliveryError,
    Mailer,
    SmtpMailer,
    require_smtp,
)
from shiporskip.newsletter.subscribers import CONFIRMED, SubscriberStore
from shiporskip.newsletter.tokens import signer_for, unsubscribe_token
from shiporskip.newsletter.weeks import IsoWeek, check_ended, parse_week, resolve_week
from shiporskip.runtime import Runtime
from shiporskip.security import Signer
from shiporskip.settings import Settings

log = logging.getLogger(__name__)

# Waits after the 1st, 2nd and 3rd transient (4xx) failure of one message; then "failed".
RETRY_DELAYS = (30.0, 120.0, 600.0)
RENEW_EVERY = 10.0
Progress = Callable[[int, int], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class SendReport:
    """What a `digest send` did, and where every recipient of the issue stands."""

    week: str
    subject: str = ""
    sample: bool = False
    empty: bool = False
    sent_now: int = 0
    recovered: int = 0  # rows a killed run left in "sending"
    resent: int = 0  # "unknown" rows queued again this run, with their first Message-ID
    elapsed: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def recipients(self) -> int:
        return sum(self.counts.values())

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)

    @property
    def rate(self) -> float | None:
        """Messages per second in this run."""
        return self.sent_now / self.elapsed if self.sent_now and self.elapsed > 0 else None

    def lines(self) -> list[str]:
        """The report as sentences for the CLI and the job log."""
        if self.empty:
            return [f"Nothing to send for {self.week}: no new verdicts, splits or changes."]
        rate = f" ({self.rate:.1f}/s)" if self.rate else ""
        out = [
            f"{self.week}: {self.subject}",
            f"Sent {self.sent_now} now{rate}; {self.count(states.SENT)} of {self.recipients} "
            "recipients are marked sent.",
        ]
        if self.recovered:
            out.append(f"{self.recovered} message(s) were being sent when a previous run stopped.")
        if self.resent:
            out.append(
                f"{self.resent} message(s) that may or may not have arrived were sent again "
                "with their first Message-ID, so a receiver that has it can drop the copy."
            )
        for state in (states.UNKNOWN, states.REFUSED, states.FAILED, states.SKIPPED):
            if self.count(state):
                out.append(f"{state}: {self.count(state)}")
        if self.count(states.PENDING):
            out.append(f"{self.count(states.PENDING)} still pending: run `digest send` again.")
        return out


class Pacer:
    """At most `rate` message starts per second."""

    def __init__(
        self,
        rate: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise UserError("mail_rate must be greater than 0; set SHIPORSKIP_MAIL_RATE to e.g. 5")
        self.interval = 1.0 / rate
        self.monotonic = monotonic
        self.sleep = sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        now = self.monotonic()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


@dataclass(slots=True)
class _Run:
    """One pass over an issue's pending rows, holding the lease."""

    runtime: Runtime
    issue: Issue
    store: IssueStore
    mailer: Mailer
    holder: str
    pacer: Pacer
    delays: Sequence[float]
    sleep: Callable[[float], None]
    progress: Progress | None
    sent: int = 0
    renewed: float = field(default_factory=time.monotonic)
    signer: Signer | None = None

    def all(self, total: int) -> None:
        while True:
            self._renew()
            row = self.store.next_due(self.issue.id, utcnow())
            if row is not None:
                self.one(row)
                if self.progress:
                    self.progress(self.sent, total)
                continue
            retry_at = self.store.next_retry_at(self.issue.id)
            if retry_at is None:
                return
            # Sleep in short steps so the lease stays fresh while waiting for a retry.
            self.sleep(min(max((retry_at - utcnow()).total_seconds(), 0.0), RENEW_EVERY))

    def _renew(self) -> None:
        if time.monotonic() - self.renewed >= RENEW_EVERY:
            self.store.renew(self.issue.id, self.holder, utcnow())
            self.renewed = time.monotonic()

    def one(self, row: SendRow) -> None:
        if row.subscriber_status != CONFIRMED:
            self.store.finish(row.id, states.SKIPPED, utcnow(), "unsubscribed before delivery")
            return
        message = self._message(row)  # built before the claim: a render error claims nothing
        self.pacer.wait()
        if not self.store.claim(row.id, utcnow()):
            return
        try:
            self.mailer.deliver(message, self._sender, row.email)
        except UserError:
            self.store.release(row.id, utcnow())  # raised before DATA: nothing was sent
            raise
        except DeliveryError as exc:
            self._failed(row, exc)
            return
        self.store.finish(row.id, states.SENT, utcnow())
        self.sent += 1

    @property
    def _sender(self) -> str:
        return sender_address(self.runtime.settings.mail_from).addr_spec

    def _message(self, row: SendRow) -> EmailMessage:
        settings = self.runtime.settings
        base = settings.base_url.rstrip("/")
        if self.signer is None:
            self.signer = signer_for(settings)
        token = unsubscribe_token(self.signer, row.subscriber_id)
        return digest_message(
            self.issue.content,
            mail_from=settings.mail_from,
            recipient=row.email,
            base_url=base,
            unsubscribe_url=f"{base}/newsletter/unsubscribe?token={token}",
            message_id=message_id(self.issue, row.subscriber_id, settings.mail_from),
        )

    def _failed(self, row: SendRow, exc: DeliveryError) -> None:
        now = utcnow()
        attempt = row.attempts + 1
        log.warning("digest to %s: %s (%s)", mask_email(row.email), exc.kind, exc.reason)
        if exc.kind == REFUSED:
            self.store.finish(row.id, states.REFUSED, now, exc.reason)
            if exc.recipient_refused:
                SubscriberStore(self.runtime.engine).mark_bounced(
                    row.subscriber_id, exc.reason, now
                )
        elif exc.kind == TRANSIENT and attempt <= len(self.delays):
            retry_at = now + timedelta(seconds=self.delays[attempt - 1])
            self.store.defer(row.id, retry_at, exc.reason, now)
        elif exc.kind == TRANSIENT:
            reason = f"gave up after {attempt} attempts: {exc.reason}"
            self.store.finish(row.id, states.FAILED, now, reason)
        elif exc.kind == UNKNOWN and attempt <= len(self.delays):
            # The server may have it: the retry carries the same Message-ID (at least once).
            retry_at = now + timedelta(seconds=self.delays[attempt - 1])
            self.store.defer(row.id, retry_at, exc.reason, now)
        else:
            reason = f"gave up after {attempt} attempts: {exc.reason}"
            self.store.finish(row.id, states.UNKNOWN, now, reason)


def message_id(issue: Issue, subscriber_id: int, mail_from: str) -> str:
    """The Message-ID of one subscriber's copy of an issue: the same on every attempt.

    Derived, not random, so a re-send after a crash repeats the first attempt's ID with
    nothing stored before sending. The issue's creation time keeps IDs of two databases
    (staging and production sending the same week from one domain) apart.
    """
    created = f"{issue.created_at.astimezone(UTC):%Y%m%dT%H%M%S%f}"
    key = f"shiporskip-digest:{issue.id}:{created}:{subscriber_id}".encode()
    digest = hashlib.sha256(key).hexdigest()[:32]
    return f"<digest.{issue.week}.{digest}@{sender_address(mail_from).domain}>"


def _issue_for(runtime: Runtime, week: IsoWeek, store: IssueStore, now: datetime) -> Issue | None:
    """The frozen issue of a week, freezing it now if this is its first send."""
    issue = store.get(str(week))
    if issue is not None:
        return issue
    digest = build_digest(runtime, week, now)
    if digest.empty:
        return None
    return store.create(digest, render_issue(digest, runtime.settings.base_url), now)


def send_digest(
    runtime: Runtime,
    week: str | IsoWeek | None = None,
    *,
    mailer_factory: Callable[[Settings], Mailer] = SmtpMailer,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    progress: Progress | None = None,
) -> SendReport:
    """Send a week's digest (default: the last complete week); safe to run again after a crash.

    Every confirmed subscriber gets the issue at least once. Rows a killed run left in
    "sending" become unknown and are sent again with their first Message-ID; pending rows
    are sent now; sent, refused and failed rows never again.
    """
    settings = runtime.settings
    require_smtp(settings)
    sender_address(settings.mail_from)
    pacer = Pacer(settings.mail_rate, monotonic=monotonic, sleep=sleep)
    now = utcnow()
    iso = resolve_week(week, now)
    check_ended(iso, now)
    store = IssueStore(runtime.engine)
    issue = _issue_for(runtime, iso, store, now)
    if issue is None:
        return SendReport(week=str(iso), empty=True)
    started = monotonic()
    report = SendReport(week=issue.week, subject=issue.subject, sample=issue.is_sample)
    with store.lease(issue, now) as holder:
        report.recovered = store.recover(issue.id, now)
        # A message gets as many attempts in all as a transient failure does, counting those
        # a crash cut short: one that kills its sender every time ends "unknown", not looping.
        report.resent = store.resend_unknown(issue.id, now, len(retry_delays) + 1)
        store.enqueue(issue.id, now)
        total = store.counts(issue.id)[states.PENDING]
        mailer = mailer_factory(settings)
        run = _Run(runtime, issue, store, mailer, holder, pacer, retry_delays, sleep, progress)
        try:
            run.all(total)
        finally:
            mailer.close()
            report.sent_now = run.sent
        report.counts = store.counts(issue.id)
        if not report.count(states.PENDING):
            store.complete(issue.id, utcnow())
    report.failures = store.failures(issue.id)
    report.elapsed = monotonic() - started
    log.info("digest %s: %s", issue.week, "; ".join(report.lines()))
    return report


def digest_status(runtime: Runtime, week: str | IsoWeek) -> IssueStatus:
    """Where a week's issue stands, or a UserError when it was never sent."""
    iso = week if isinstance(week, IsoWeek) else parse_week(week)
    store = IssueStore(runtime.engine)
    issue = store.get(str(iso))
    if issue is None:
        raise UserError(
            f"no digest has been sent for {iso}; `shiporskip digest send --week {iso}` sends it"
        )
    return store.status(issue, utcnow())
