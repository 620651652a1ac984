"""Page versions per tool and per category, so a write invalidates only the pages it shows.

0009's two counters follow the whole content and the whole community vote: one vote on any
tool made every cached tool and compare page stale. This revision adds, bumped by triggers
like 0009's:

- `page_versions`: a (content, votes) pair per key, `t<tool id>` for a tool and
  `c<category>` for a category. Writes to a tool's reviews, panel, history, predictions,
  comparisons and pairwise picks bump its content; its votes bump its votes; a panel change
  also bumps its category's content (the tool page ranks its category's tools by panel).
- `data_version` row 3, the catalog: any write to `tools` or `tool_names` (a tool added,
  edited, renamed or removed may change links and lists on any page) and a change to a voter
  (blocking or verifying one changes the counts of every tool they voted on).

A page that declares the tools and categories it shows is current while row 3 and its keys'
pairs are unchanged (`web/caching.py`); other pages still follow rows 1 and 2, which every
write keeps bumping. On PostgreSQL the key bumps are deferred constraint triggers, so a row
is locked only while its transaction commits.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# table -> (counter, key columns as "prefix:column")
KEYED = {
    "reviews": ("content", ("t:tool_id",)),
    "tool_panels": ("content", ("t:tool_id", "c:category")),
    "panel_history": ("content", ("t:tool_id",)),
    "predictions": ("content", ("t:tool_id",)),
    "comparisons": ("content", ("t:a_tool_id", "t:b_tool_id")),
    "pairwise_picks": ("content", ("t:a_tool_id", "t:b_tool_id")),
    "votes": ("votes", ("t:tool_id",)),
}
# table -> the events that bump the catalog counter (data_version row 3)
CATALOG = {
    "tools": ("INSERT", "UPDATE", "DELETE"),
    "tool_names": ("INSERT", "UPDATE", "DELETE"),
    "voters": ("UPDATE", "DELETE"),
}
EVENTS = ("INSERT", "UPDATE", "DELETE")
CATALOG_BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 3"

PG_FUNCTION = """
CREATE FUNCTION bump_page_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
    k text;
BEGIN
    IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        k := split_part(TG_ARGV[i], ':', 1) || (r ->> split_part(TG_ARGV[i], ':', 2));
        CONTINUE WHEN k IS NULL;
        IF TG_ARGV[0] = 'votes' THEN
            INSERT INTO page_versions (key, content, votes) VALUES (k, 0, 1)
            ON CONFLICT (key) DO UPDATE SET votes = page_versions.votes + 1;
        ELSE
            INSERT INTO page_versions (key, content, votes) VALUES (k, 1, 0)
            ON CONFLICT (key) DO UPDATE SET content = page_versions.content + 1;
        END IF;
    END LOOP;
    RETURN NULL;
END $$
"""


def _sqlite_bump(counter: str, spec: str, row: str) -> str:
    prefix, column = spec.split(":")
    start = "1, 0" if counter == "content" else "0, 1"
    return (
        f"INSERT INTO page_versions (key, content, votes) "
        f"SELECT '{prefix}' || {row}.{column}, {start} WHERE {row}.{column} IS NOT NULL "
        f"ON CONFLICT (key) DO UPDATE SET {counter} = {counter} + 1"
    )


def upgrade() -> None:
    op.execute(
        "CREATE TABLE page_versions (key VARCHAR(200) PRIMARY KEY, "
        "content BIGINT NOT NULL, votes BIGINT NOT NULL)"
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (3, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table, (counter, keys) in KEYED.items():
            args = ", ".join(f"'{a}'" for a in (counter, *keys))
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_page_versions "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION bump_page_versions({args})"
            )
        for table, events in CATALOG.items():
            # `bump_data_version` is 0009's function; it bumps once per transaction.
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_catalog_version "
                f"AFTER {' OR '.join(events)} ON {table} DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW EXECUTE FUNCTION bump_data_version('3')"
            )
        return
    for table, (counter, keys) in KEYED.items():
        for event in EVENTS:
            row = "OLD" if event == "DELETE" else "NEW"
            bumps = "; ".join(_sqlite_bump(counter, spec, row) for spec in keys)
            op.execute(
                f"CREATE TRIGGER {table}_page_versions_{event.lower()} "
                f"AFTER {event} ON {table} BEGIN {bumps}; END"
            )
    for table, events in CATALOG.items():
        for event in events:
            name = f"{table}_catalog_version_{event.lower()}"
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {CATALOG_BUMP}; END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in KEYED:
        if postgresql:
            op.execute(f"DROP TRIGGER {table}_page_versions ON {table}")
        else:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER {table}_page_versions_{event.lower()}")
    for table, events in CATALOG.items():
        if postgresql:
            op.execute(f"DROP TRIGGER {table}_catalog_version ON {table}")
        else:
            for event in events:
                op.execute(f"DROP TRIGGER {table}_catalog_version_{event.lower()}")
    if postgresql:
        op.execute("DROP FUNCTION bump_page_versions()")
    op.execute("DELETE FROM data_version WHERE id = 3")
    op.execute("DROP TABLE page_versions")
