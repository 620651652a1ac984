"""Newsletter: subscribers, digest issues and per-recipient sends.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "newsletter_subscribers",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("email_key", sa.String(254), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirm_sent_at", sa.DateTime(timezone=True)),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True)),
        sa.Column("bounce_reason", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_newsletter_subscribers"),
        sa.UniqueConstraint("email_key", name="uq_newsletter_subscribers_email_key"),
    )
    op.create_table(
        "newsletter_issues",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("is_sample", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("sender", sa.String(120)),
        sa.Column("sender_seen_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_newsletter_issues"),
        sa.UniqueConstraint("week", name="uq_newsletter_issues_week"),
    )
    op.create_table(
        "newsletter_sends",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("issue_id", sa.Integer, nullable=False),
        sa.Column("subscriber_id", sa.Integer, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_newsletter_sends"),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["newsletter_issues.id"],
            name="fk_newsletter_sends_issue_id_newsletter_issues",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["newsletter_subscribers.id"],
            name="fk_newsletter_sends_subscriber_id_newsletter_subscribers",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "issue_id", "subscriber_id", name="uq_newsletter_sends_issue_subscriber"
        ),
    )
    op.create_index("ix_newsletter_sends_issue_state", "newsletter_sends", ["issue_id", "state"])


def downgrade() -> None:
    op.drop_table("newsletter_sends")
    op.drop_table("newsletter_issues")
    op.drop_table("newsletter_subscribers")
