"""Reviews by the critic panel, and injection flags on tools.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tools") as batch:
        batch.add_column(sa.Column("flags", sa.JSON, nullable=False, server_default="[]"))
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("critic_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("verdict", sa.String(10)),
        sa.Column("score", sa.Integer),
        sa.Column("one_liner", sa.Text),
        sa.Column("body", sa.Text),
        sa.Column("competitors", sa.JSON, nullable=False),
        sa.Column("prediction_claim", sa.Text),
        sa.Column("prediction_months", sa.Integer),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("prompt_version", sa.String(40), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("raw_output", sa.Text),
        sa.Column("parsed", sa.JSON),
        sa.Column("error", sa.Text),
        sa.Column("input_tokens", sa.Integer),
        sa.Column("output_tokens", sa.Integer),
        sa.Column("cost_usd", sa.Float),
        sa.Column("latency_ms", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("is_sample", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["tools.id"], name="fk_reviews_tool_id_tools", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_reviews_tool_critic", "reviews", ["tool_id", "critic_id", "id"])
    op.create_index("ix_reviews_input_hash", "reviews", ["input_hash"])


def downgrade() -> None:
    op.drop_table("reviews")
    with op.batch_alter_table("tools") as batch:
        batch.drop_column("flags")
