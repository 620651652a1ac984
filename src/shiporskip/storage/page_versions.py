"""The counters a cached page's currency is read from (migrations 0009 and 0019).

`Versions` are the three rows of `data_version`: the whole content, the whole community
vote, and the catalog itself (tools, their names, voters' state). A page that shows the
whole catalog is current while the first (and, if it shows votes, the second) is where it
was. A page that shows a few tools declares them (`PageScope`); it is current while the
catalog row and the (content, votes) pairs of its keys in `page_versions` are where they
were, so a vote or review on another tool leaves it current.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shiporskip.storage.schema import data_version, page_versions, tools

Versions = tuple[int, int, int]  # content, votes, catalog
KeyVersion = tuple[int, int]  # content, votes of one key

_VERSIONS = sa.select(data_version.c.id, data_version.c.version).where(
    data_version.c.id.in_((1, 2, 3))
)
_KEYS = sa.select(page_versions.c.key, page_versions.c.content, page_versions.c.votes).where(
    page_versions.c.key.in_(sa.bindparam("keys", expanding=True))
)
_IDS = sa.select(tools.c.id).where(tools.c.slug.in_(sa.bindparam("slugs", expanding=True)))


@dataclass(frozen=True, slots=True)
class PageScope:
    """What a page shows beyond the catalog's names and links: some tools' panels and
    votes, and the panel ranking of some categories."""

    tools: tuple[str, ...]
    categories: tuple[str, ...] = ()

    @classmethod
    def of(cls, tools: Iterable[str], categories: Iterable[str] = ()) -> PageScope:
        return cls(tuple(dict.fromkeys(tools)), tuple(dict.fromkeys(categories)))


def read_versions(conn: Connection) -> Versions:
    found = {int(row): int(version) for row, version in conn.execute(_VERSIONS)}
    return found.get(1, 0), found.get(2, 0), found.get(3, 0)


def keys_of(conn: Connection, scope: PageScope) -> tuple[str, ...]:
    """The `page_versions` keys of a scope (a slug that names no tool has none)."""
    ids = sorted(int(i) for i in conn.scalars(_IDS, {"slugs": list(scope.tools)}))
    return tuple(f"t{i}" for i in ids) + tuple(f"c{c}" for c in scope.categories)


def key_versions(conn: Connection, keys: Sequence[str]) -> tuple[KeyVersion, ...]:
    """The (content, votes) pair of each key, in order; (0, 0) for a key never bumped."""
    if not keys:
        return ()
    found = {k: (int(c), int(v)) for k, c, v in conn.execute(_KEYS, {"keys": list(keys)})}
    return tuple(found.get(k, (0, 0)) for k in keys)
