"""Badge and widget loads and clicks, counted per tool, kind and UTC day.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embed_counts",
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tool_id", "kind", "day", name="pk_embed_counts"),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["tools.id"], name="fk_embed_counts_tool_id_tools", ondelete="CASCADE"
        ),
        sa.CheckConstraint("hits >= 0", name="ck_embed_counts_hits_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("embed_counts")
