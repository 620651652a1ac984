"""Summaries of the whole catalog, so pages that count every tool read a few rows.

At 100k tools the home page, the panel page, a critic's page, the methodology page and the
category list each read the catalog or every review to count it. This revision adds small
tables that hold those counts, kept by database triggers in the writing transaction (no
write path can forget them, and a tool removed with its reviews by cascade is subtracted
too):

- `tool_counts`: tools per category, entry tier and sample flag (triggers on `tools`);
- `panel_counts`: `tool_panels` rows per category and verdict (ship, skip, split, none);
- `critic_totals`: per critic and category, counted reviews, ships, and agreement with the
  panel verdict, summed from `panel_seats` (one row per tool and critic whose review counts,
  written by `refresh_panels` next to `tool_panels`, which this revision back-fills);
- `model_usage` and `model_tools`: review attempts, tokens and cost per model, critic and
  outcome, and how many tools each model reviewed (triggers on `reviews`);
- an index on `tool_panels` for the home page's closest votes (gap, then name).

On PostgreSQL every counter trigger first takes one transaction-scoped advisory lock, so
writers of the summaries queue instead of deadlocking on counter rows updated in different
orders; SQLite runs one writer at a time anyway.

Revision ID: 0020
Revises: 0019
"""

# The SQL below is assembled from this module's constants only, never from input.
# ruff: noqa: S608

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shiporskip.storage.types import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# The advisory lock every summary writer takes first on PostgreSQL: one per schema, so
# catalogs in other schemas of the same database never wait on it.
LOCK = "pg_advisory_xact_lock(72450020, hashtext(current_schema()))"

VERDICT = (
    "CASE WHEN {r}.ship_pct IS NULL THEN 'none' WHEN {r}.ship_pct > 50 THEN 'ship' "
    "WHEN {r}.ship_pct < 50 THEN 'skip' ELSE 'split' END"
)


def _when(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# source table -> (counter table, key columns, summed columns); `{r}` is NEW or OLD.
COUNTERS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "tools": (
        "tool_counts",
        {"category": "{r}.category", "entry": "{r}.entry", "is_sample": "{r}.is_sample"},
        {"n": "1"},
    ),
    "tool_panels": ("panel_counts", {"category": "{r}.category", "verdict": VERDICT}, {"n": "1"}),
    "panel_seats": (
        "critic_totals",
        {"critic_id": "{r}.critic_id", "category": "{r}.category"},
        {
            "reviews": "1",
            "ships": _when("{r}.verdict = 'ship'"),
            "agreed": _when("{r}.panel_verdict = {r}.verdict"),
            "compared": _when("{r}.panel_verdict <> 'split'"),
            "splits": _when("{r}.panel_verdict = 'split'"),
        },
    ),
    "reviews": (
        "model_usage",
        {
            "provider": "{r}.provider",
            "model": "{r}.model",
            "critic_id": "{r}.critic_id",
            "ok": "{r}.status = 'ok'",
        },
        {
            "n": "1",
            "input_tokens": "coalesce({r}.input_tokens, 0)",
            "output_tokens": "coalesce({r}.output_tokens, 0)",
            "cost_usd": "coalesce({r}.cost_usd, 0.0)",
        },
    ),
}
# Only these columns move a tool between counters; other edits need no counter lock.
TOOLS_MOVED = ("category", "entry", "is_sample")


def _upsert(table: str, sign: str, row: str) -> str:
    target, keys, sums = COUNTERS[table]
    columns = [*keys, *sums]
    values = [e.format(r=row) for e in keys.values()]
    values += [f"{sign}({e.format(r=row)})" for e in sums.values()]
    updates = ", ".join(f"{c} = {target}.{c} + excluded.{c}" for c in sums)
    return (
        f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def _first_of_model(row: str, compare: str) -> str:
    """No other review of the same tool by the same model (before this one, or left)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM reviews r WHERE r.tool_id = {row}.tool_id "
        f"AND r.provider = {row}.provider AND r.model = {row}.model{compare})"
    )


MODEL_TOOLS_ADD = (
    "INSERT INTO model_tools (provider, model, tools) SELECT NEW.provider, NEW.model, 1 "
    f"WHERE {_first_of_model('NEW', ' AND r.id < NEW.id')} "
    "ON CONFLICT (provider, model) DO UPDATE SET tools = model_tools.tools + 1"
)
MODEL_TOOLS_SQLITE_GONE = (
    "UPDATE model_tools SET tools = tools - 1 WHERE provider = OLD.provider "
    f"AND model = OLD.model AND {_first_of_model('OLD', '')}"
)
# PostgreSQL runs row triggers after the whole statement, when every review of a removed
# tool is already gone; one statement trigger counts the tools that lost their last review.
MODEL_TOOLS_PG_GONE = f"""
CREATE FUNCTION summary_model_tools_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM {LOCK};
    UPDATE model_tools m SET tools = m.tools - d.n
    FROM (
        SELECT g.provider, g.model, count(DISTINCT g.tool_id) AS n FROM gone g
        WHERE {_first_of_model("g", "")}
        GROUP BY g.provider, g.model
    ) d
    WHERE m.provider = d.provider AND m.model = d.model;
    RETURN NULL;
END $$
"""


# A tool moved to another category takes its seats along (as 0008's trigger does for
# `tool_panels`), so per-category critic totals follow the edit.
SEATS_FOLLOW = "UPDATE panel_seats SET category = NEW.category WHERE tool_id = NEW.id"
PG_SEATS_FOLLOW = f"""
CREATE FUNCTION summary_seats_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {SEATS_FOLLOW};
    RETURN NULL;
END $$
"""


def _pg_function(table: str) -> str:
    extra_insert = f"{MODEL_TOOLS_ADD};" if table == "reviews" else ""
    return f"""
CREATE FUNCTION summary_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM {LOCK};
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_upsert(table, "-", "OLD")};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_upsert(table, "", "NEW")};
    END IF;
    IF TG_OP = 'INSERT' THEN
        {extra_insert}
    END IF;
    RETURN NULL;
END $$
"""


def _create_tables() -> None:
    op.create_table(
        "tool_counts",
        sa.Column("category", sa.String(40), primary_key=True),
        sa.Column("entry", sa.String(20), primary_key=True),
        sa.Column("is_sample", sa.Boolean, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table(
        "panel_counts",
        sa.Column("category", sa.String(40), primary_key=True),
        sa.Column("verdict", sa.String(10), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table(
        "panel_seats",
        sa.Column(
            "tool_id",
            sa.Integer,
            sa.ForeignKey("tools.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("critic_id", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("panel_verdict", sa.String(10), nullable=False),
        sa.Column("review_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_panel_seats_critic", "panel_seats", ["critic_id", "review_id"])
    op.create_index(
        "ix_panel_seats_critic_category", "panel_seats", ["critic_id", "category", "review_id"]
    )
    op.create_table(
        "critic_totals",
        sa.Column("critic_id", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(40), primary_key=True),
        *(
            sa.Column(name, sa.Integer, nullable=False)
            for name in ("reviews", "ships", "agreed", "compared", "splits")
        ),
    )
    op.create_table(
        "model_usage",
        sa.Column("provider", sa.String(40), primary_key=True),
        sa.Column("model", sa.String(300), primary_key=True),
        sa.Column("critic_id", sa.String(40), primary_key=True),
        sa.Column("ok", sa.Boolean, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("input_tokens", sa.BigInteger, nullable=False),
        sa.Column("output_tokens", sa.BigInteger, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
    )
    op.create_table(
        "model_tools",
        sa.Column("provider", sa.String(40), primary_key=True),
        sa.Column("model", sa.String(300), primary_key=True),
        sa.Column("tools", sa.Integer, nullable=False),
    )


def _create_triggers() -> None:
    moved = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in TOOLS_MOVED)
    if op.get_bind().dialect.name == "postgresql":
        for table in COUNTERS:
            op.execute(_pg_function(table))
            when = f" WHEN ({moved})" if table == "tools" else ""
            op.execute(
                f"CREATE TRIGGER {table}_summary AFTER UPDATE ON {table} "
                f"FOR EACH ROW{when} EXECUTE FUNCTION summary_{table}()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_summary_write AFTER INSERT OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION summary_{table}()"
            )
        op.execute(PG_SEATS_FOLLOW)
        op.execute(
            "CREATE TRIGGER tools_seats_follow AFTER UPDATE OF category ON tools FOR EACH ROW "
            "WHEN (OLD.category IS DISTINCT FROM NEW.category) "
            "EXECUTE FUNCTION summary_seats_follow()"
        )
        op.execute(MODEL_TOOLS_PG_GONE)
        op.execute(
            "CREATE TRIGGER reviews_model_tools_gone AFTER DELETE ON reviews "
            "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
            "EXECUTE FUNCTION summary_model_tools_gone()"
        )
        return
    op.execute(
        "CREATE TRIGGER tools_seats_follow AFTER UPDATE OF category ON tools "
        f"WHEN OLD.category IS NOT NEW.category BEGIN {SEATS_FOLLOW}; END"
    )
    for table in COUNTERS:
        add, remove = _upsert(table, "", "NEW"), _upsert(table, "-", "OLD")
        insert = f"{add}; {MODEL_TOOLS_ADD};" if table == "reviews" else f"{add};"
        delete = f"{remove}; {MODEL_TOOLS_SQLITE_GONE};" if table == "reviews" else f"{remove};"
        when = f" WHEN {moved.replace('IS DISTINCT FROM', 'IS NOT')}" if table == "tools" else ""
        op.execute(
            f"CREATE TRIGGER {table}_summary_insert AFTER INSERT ON {table} BEGIN {insert} END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_summary_delete AFTER DELETE ON {table} BEGIN {delete} END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_summary_update AFTER UPDATE ON {table}{when} "
            f"BEGIN {remove}; {add}; END"
        )


# The home page's biggest splits: closest votes first, then by name (an index walk).
SPLIT_INDEX = (
    "CREATE INDEX ix_tool_panels_split ON tool_panels ((abs(ships - skips)), sort_name, name)"
)


def upgrade() -> None:
    _create_tables()
    op.execute(SPLIT_INDEX)
    _backfill()
    _create_triggers()


def _backfill() -> None:
    """Seats from the panel read model over every stored attempt, then every counter from
    the rows it sums; the triggers come after, so nothing is counted twice."""
    from shiporskip.storage.summaries import rebuild_counters, write_seats

    bind = op.get_bind()
    write_seats(bind, None)
    rebuild_counters(bind)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER reviews_model_tools_gone ON reviews")
        op.execute("DROP FUNCTION summary_model_tools_gone()")
        op.execute("DROP TRIGGER tools_seats_follow ON tools")
        op.execute("DROP FUNCTION summary_seats_follow()")
        for table in COUNTERS:
            op.execute(f"DROP TRIGGER {table}_summary ON {table}")
            op.execute(f"DROP TRIGGER {table}_summary_write ON {table}")
            op.execute(f"DROP FUNCTION summary_{table}()")
    else:
        op.execute("DROP TRIGGER tools_seats_follow")
        for table in COUNTERS:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {table}_summary_{event}")
    op.execute("DROP INDEX ix_tool_panels_split")
    for table in (
        "model_tools",
        "model_usage",
        "critic_totals",
        "panel_seats",
        "panel_counts",
        "tool_counts",
    ):
        op.drop_table(table)
