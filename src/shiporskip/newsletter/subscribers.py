"""The subscriber repository: double opt-in, confirmation, unsubscribe and bounces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from shiporskip.newsletter.addresses import email_key, normalise_email
from shiporskip.storage.schema import newsletter_subscribers as subs

PENDING = "pending"
CONFIRMED = "confirmed"
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
STATUSES = (PENDING, CONFIRMED, UNSUBSCRIBED, BOUNCED)
# At most one confirmation mail per address per hour, however often the form is posted.
RESEND_AFTER = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    status: str
    created_at: datetime
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubscribeOutcome:
    """What a subscribe request did. Never shown to the requester: the page is the same."""

    subscriber_id: int
    email: str
    send_confirmation: bool


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        id=row.id,
        email=row.email,
        status=row.status,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
    )


class SubscriberStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def subscribe(self, raw_email: object, now: datetime) -> SubscribeOutcome:
        """Record a request to subscribe; InvalidEmail (nothing stored) for a bad address."""
        email = normalise_email(raw_email)
        for _ in range(2):  # a concurrent insert of the same address wins; then re-read
            try:
                with self.engine.begin() as conn:
                    return self._subscribe(conn, email, now)
            except IntegrityError:
                continue
        raise RuntimeError("subscriber row kept changing under a concurrent request")

    def _subscribe(self, conn: Connection, email: str, now: datetime) -> SubscribeOutcome:
        row = conn.execute(sa.select(subs).where(subs.c.email_key == email_key(email))).first()
        if row is None:
            result = conn.execute(
                sa.insert(subs).values(
                    email=email,
                    email_key=email_key(email),
                    status=PENDING,
                    created_at=now,
                    updated_at=now,
                    confirm_sent_at=now,
                )
            )
            assert result.inserted_primary_key is not None
            return SubscribeOutcome(int(result.inserted_primary_key[0]), email, True)
        if row.status == CONFIRMED:
            return SubscribeOutcome(row.id, row.email, False)
        # Pending, unsubscribed or bounced: ask again, at most once an hour. The condition
        # is in the UPDATE so two simultaneous requests cannot both send.
        cutoff = now - RESEND_AFTER
        result = conn.execute(
            sa.update(subs)
            .where(subs.c.id == row.id)
            .where(subs.c.status != CONFIRMED)
            .where(sa.or_(subs.c.confirm_sent_at.is_(None), subs.c.confirm_sent_at <= cutoff))
            .values(status=PENDING, email=email, confirm_sent_at=now, updated_at=now)
        )
        return SubscribeOutcome(row.id, email, result.rowcount == 1)

    def confirm(self, subscriber_id: int, now: datetime) -> tuple[str, Subscriber | None]:
        """Confirm a pending subscriber: ('confirmed' | 'already' | 'unsubscribed' | 'missing')."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(subs).where(subs.c.id == subscriber_id)).first()
            if row is None:
                return "missing", None
            if row.status == CONFIRMED:
                return "already", _subscriber(row)
            if row.status != PENDING:
                return "unsubscribed", _subscriber(row)
            conn.execute(
                sa.update(subs)
                .where(subs.c.id == row.id)
                .values(status=CONFIRMED, confirmed_at=now, updated_at=now, bounce_reason=None)
            )
        return "confirmed", self.get(row.id)

    def unsubscribe(self, subscriber_id: int, now: datetime) -> Subscriber | None:
        """Stop mailing a subscriber (idempotent); None when the id names nobody."""
        with self.engine.begin() as conn:
            # The hourly confirmation limit starts afresh: a reader who unsubscribed by
            # mistake and asks again at once must get a link. Only the holder of the
            # subscriber's unsubscribe link can do this, so it is no way to flood an inbox.
            conn.execute(
                sa.update(subs)
                .where(subs.c.id == subscriber_id)
                .where(subs.c.status != UNSUBSCRIBED)
                .values(
                    status=UNSUBSCRIBED, unsubscribed_at=now, updated_at=now, confirm_sent_at=None
                )
            )
        return self.get(subscriber_id)

    def mark_bounced(self, subscriber_id: int, reason: str, now: datetime) -> None:
        """A server refused the address permanently: stop mailing it."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(subs)
                .where(subs.c.id == subscriber_id)
                .where(subs.c.status == CONFIRMED)
                .values(status=BOUNCED, bounce_reason=reason[:500], updated_at=now)
            )

    def get(self, subscriber_id: int) -> Subscriber | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(subs).where(subs.c.id == subscriber_id)).first()
        return _subscriber(row) if row else None

    def find(self, email: str) -> Subscriber | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(subs).where(subs.c.email_key == email_key(email))).first()
        return _subscriber(row) if row else None

    def counts(self) -> dict[str, int]:
        """How many subscribers have each status (every status listed, zeros included)."""
        query = sa.select(subs.c.status, sa.func.count()).group_by(subs.c.status)
        with self.engine.connect() as conn:
            found = {status: int(n) for status, n in conn.execute(query)}
        return {status: found.get(status, 0) for status in STATUSES}

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(subs)) or 0)
