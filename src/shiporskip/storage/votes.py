"""The vote repository: one vote per voter per tool, an audit log, rate limits, moderation."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from shiporskip.domain.votes import Community, VoteValue
from shiporskip.errors import NotFoundError, UserError
from shiporskip.storage.schema import tools, vote_events, voters, votes


class RateLimited(UserError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VoteRefused(UserError):
    """A vote the rules do not accept (e.g. from a suspended voter)."""


@dataclass(frozen=True, slots=True)
class Limits:
    per_voter: int  # accepted votes per voter per minute
    per_ip: int  # accepted votes per IP address per minute
    minimum: int  # votes before a percentage is shown


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


# Advisory lock classes (the first of the two keys): one per limit, so a voter's lock and
# an address's lock never collide however their names hash.
VOTER_LOCKS, ADDRESS_LOCKS = 7301, 7302


def _hold_limits(conn: Connection, voter_id: str, ip: str) -> None:
    """Until this transaction ends, no other vote by this voter or from this address is
    checked against the limits: the count and the insert after it are one step.

    Without this, PostgreSQL (read committed) let concurrent votes each count the same
    recent votes and all be accepted, past the limit. The locks are taken voter first,
    then address, by every vote, so two votes never wait on each other in a circle; they
    are released at commit or rollback. SQLite needs nothing: the transaction's first write
    (`ensure_voter`) took the database's one write lock, held until commit, so the count
    sees every committed vote and no other vote commits before this one.
    """
    if conn.dialect.name != "postgresql":
        return
    for lock_class, key in ((VOTER_LOCKS, voter_id), (ADDRESS_LOCKS, ip)):
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_class, sa.func.hashtext(key))))


# Built once: pages ask this on every view that has vote boxes.
_VOTES_OF = (
    sa.select(tools.c.slug, votes.c.value)
    .join(tools, tools.c.id == votes.c.tool_id)
    .where(
        votes.c.voter_id == sa.bindparam("voter"),
        tools.c.slug.in_(sa.bindparam("slugs", expanding=True)),
        votes.c.voided_at.is_(None),
    )
)


def votes_of(conn: Connection, voter_id: str, slugs: Iterable[str]) -> dict[str, str]:
    """A voter's standing votes ("ship" or "skip") on some tools, by slug."""
    rows = conn.execute(_VOTES_OF, {"voter": voter_id, "slugs": list(slugs)})
    return {slug: value for slug, value in rows}


# Built once per process: tool and compare pages count votes on every request.
_COUNTS = (
    sa.select(
        tools.c.slug,
        votes.c.value,
        sa.func.count().label("n"),
        sa.func.count(voters.c.verified_at).label("verified"),
    )
    .join(tools, tools.c.id == votes.c.tool_id)
    .join(voters, voters.c.id == votes.c.voter_id)
    .where(votes.c.voided_at.is_(None))
    .group_by(tools.c.slug, votes.c.value)
)
_COUNTS_OF = _COUNTS.where(tools.c.slug.in_(sa.bindparam("slugs", expanding=True)))


class VoteStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure_voter(self, conn: Connection, voter_id: str, now: datetime) -> Any:
        insert = _insert(conn)(voters).values(id=voter_id, created_at=now)
        conn.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
        return conn.execute(sa.select(voters).where(voters.c.id == voter_id)).one()

    def cast(
        self,
        slug: str,
        voter_id: str,
        ip: str,
        value: VoteValue | None,
        limits: Limits,
        now: datetime | None = None,
    ) -> Community:
        """Record a vote (None withdraws it) in one transaction; refusals are logged too."""
        now = now or datetime.now(UTC)
        action = value.value if value else "withdraw"
        with self.engine.begin() as conn:
            tool_id = conn.scalar(sa.select(tools.c.id).where(tools.c.slug == slug))
            if tool_id is None:
                raise NotFoundError(f"no tool with slug {slug!r}")
            voter = self.ensure_voter(conn, voter_id, now)
            _hold_limits(conn, voter_id, ip)
            refusal = self._refusal(conn, voter, ip, limits, now)
            if refusal is None:
                self._apply(conn, tool_id, voter_id, ip, value, now)
            conn.execute(
                sa.insert(vote_events).values(
                    tool_id=tool_id,
                    voter_id=voter_id,
                    ip=ip,
                    action=action,
                    accepted=refusal is None,
                    reason=str(refusal)[:200] if refusal else None,
                    created_at=now,
                )
            )
        if refusal is not None:
            raise refusal
        return self.community(slug, limits.minimum)

    def _refusal(
        self, conn: Connection, voter: Any, ip: str, limits: Limits, now: datetime
    ) -> UserError | None:
        if voter.blocked_at is not None:
            return VoteRefused("votes from this voter are suspended by a moderator")
        since = now - timedelta(minutes=1)
        recent = (
            sa.select(sa.func.count())
            .select_from(vote_events)
            .where(vote_events.c.accepted.is_(True), vote_events.c.created_at > since)
        )
        if (conn.scalar(recent.where(vote_events.c.voter_id == voter.id)) or 0) >= limits.per_voter:
            return RateLimited(
                f"too many votes from you in the last minute (limit {limits.per_voter}); "
                "try again in a minute",
                60,
            )
        if (conn.scalar(recent.where(vote_events.c.ip == ip)) or 0) >= limits.per_ip:
            return RateLimited(
                f"too many votes from your network in the last minute (limit {limits.per_ip}); "
                "try again in a minute",
                60,
            )
        return None

    def _apply(
        self,
        conn: Connection,
        tool_id: int,
        voter_id: str,
        ip: str,
        value: VoteValue | None,
        now: datetime,
    ) -> None:
        if value is None:
            conn.execute(
                sa.delete(votes).where(votes.c.tool_id == tool_id, votes.c.voter_id == voter_id)
            )
            return
        insert = _insert(conn)(votes).values(
            tool_id=tool_id,
            voter_id=voter_id,
            value=value.value,
            ip=ip,
            created_at=now,
            updated_at=now,
        )
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=["tool_id", "voter_id"],
                set_={"value": value.value, "ip": ip, "updated_at": now},
            )
        )

    def community(self, slug: str, minimum: int) -> Community:
        return self.communities(minimum, [slug]).get(slug) or Community(0, 0, 0, minimum)

    def communities(self, minimum: int, slugs: Iterable[str] | None = None) -> dict[str, Community]:
        """Counted (not voided) votes per tool, ships/skips and how many are verified."""
        query, params = (_COUNTS, {}) if slugs is None else (_COUNTS_OF, {"slugs": list(slugs)})
        counts: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query, params):
                entry = counts.setdefault(row.slug, {"ship": 0, "skip": 0, "verified": 0})
                entry[row.value] = int(row.n)
                entry["verified"] += int(row.verified)
        return {
            slug: Community(c["ship"], c["skip"], c["verified"], minimum)
            for slug, c in counts.items()
        }

    def my_vote(self, slug: str, voter_id: str) -> VoteValue | None:
        with self.engine.connect() as conn:
            value = votes_of(conn, voter_id, [slug]).get(slug)
        return VoteValue(value) if value else None

    def void_voter(self, voter_id: str, now: datetime | None = None) -> int:
        """Void every vote of a voter and suspend it; returns votes voided."""
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            exists = conn.scalar(sa.select(voters.c.id).where(voters.c.id == voter_id))
            if exists is None:
                raise NotFoundError(f"no voter {voter_id!r}; see the vote log in the admin area")
            conn.execute(sa.update(voters).where(voters.c.id == voter_id).values(blocked_at=now))
            return self._void(conn, votes.c.voter_id == voter_id, now, f"voter {voter_id}")

    def void_network(self, cidr: str, now: datetime | None = None) -> int:
        """Void every vote cast from an IP range (e.g. 203.0.113.0/24) and suspend its voters."""
        try:
            network = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            raise UserError(
                f"{cidr!r} is not an IP address or range; write e.g. 203.0.113.7 or 203.0.113.0/24"
            ) from None
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            ips = [ip for ip in conn.scalars(sa.select(votes.c.ip).distinct()) if _in(ip, network)]
            if not ips:
                return 0
            who = sa.select(votes.c.voter_id).where(votes.c.ip.in_(ips)).distinct()
            conn.execute(sa.update(voters).where(voters.c.id.in_(who)).values(blocked_at=now))
            return self._void(conn, votes.c.ip.in_(ips), now, f"network {network}")

    def _void(self, conn: Connection, where: Any, now: datetime, label: str) -> int:
        rows = list(
            conn.execute(
                sa.select(votes.c.tool_id, votes.c.voter_id, votes.c.ip).where(
                    where, votes.c.voided_at.is_(None)
                )
            )
        )
        conn.execute(
            sa.update(votes).where(where, votes.c.voided_at.is_(None)).values(voided_at=now)
        )
        if rows:
            conn.execute(
                sa.insert(vote_events),
                [
                    {
                        "tool_id": r.tool_id,
                        "voter_id": r.voter_id,
                        "ip": r.ip,
                        "action": "void",
                        "accepted": True,
                        "reason": f"voided by a moderator ({label})",
                        "created_at": now,
                    }
                    for r in rows
                ],
            )
        return len(rows)

    def events(self, limit: int = 100) -> list[dict[str, Any]]:
        query = (
            sa.select(vote_events, tools.c.slug)
            .outerjoin(tools, tools.c.id == vote_events.c.tool_id)
            .order_by(vote_events.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def verify(self, voter_id: str, email: str, now: datetime | None = None) -> None:
        """Make a voter the one verified voter of an address (it proved control of it).

        An address verifies one visitor at a time: a sign-in from another browser takes the
        mark from the previous one, whose votes then count as unverified, so one mailbox
        cannot verify a vote from every cookie jar it opens. A suspension follows the
        address to the new visitor.
        """
        now = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            self.ensure_voter(conn, voter_id, now)
            others = voters.c.email == email, voters.c.id != voter_id
            blocked = conn.scalar(sa.select(sa.func.min(voters.c.blocked_at)).where(*others))
            conn.execute(sa.update(voters).where(*others).values(email=None, verified_at=None))
            conn.execute(
                sa.update(voters)
                .where(voters.c.id == voter_id)
                .values(email=email, verified_at=now)
            )
            if blocked is not None:
                conn.execute(
                    sa.update(voters)
                    .where(voters.c.id == voter_id, voters.c.blocked_at.is_(None))
                    .values(blocked_at=blocked)
                )

    def voter(self, voter_id: str) -> Any | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(voters).where(voters.c.id == voter_id)).first()


def _in(ip: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(ip) in network
    except ValueError:
        return False
