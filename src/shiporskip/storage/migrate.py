"""Run the Alembic migrations shipped in the package: ordered, recorded, idempotent.

Alembic is imported only when there is something to do: every command and process start
upgrades, and loading Alembic and its scripts cost a CLI command a third of its start-up
when the schema was already current (nearly always).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\s*(?::\s*str\s*)?=\s*[\"']([^\"']+)[\"']\s*$", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.M)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


def _config(engine: Engine) -> Config:
    config = _config_no_engine()
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to `revision`."""
    if revision == "heads" and _at_shipped_heads(engine):
        return
    from alembic import command

    command.upgrade(_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The applied revision(s), comma-separated when the history has several heads."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision() -> str | None:
    """The latest revision(s) shipped with the package."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_config_no_engine()).get_heads()
    return ",".join(sorted(heads)) or None


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def shipped_heads() -> set[str] | None:
    """The head revisions, read from the migration files without Alembic; None if unsure."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found, down = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(found) != 1 or len(down) != 1:
            return None  # not the usual layout: let Alembic read it
        revisions.add(found[0])
        parents.update(_QUOTED.findall(down[0]))
    heads = revisions - parents
    return heads if heads and parents <= revisions else None


def _at_shipped_heads(engine: Engine) -> bool:
    """Whether the database records exactly the shipped heads (then there is nothing to do)."""
    heads = shipped_heads()
    if heads is None:
        return False
    try:
        with engine.connect() as conn:
            applied = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
            return set(applied) == heads
    except sa.exc.DBAPIError:  # a new database: no version table yet
        return False


def _config_no_engine() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config
