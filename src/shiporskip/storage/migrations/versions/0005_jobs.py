"""The embedded job queue and published comparisons.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("task", sa.String(60), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("key", sa.String(120)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(80)),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("key", name="uq_jobs_key"),
    )
    op.create_index("ix_jobs_status_run_after", "jobs", ["status", "run_after"])
    op.create_table(
        "comparisons",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("a_tool_id", sa.Integer, nullable=False),
        sa.Column("b_tool_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comparisons"),
        sa.ForeignKeyConstraint(
            ["a_tool_id"], ["tools.id"], name="fk_comparisons_a_tool_id_tools", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["b_tool_id"], ["tools.id"], name="fk_comparisons_b_tool_id_tools", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("a_tool_id", "b_tool_id", name="uq_comparisons_pair"),
    )
    op.create_table(
        "job_errors",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("engine_job_id", sa.BigInteger, nullable=False),
        sa.Column("task", sa.String(60), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_errors"),
    )
    op.create_index("ix_job_errors_engine_job_id", "job_errors", ["engine_job_id"])


def downgrade() -> None:
    op.drop_table("job_errors")
    op.drop_table("comparisons")
    op.drop_table("jobs")
