"""Old slugs of renamed tools, so their pages and embedded badges redirect to the new slug.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tool_slugs",
        sa.Column("old_slug", sa.String(64), nullable=False),
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("old_slug", name="pk_tool_slugs"),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["tools.id"], name="fk_tool_slugs_tool_id_tools", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_tool_slugs_tool_id", "tool_slugs", ["tool_id"])


def downgrade() -> None:
    op.drop_table("tool_slugs")
