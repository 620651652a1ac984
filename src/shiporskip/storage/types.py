"""Column types the tables share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa


def as_utc(moment: datetime) -> datetime:
    """The same moment in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A moment, stored in UTC and read back time-zone aware on every database.

    PostgreSQL's `timestamptz` keeps the zone, but SQLite stores text and hands back naive
    datetimes: the API printed them without an offset (`2026-12-03T19:56:59`, not a valid
    OpenAPI `date-time`) and they could not be compared with aware ones. Every timestamp
    column has this type, so a row read from either database carries UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        # SQLite's text keeps the wall-clock digits only: they must be UTC's.
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else as_utc(value)
