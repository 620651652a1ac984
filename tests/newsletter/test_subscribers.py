"""The subscriber store on SQLite and PostgreSQL: double opt-in, resend limit, unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shiporskip.newsletter.addresses import InvalidEmail
from shiporskip.newsletter.subscribers import SubscriberStore
from shiporskip.runtime import Runtime

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_a_new_address_is_pending_until_confirmed(runtime: Runtime) -> None:
    store = SubscriberStore(runtime.engine)
    outcome = store.subscribe("Reader@Example.COM", NOW)
    assert outcome.send_confirmation and outcome.email == "Reader@example.com"
    assert store.counts() == {"pending": 1, "confirmed": 0, "unsubscribed": 0, "bounced": 0}
    state, subscriber = store.confirm(outcome.subscriber_id, NOW)
    assert state == "confirmed" and subscriber is not None
    assert subscriber.status == "confirmed" and subscriber.confirmed_at == NOW
    assert store.confirm(outcome.subscriber_id, NOW)[0] == "already"
    assert store.confirm(12345, NOW) == ("missing", None)


def test_one_confirmation_mail_per_hour_per_address_whatever_the_case(runtime: Runtime) -> None:
    store = SubscriberStore(runtime.engine)
    assert store.subscribe("reader@example.com", NOW).send_confirmation
    assert not store.subscribe("READER@example.com", NOW + timedelta(minutes=59)).send_confirmation
    assert store.subscribe("reader@example.com", NOW + timedelta(minutes=61)).send_confirmation
    assert store.count() == 1


def test_a_confirmed_address_is_never_sent_another_confirmation(runtime: Runtime) -> None:
    store = SubscriberStore(runtime.engine)
    store.confirm(store.subscribe("reader@example.com", NOW).subscriber_id, NOW)
    again = store.subscribe("reader@example.com", NOW + timedelta(days=3))
    assert not again.send_confirmation
    assert store.find("reader@example.com").status == "confirmed"  # type: ignore[union-attr]


def test_unsubscribe_is_idempotent_and_resubscribing_needs_a_new_confirmation(
    runtime: Runtime,
) -> None:
    store = SubscriberStore(runtime.engine)
    sid = store.subscribe("reader@example.com", NOW).subscriber_id
    store.confirm(sid, NOW)
    assert store.unsubscribe(sid, NOW).status == "unsubscribed"  # type: ignore[union-attr]
    assert store.unsubscribe(sid, NOW).status == "unsubscribed"  # type: ignore[union-attr]
    assert store.confirm(sid, NOW)[0] == "unsubscribed"
    later = NOW + timedelta(hours=2)
    outcome = store.subscribe("reader@example.com", later)
    assert outcome.send_confirmation and outcome.subscriber_id == sid
    assert store.get(sid).status == "pending"  # type: ignore[union-attr]
    assert store.unsubscribe(99999, NOW) is None


def test_a_bounced_address_stops_being_mailed(runtime: Runtime) -> None:
    store = SubscriberStore(runtime.engine)
    sid = store.subscribe("gone@example.com", NOW).subscriber_id
    store.confirm(sid, NOW)
    store.mark_bounced(sid, "550 no such user", NOW)
    assert store.get(sid).status == "bounced"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw", ["a@b.com\r\nBcc: x@y.com", "a@b.com, c@d.com", "x" * 300 + "@example.com", "ｘ@y.com"]
)
def test_an_invalid_address_stores_nothing(runtime: Runtime, raw: str) -> None:
    store = SubscriberStore(runtime.engine)
    with pytest.raises(InvalidEmail):
        store.subscribe(raw, NOW)
    assert store.count() == 0


def test_resubscribing_right_after_unsubscribing_sends_a_confirmation(runtime: Runtime) -> None:
    """Regression: the hourly limit counted the first confirmation, so a reader who
    unsubscribed by mistake and asked again at once got 'check your inbox' and no mail."""
    store = SubscriberStore(runtime.engine)
    sid = store.subscribe("reader@example.com", NOW).subscriber_id
    store.confirm(sid, NOW)
    store.unsubscribe(sid, NOW + timedelta(minutes=5))
    again = store.subscribe("reader@example.com", NOW + timedelta(minutes=6))
    assert again.send_confirmation and store.get(sid).status == "pending"  # type: ignore[union-attr]
    # The limit holds again from this confirmation on.
    assert not store.subscribe("reader@example.com", NOW + timedelta(minutes=7)).send_confirmation
    # Unsubscribing twice (a mail client and the button) resets it only once.
    store.unsubscribe(sid, NOW + timedelta(minutes=8))
    store.unsubscribe(sid, NOW + timedelta(minutes=8))
    assert store.subscribe("reader@example.com", NOW + timedelta(minutes=9)).send_confirmation
    assert not store.subscribe("reader@example.com", NOW + timedelta(minutes=9)).send_confirmation
