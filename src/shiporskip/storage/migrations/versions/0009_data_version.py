"""The data version: two counters, bumped in the same transaction as every write to a table
the public pages read, so a server process can tell with one read whether a page it
rendered earlier is still current (see `web/caching.py`). Row 1 counts writes to the
content (catalog, reviews, comparisons), row 2 writes to the community vote (votes,
voters), so pages that show no votes stay current while people vote.

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

# Keep equal to `storage.schema.VERSIONED_TABLES` as of this revision: table -> counter.
TABLES = {
    "tools": 1,
    "tool_names": 1,
    "reviews": 1,
    "tool_panels": 1,
    "comparisons": 1,
    "voters": 2,
    "votes": 2,
}
BUMPS = {
    1: "UPDATE data_version SET version = version + 1 WHERE id = 1",
    2: "UPDATE data_version SET version = version + 1 WHERE id = 2",
}
PG_FUNCTION = """
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    flag text := 'shiporskip.data_version_bumped_' || TG_ARGV[0];
BEGIN
    IF current_setting(flag, true) IS DISTINCT FROM 'yes' THEN
        UPDATE data_version SET version = version + 1 WHERE id = TG_ARGV[0]::integer;
        PERFORM set_config(flag, 'yes', true);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute("CREATE TABLE data_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)")
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 1), (2, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table, row in TABLES.items():
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_data_version "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION bump_data_version('{row}')"
            )
    else:
        for table, row in TABLES.items():
            bump = BUMPS[row]
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_data_version_{event.lower()} "
                    f"AFTER {event} ON {table} BEGIN {bump}; END"
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
