"""The catalog repository: one record per product, enforced here and by the schema."""

from __future__ import annotations

import builtins
import difflib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shiporskip.domain.text import name_key
from shiporskip.domain.tools import Tool
from shiporskip.errors import DuplicateToolError, NotFoundError
from shiporskip.storage.schema import tool_names, tool_slugs, tools


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: tuple[str, ...]
    updated: tuple[str, ...]


def update_hint(slug: str) -> str:
    return (
        f"to change that record run `shiporskip tools edit {slug} …`, "
        f"or import it with `slug: {slug}` and `--update`"
    )


def _row_values(tool: Tool) -> dict[str, Any]:
    data = tool.to_data()
    return {
        "slug": tool.slug,
        "name": tool.name,
        "vendor": tool.vendor,
        "homepage": tool.homepage,
        "homepage_key": tool.homepage_key,
        "category": tool.category,
        "tagline": tool.tagline,
        "description": tool.description,
        "licence": tool.licence,
        "open_weights": tool.open_weights,
        "links": data.get("links", {}),
        "aliases": list(tool.aliases),
        "launch_date": tool.launch_date,
        "entry": tool.pricing.entry.value,
        "pricing": data["pricing"],
        "is_sample": tool.sample,
        "flags": [f.to_data() for f in tool.injection_flags()],
    }


# Validated tools by everything they are built from: validating a stored row costs more
# than reading it, and pages read the same rows on every request. A changed row is a new
# key, so nothing kept is ever stale; the oldest entries go first past the bound.
_VALIDATED: dict[str, Tool] = {}
_VALIDATED_MAX = 2048
_VALIDATED_LOCK = threading.Lock()


def row_to_tool(row: Any) -> Tool:
    """Rebuild the domain object from a stored row."""
    data = _stored_data(row)
    key = repr(data)
    found = _VALIDATED.get(key)
    if found is None:
        found = Tool.from_stored(data)
        with _VALIDATED_LOCK:
            if len(_VALIDATED) >= _VALIDATED_MAX:
                del _VALIDATED[next(iter(_VALIDATED))]
            _VALIDATED[key] = found
    return found


def _stored_data(row: Any) -> dict[str, Any]:
    return {
        "slug": row.slug,
        "name": row.name,
        "aliases": row.aliases,
        "vendor": row.vendor,
        "homepage": row.homepage,
        "category": row.category,
        "tagline": row.tagline,
        "description": row.description,
        "licence": row.licence,
        "open_weights": row.open_weights,
        "links": row.links,
        "launch_date": row.launch_date,
        "pricing": row.pricing,
        "sample": row.is_sample,
    }


# Built once per process: building a statement costs more than running it on a small table.
_BY_SLUG = sa.select(tools).where(tools.c.slug == sa.bindparam("slug"))
_BY_SLUGS = sa.select(tools).where(tools.c.slug.in_(sa.bindparam("slugs", expanding=True)))
_FLAGS = sa.select(tools.c.flags).where(tools.c.slug == sa.bindparam("slug"))


class CatalogStore:
    """Read and write tools. Every write is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- reads ---------------------------------------------------------------------------
    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(tools)) or 0)

    def list(self, category: str | None = None) -> builtins.list[Tool]:
        query = sa.select(tools).order_by(tools.c.name)
        if category:
            query = query.where(tools.c.category == category)
        with self.engine.connect() as conn:
            return [row_to_tool(r) for r in conn.execute(query)]

    def get(self, slug: str) -> Tool:
        return self.get_flagged(slug)[0]

    def get_flagged(self, slug: str) -> tuple[Tool, builtins.list[dict[str, str]]]:
        """A tool and the injection flags recorded on it, in one read (its page shows both)."""
        with self.engine.connect() as conn:
            row = conn.execute(_BY_SLUG, {"slug": slug}).first()
            if row is None:
                raise NotFoundError(self._not_found_message(conn, slug))
        return row_to_tool(row), list(row.flags or [])

    def get_all(self, slugs: Sequence[str]) -> builtins.list[Tool]:
        """Tools by slug, in the order asked, in one read (a comparison's two); the first
        slug not found raises as `get` does."""
        with self.engine.connect() as conn:
            rows = {r.slug: r for r in conn.execute(_BY_SLUGS, {"slugs": builtins.list(slugs)})}
            for slug in slugs:
                if slug not in rows:
                    raise NotFoundError(self._not_found_message(conn, slug))
        return [row_to_tool(rows[slug]) for slug in slugs]

    def find(self, slug: str) -> Tool | None:
        with self.engine.connect() as conn:
            row = conn.execute(_BY_SLUG, {"slug": slug}).first()
        return row_to_tool(row) if row else None

    def flags(self, slug: str) -> builtins.list[dict[str, str]]:
        """Injection flags recorded on a tool (empty when its maker text is clean)."""
        with self.engine.connect() as conn:
            value = conn.scalar(_FLAGS, {"slug": slug})
        return list(value or [])

    def moved(self, slug: str) -> str | None:
        """The current slug of the tool that was renamed away from `slug`, if one was."""
        with self.engine.connect() as conn:
            return self._moved(conn, slug)

    @staticmethod
    def _moved(conn: Connection, slug: str) -> str | None:
        query = (
            sa.select(tools.c.slug)
            .join(tool_slugs, tool_slugs.c.tool_id == tools.c.id)
            .where(tool_slugs.c.old_slug == slug)
        )
        return conn.scalar(query)

    def tool_id(self, slug: str) -> int:
        with self.engine.connect() as conn:
            return self._id(conn, slug)

    def suggestions(self, text: str, limit: int = 3) -> builtins.list[str]:
        """Slugs that look like `text`, best first."""
        with self.engine.connect() as conn:
            return self._suggest(conn, text, limit)

    def _suggest(self, conn: Connection, text: str, limit: int) -> builtins.list[str]:
        slugs = list(conn.scalars(sa.select(tools.c.slug)))
        return difflib.get_close_matches(text, slugs, n=limit, cutoff=0.5)

    def _not_found_message(self, conn: Connection, slug: str) -> str:
        current = self._moved(conn, slug)
        if current is not None:
            return f"no tool with slug {slug!r}; it was renamed to {current!r}"
        near = self._suggest(conn, slug, 3)
        hint = f"did you mean {', '.join(near)}?" if near else "see `shiporskip tools list`"
        return f"no tool with slug {slug!r}; {hint}"

    # -- writes --------------------------------------------------------------------------
    def add(self, tool: Tool) -> Tool:
        """Add a new product, or raise DuplicateToolError pointing at the existing one."""
        with self.engine.begin() as conn:
            self._insert(conn, tool)
        return tool

    def replace(self, slug: str, tool: Tool) -> Tool:
        """Replace the record at `slug` with `tool` (which may carry a new slug)."""
        with self.engine.begin() as conn:
            tool_id = self._id(conn, slug)
            self._update(conn, tool_id, tool)
        return tool

    def remove(self, slug: str) -> None:
        with self.engine.begin() as conn:
            tool_id = self._id(conn, slug)
            conn.execute(sa.delete(tool_names).where(tool_names.c.tool_id == tool_id))
            conn.execute(sa.delete(tools).where(tools.c.id == tool_id))

    def import_tools(self, batch: Sequence[Tool], *, update: bool = False) -> ImportResult:
        """Write a batch in one transaction: all of it, or (on any error) none of it."""
        created: builtins.list[str] = []
        updated: builtins.list[str] = []
        with self.engine.begin() as conn:
            for index, tool in enumerate(batch):
                existing = conn.scalar(sa.select(tools.c.id).where(tools.c.slug == tool.slug))
                try:
                    if existing is not None and update:
                        self._update(conn, existing, tool)
                        updated.append(tool.slug)
                    else:
                        self._insert(conn, tool)
                        created.append(tool.slug)
                except DuplicateToolError as exc:
                    exc.index = index
                    raise
        return ImportResult(tuple(created), tuple(updated))

    def _id(self, conn: Connection, slug: str) -> int:
        tool_id = conn.scalar(sa.select(tools.c.id).where(tools.c.slug == slug))
        if tool_id is None:
            raise NotFoundError(self._not_found_message(conn, slug))
        return int(tool_id)

    def conflict(self, conn: Connection, tool: Tool, ignore_id: int | None = None) -> None:
        """Raise DuplicateToolError if another record is the same product."""
        checks: Iterable[tuple[Any, str]] = (
            (tools.c.slug == tool.slug, f"same slug {tool.slug!r}"),
            (tools.c.homepage_key == tool.homepage_key, f"same homepage {tool.homepage}"),
        )
        for clause, reason in checks:
            query = sa.select(tools.c.id, tools.c.slug).where(clause)
            if ignore_id is not None:
                query = query.where(tools.c.id != ignore_id)
            row = conn.execute(query).first()
            if row is not None:
                self._refuse(tool, row.slug, reason)
        for label in (tool.name, *tool.aliases):
            query = (
                sa.select(tools.c.slug, tools.c.name)
                .join(tool_names, tool_names.c.tool_id == tools.c.id)
                .where(tool_names.c.name_key == name_key(label))
            )
            if ignore_id is not None:
                query = query.where(tools.c.id != ignore_id)
            row = conn.execute(query).first()
            if row is not None:
                self._refuse(tool, row.slug, f"{label!r} is the same name as {row.name!r}")

    @staticmethod
    def _refuse(tool: Tool, existing: str, reason: str) -> None:
        raise DuplicateToolError(
            f"{tool.name!r} is already in the catalog as {existing!r} ({reason}); "
            + update_hint(existing),
            existing,
        )

    def insert(self, conn: Connection, tool: Tool) -> None:
        """Add a tool inside the caller's transaction (duplicates refused as in `add`)."""
        self._insert(conn, tool)

    def _insert(self, conn: Connection, tool: Tool) -> None:
        self.conflict(conn, tool)
        # A new tool may take a renamed tool's old slug: its page wins over the redirect.
        conn.execute(sa.delete(tool_slugs).where(tool_slugs.c.old_slug == tool.slug))
        now = datetime.now(UTC)
        result = conn.execute(
            sa.insert(tools).values(**_row_values(tool), created_at=now, updated_at=now)
        )
        assert result.inserted_primary_key is not None
        self._write_names(conn, int(result.inserted_primary_key[0]), tool)

    def _update(self, conn: Connection, tool_id: int, tool: Tool) -> None:
        self.conflict(conn, tool, ignore_id=tool_id)
        old = conn.scalar(sa.select(tools.c.slug).where(tools.c.id == tool_id))
        if old is not None and old != tool.slug:
            self._rename(conn, tool_id, old, tool.slug)
        conn.execute(
            sa.update(tools)
            .where(tools.c.id == tool_id)
            .values(**_row_values(tool), updated_at=datetime.now(UTC))
        )
        conn.execute(sa.delete(tool_names).where(tool_names.c.tool_id == tool_id))
        self._write_names(conn, tool_id, tool)

    @staticmethod
    def _rename(conn: Connection, tool_id: int, old: str, new: str) -> None:
        """Keep `old` as a way to the tool; links and badges out in the world still use it.

        Rows point at the tool, not at a slug, so a chain a -> b -> c sends a to c.
        """
        conn.execute(sa.delete(tool_slugs).where(tool_slugs.c.old_slug == new))
        conn.execute(
            sa.insert(tool_slugs).values(
                old_slug=old, tool_id=tool_id, created_at=datetime.now(UTC)
            )
        )

    @staticmethod
    def _write_names(conn: Connection, tool_id: int, tool: Tool) -> None:
        keys = {name_key(tool.name): False}
        for alias in tool.aliases:
            keys.setdefault(name_key(alias), True)
        conn.execute(
            sa.insert(tool_names),
            [{"name_key": k, "tool_id": tool_id, "is_alias": a} for k, a in keys.items()],
        )
