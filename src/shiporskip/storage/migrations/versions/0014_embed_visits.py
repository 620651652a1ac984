"""Badge and widget visitors: a visitor counts once per tool, kind and UTC day.

Before, every load and click added one, so a script requesting a badge 300 times added 300.
Counts already stored stay as they are.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embed_visits",
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("visitor", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("tool_id", "kind", "day", "visitor", name="pk_embed_visits"),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["tools.id"], name="fk_embed_visits_tool_id_tools", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("embed_visits")
