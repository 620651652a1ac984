"""The database engine: SQLite (WAL) by default, PostgreSQL for scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from shiporskip.errors import UserError
from shiporskip.settings import mask_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _check_sqlite_folder(path: Path, url: str) -> None:
    # Creating the folder here made a typo in the URL silently build directories anywhere
    # (as root: under /); the data dir is created by the runtime, any other folder is the
    # operator's to make.
    if not path.parent.is_dir():
        raise UserError(
            f"the folder {path.parent} for database {mask_url(url)!r} does not exist; "
            "create it first, or leave the database URL (--database-url, "
            "SHIPORSKIP_DATABASE_URL) unset to keep the database in the data dir"
        )


def create_engine(url: str) -> Engine:
    """An engine for the URL, checked by connecting once; a clear error if that fails."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(
            f"database URL {mask_url(url)!r} cannot be parsed; "
            "use e.g. sqlite:///path/to/file.db or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _check_sqlite_folder(Path(parsed.database), url)
    elif parsed.get_backend_name() == "postgresql":
        kwargs |= {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError):
        raise UserError(
            f"database URL {mask_url(url)!r} names a driver that is not installed; "
            "use sqlite:/// or postgresql+psycopg://"
        ) from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise UserError(
            f"cannot connect to database {mask_url(url)}: {reason}. "
            "Check SHIPORSKIP_DATABASE_URL and that the server is running"
        ) from None
    return engine
