"""Submissions: tools proposed by the public, in a moderation queue.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("homepage_key", sa.String(500), nullable=False),
        sa.Column("name_keys", sa.JSON, nullable=False),
        sa.Column("flags", sa.JSON, nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("voter_id", sa.String(40)),
        sa.Column("reason", sa.Text),
        sa.Column("tool_slug", sa.String(64)),
        sa.Column("job_id", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
    )
    op.create_index("ix_submissions_status_id", "submissions", ["status", "id"])
    op.create_index("ix_submissions_ip_time", "submissions", ["ip", "created_at"])
    for name, column in (
        ("uq_submissions_pending_homepage", "homepage_key"),
        ("uq_submissions_pending_slug", "slug"),
    ):
        op.create_index(
            name,
            "submissions",
            [column],
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )


def downgrade() -> None:
    op.drop_table("submissions")
