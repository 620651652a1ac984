"""The data version: one counter that every write to a table the public pages read bumps,
in the same transaction, so a server process can tell with one indexed read whether a page
it rendered earlier is still current (see `web/page_cache.py`).

Database triggers do the bumping, so no write path (the CLI, the worker, another server
process, a moderator's SQL) can forget it. On PostgreSQL the trigger is a deferred
constraint trigger that bumps once per transaction, at commit: the single counter row is
locked only for the commit itself and always last, so writers queue briefly there instead of
deadlocking. SQLite runs one writer at a time, so plain row triggers cost nothing extra.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Keep equal to `storage.schema.VERSIONED_TABLES` as of this revision.
TABLES = ("tools", "tool_names", "reviews", "tool_panels", "comparisons", "voters", "votes")
BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 1"
PG_FUNCTION = f"""
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('shiporskip.data_version_bumped', true) IS DISTINCT FROM 'yes' THEN
        {BUMP};
        PERFORM set_config('shiporskip.data_version_bumped', 'yes', true);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute("CREATE TABLE data_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)")
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_data_version "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_version()"
            )
    else:
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_data_version_{event.lower()} "
                    f"AFTER {event} ON {table} BEGIN {BUMP}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_data_version ON {table}")
        op.execute("DROP FUNCTION bump_data_version()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_data_version_{event}")
    op.execute("DROP TABLE data_version")
