"""Tool panels (each tool's current panel in brief, back-filled from the reviews) and
substring search indexes (FTS5 trigram tables on SQLite, pg_trgm GIN indexes on PostgreSQL).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Light table descriptions: the back-fill must not depend on today's `schema.py`.
tools = sa.table(
    "tools",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("category", sa.String),
)
reviews = sa.table(
    "reviews",
    sa.column("id", sa.Integer),
    sa.column("tool_id", sa.Integer),
    sa.column("critic_id", sa.String),
    sa.column("status", sa.String),
    sa.column("verdict", sa.String),
    sa.column("score", sa.Integer),
    sa.column("is_sample", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
NAME = sa.String(80).with_variant(sa.String(80, collation="C"), "postgresql")
FOLLOW = (
    "UPDATE tool_panels SET category = NEW.category, name = NEW.name, "
    "sort_name = lower(NEW.name) WHERE tool_id = NEW.id"
)
COLUMNS = [
    "tool_id",
    "category",
    "name",
    "sort_name",
    "ships",
    "skips",
    "reported",
    "failed",
    "mean_score",
    "ship_pct",
    "reviewed_at",
    "is_sample",
]


def _rows() -> sa.Select:  # type: ignore[type-arg]
    """Per tool: the latest successful review of each critic counts; critics with only
    failed attempts count as failed (the rule of `storage.reviews.panels`)."""
    r = reviews.alias("r")
    o = reviews.alias("o")
    latest = (
        sa.select(sa.func.max(reviews.c.id))
        .where(reviews.c.status == "ok")
        .group_by(reviews.c.tool_id, reviews.c.critic_id)
    )
    ok = (
        sa.select(
            r.c.tool_id,
            sa.func.sum(sa.case((r.c.verdict == "ship", 1), else_=0)).label("ships"),
            sa.func.count().label("reported"),
            sa.func.avg(r.c.score).label("mean_score"),
            sa.func.max(r.c.created_at).label("reviewed_at"),
            sa.func.min(sa.case((r.c.is_sample, 1), else_=0)).label("sample"),
        )
        .where(r.c.id.in_(latest))
        .group_by(r.c.tool_id)
        .subquery("ok")
    )
    has_ok = (
        sa.select(o.c.id)
        .where(o.c.tool_id == r.c.tool_id)
        .where(o.c.critic_id == r.c.critic_id)
        .where(o.c.status == "ok")
        .exists()
    )
    attempts = (
        sa.select(r.c.tool_id, r.c.critic_id)
        .where(r.c.status != "ok")
        .where(~has_ok)
        .subquery("attempts")
    )
    failed = (
        sa.select(
            attempts.c.tool_id,
            sa.func.count(sa.distinct(attempts.c.critic_id)).label("failed"),
        )
        .group_by(attempts.c.tool_id)
        .subquery("failed")
    )
    ids = sa.select(reviews.c.tool_id).distinct().subquery("ids")
    ships = sa.func.coalesce(ok.c.ships, 0)
    reported = sa.func.coalesce(ok.c.reported, 0)
    return (
        sa.select(
            ids.c.tool_id,
            tools.c.category,
            tools.c.name,
            sa.func.lower(tools.c.name),
            ships,
            reported - ships,
            reported,
            sa.func.coalesce(failed.c.failed, 0),
            sa.cast(ok.c.mean_score, sa.Float),
            sa.case(
                (reported > 0, sa.cast(100.0 * ships, sa.Float) / sa.cast(reported, sa.Float)),
                else_=None,
            ),
            ok.c.reviewed_at,
            sa.func.coalesce(ok.c.sample, 0) == 1,
        )
        .select_from(ids)
        .join(tools, tools.c.id == ids.c.tool_id)
        .outerjoin(ok, ok.c.tool_id == ids.c.tool_id)
        .outerjoin(failed, failed.c.tool_id == ids.c.tool_id)
    )


def upgrade() -> None:
    panels = op.create_table(
        "tool_panels",
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("sort_name", NAME, nullable=False),
        sa.Column("ships", sa.Integer, nullable=False),
        sa.Column("skips", sa.Integer, nullable=False),
        sa.Column("reported", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("mean_score", sa.Float),
        sa.Column("ship_pct", sa.Float),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("is_sample", sa.Boolean, nullable=False),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tools.id"],
            name="fk_tool_panels_tool_id_tools",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tool_id", name="pk_tool_panels"),
    )
    op.create_index("ix_tool_panels_reviewed_at", "tool_panels", ["reviewed_at"])
    op.create_index(
        "ix_tool_panels_rank",
        "tool_panels",
        ["category", sa.text("ship_pct DESC"), sa.text("mean_score DESC"), "sort_name", "name"],
    )
    op.create_index(
        "ix_tool_panels_similar",
        "tool_panels",
        ["category", sa.text("ship_pct DESC"), "sort_name", "name"],
    )
    assert panels is not None
    op.execute(sa.insert(panels).from_select(COLUMNS, _rows()))
    # The copied category and name follow every edit of the tool, whichever code makes it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION tool_panels_follow_tool() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {FOLLOW}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER tool_panels_follow_tool AFTER UPDATE OF name, category ON tools "
            "FOR EACH ROW EXECUTE FUNCTION tool_panels_follow_tool()"
        )
    else:
        op.execute(
            "CREATE TRIGGER tool_panels_follow_tool AFTER UPDATE OF name, category ON tools "
            f"BEGIN {FOLLOW}; END"
        )

    _search_indexes()


# What search matches, one expression per table; `storage/queries.py` repeats them exactly
# so PostgreSQL can use the indexes.
SEARCH_TEXT = (
    "lower(name || chr(10) || vendor || chr(10) || tagline || chr(10) || CAST(aliases AS TEXT))"
)
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE tool_search USING fts5("
    "name, vendor, tagline, aliases, content='tools', content_rowid='id', tokenize='trigram')",
    "CREATE VIRTUAL TABLE tool_name_search USING fts5("
    "name_key, content='tool_names', tokenize='trigram')",
    "INSERT INTO tool_search(tool_search) VALUES ('rebuild')",
    "INSERT INTO tool_name_search(tool_name_search) VALUES ('rebuild')",
]
_ADD = (
    "INSERT INTO tool_search(rowid, name, vendor, tagline, aliases) "
    "VALUES (new.id, new.name, new.vendor, new.tagline, new.aliases);"
)
_DROP = (
    "INSERT INTO tool_search(tool_search, rowid, name, vendor, tagline, aliases) "
    "VALUES ('delete', old.id, old.name, old.vendor, old.tagline, old.aliases);"
)
_KEY_ADD = "INSERT INTO tool_name_search(rowid, name_key) VALUES (new.rowid, new.name_key);"
_KEY_DROP = (
    "INSERT INTO tool_name_search(tool_name_search, rowid, name_key) "
    "VALUES ('delete', old.rowid, old.name_key);"
)
SQLITE_TRIGGERS = {
    "tool_search_insert": f"AFTER INSERT ON tools BEGIN {_ADD} END",
    "tool_search_delete": f"AFTER DELETE ON tools BEGIN {_DROP} END",
    "tool_search_update": f"AFTER UPDATE ON tools BEGIN {_DROP} {_ADD} END",
    "tool_name_search_insert": f"AFTER INSERT ON tool_names BEGIN {_KEY_ADD} END",
    "tool_name_search_delete": f"AFTER DELETE ON tool_names BEGIN {_KEY_DROP} END",
    "tool_name_search_update": f"AFTER UPDATE ON tool_names BEGIN {_KEY_DROP} {_KEY_ADD} END",
}


def _search_indexes() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+), but a role without CREATE on the
        # database cannot add it: search then scans, correctly but slower.
        try:
            with bind.begin_nested():
                bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
        except sa.exc.DBAPIError:
            return
        op.execute(
            f"CREATE INDEX ix_tools_search_trgm ON tools USING gin ({SEARCH_TEXT} "
            "public.gin_trgm_ops)"
        )
        op.execute(
            "CREATE INDEX ix_tool_names_key_trgm ON tool_names USING gin "
            "(name_key public.gin_trgm_ops)"
        )
        return
    for statement in SQLITE_SEARCH:
        op.execute(statement)
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tools_search_trgm")
        op.execute("DROP INDEX IF EXISTS ix_tool_names_key_trgm")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE tool_search")
        op.execute("DROP TABLE tool_name_search")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tool_panels_follow_tool ON tools")
        op.execute("DROP FUNCTION tool_panels_follow_tool()")
    else:
        op.execute("DROP TRIGGER tool_panels_follow_tool")
    op.drop_table("tool_panels")
