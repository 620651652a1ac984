"""Indexes for the tools index (`/tools`): every order it offers, with and without a
category, is an index walk, and every count an index range (see `storage/listing.py`).

Names sort by lower-cased name, then name, bytewise (collation "C" on PostgreSQL, as the
queries ask), then id; the expressions here are repeated exactly by the queries.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {
    # Order by name, all tools or one category's.
    "ix_tools_name_order": ("tools", "{lower}, {name}, id"),
    "ix_tools_category_name_order": ("tools", "category, {lower}, {name}, id"),
    # Count and walk one entry tier.
    "ix_tools_entry": ("tools", "entry, category"),
    # Order by panel ship % across categories (the category page's index leads with one).
    "ix_tool_panels_ship_order": (
        "tool_panels",
        "ship_pct DESC, mean_score DESC, sort_name, name, tool_id",
    ),
    # Newest review first within one category.
    "ix_tool_panels_category_reviewed": ("tool_panels", "category, reviewed_at DESC, tool_id DESC"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        lower, name = '(lower(name) COLLATE "C")', '(name COLLATE "C")'
    else:
        lower, name = "lower(name)", "name"
    for index, (table, columns) in INDEXES.items():
        op.execute(f"CREATE INDEX {index} ON {table} ({columns.format(lower=lower, name=name)})")


def downgrade() -> None:
    for index in INDEXES:
        op.execute(f"DROP INDEX {index}")
