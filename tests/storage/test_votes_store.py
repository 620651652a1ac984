"""Votes in storage, on SQLite and PostgreSQL: uniqueness under concurrency, moderation."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic import command

from shiporskip.domain.votes import VoteValue
from shiporskip.errors import UserError
from shiporskip.runtime import Runtime
from shiporskip.storage import migrate
from shiporskip.storage.schema import voters
from shiporskip.storage.votes import Limits, VoteRefused, VoteStore
from tests.factories import make_tool

OPEN = Limits(per_voter=1000, per_ip=100000, minimum=1)


def test_one_vote_per_voter_even_under_concurrency(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Alpha"))
    store = VoteStore(runtime.engine)
    errors: list[BaseException] = []

    def voter(n: int) -> None:
        try:
            for i in range(6):
                value = VoteValue.ship if (n + i) % 2 else VoteValue.skip
                store.cast("alpha", f"v{n}", f"10.0.0.{n}", value, OPEN)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=voter, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    community = store.community("alpha", 1)
    assert community.total == 8
    # each voter's last vote: i = 5 -> ship when n is even
    assert community.ships == 4 and community.skips == 4


def test_void_voter_and_network(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Alpha"))
    store = VoteStore(runtime.engine)
    store.cast("alpha", "good", "198.51.100.1", VoteValue.ship, OPEN)
    store.cast("alpha", "bad", "203.0.113.5", VoteValue.skip, OPEN)
    store.cast("alpha", "bad2", "203.0.113.77", VoteValue.skip, OPEN)
    assert store.void_network("203.0.113.0/24") == 2
    assert store.community("alpha", 1).total == 1
    with pytest.raises(VoteRefused, match="suspended"):
        store.cast("alpha", "bad", "198.51.100.9", VoteValue.skip, OPEN)
    assert store.void_voter("good") == 1
    assert store.community("alpha", 1).total == 0
    with pytest.raises(UserError, match="not an IP address or range"):
        store.void_network("not-a-network")
    with pytest.raises(UserError, match="no voter 'ghost'"):
        store.void_voter("ghost")
    actions = [e["action"] for e in store.events()]
    assert actions.count("void") == 3


def test_verified_votes_are_counted_apart(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Alpha"))
    store = VoteStore(runtime.engine)
    store.cast("alpha", "a", "198.51.100.1", VoteValue.ship, OPEN)
    store.cast("alpha", "b", "198.51.100.2", VoteValue.ship, OPEN)
    store.verify("a", "a@example.com")
    community = store.community("alpha", 1)
    assert community.verified == 1 and "(1 verified)" in community.note


def test_an_address_verifies_one_voter_at_a_time(runtime: Runtime) -> None:
    """Regression: signing in from a second browser left the first one verified too, so one
    mailbox could verify a vote from every cookie jar it opened a link in."""
    runtime.catalog.add(make_tool("Alpha"))
    store = VoteStore(runtime.engine)
    for voter, ip in (("jar1", "198.51.100.1"), ("jar2", "198.51.100.2")):
        store.cast("alpha", voter, ip, VoteValue.ship, OPEN)
        store.verify(voter, "one@example.com")
    community = store.community("alpha", 1)
    assert (community.total, community.verified) == (2, 1)
    first, second = store.voter("jar1"), store.voter("jar2")
    assert first is not None and first.email is None and first.verified_at is None
    assert second is not None and second.email == "one@example.com"


def test_a_suspension_follows_the_address_to_a_new_browser(runtime: Runtime) -> None:
    runtime.catalog.add(make_tool("Alpha"))
    store = VoteStore(runtime.engine)
    store.cast("alpha", "old", "198.51.100.1", VoteValue.ship, OPEN)
    store.verify("old", "banned@example.com")
    store.void_voter("old")
    store.verify("fresh", "banned@example.com")
    with pytest.raises(VoteRefused, match="suspended"):
        store.cast("alpha", "fresh", "198.51.100.9", VoteValue.ship, OPEN)
    assert store.community("alpha", 1).total == 0


def test_the_migration_unverifies_voters_that_lost_their_address(runtime: Runtime) -> None:
    """What the old rule left behind: a voter without an address still counted as verified."""
    runtime.catalog.add(make_tool("Alpha"))
    store = VoteStore(runtime.engine)
    for voter, ip in (("jar1", "198.51.100.1"), ("jar2", "198.51.100.2")):
        store.cast("alpha", voter, ip, VoteValue.ship, OPEN)
        store.verify(voter, f"{voter}@example.com")
    command.downgrade(migrate._config(runtime.engine), "0012")
    with runtime.engine.begin() as conn:
        conn.execute(sa.update(voters).where(voters.c.id == "jar1").values(email=None))
    assert store.community("alpha", 1).verified == 2
    migrate.upgrade(runtime.engine)
    assert store.community("alpha", 1).verified == 1
