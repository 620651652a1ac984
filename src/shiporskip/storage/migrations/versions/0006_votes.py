"""Community votes, voters, the vote audit log and sign-in links.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voters",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("blocked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voters"),
        sa.UniqueConstraint("email", name="uq_voters_email"),
    )
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("voter_id", sa.String(40), nullable=False),
        sa.Column("value", sa.String(4), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_votes"),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["tools.id"], name="fk_votes_tool_id_tools", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["voter_id"], ["voters.id"], name="fk_votes_voter_id_voters"),
        sa.UniqueConstraint("tool_id", "voter_id", name="uq_votes_tool_voter"),
    )
    op.create_table(
        "vote_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("tool_id", sa.Integer),
        sa.Column("voter_id", sa.String(40), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vote_events"),
    )
    op.create_index("ix_vote_events_voter_time", "vote_events", ["voter_id", "created_at"])
    op.create_index("ix_vote_events_ip_time", "vote_events", ["ip", "created_at"])
    op.create_table(
        "magic_links",
        sa.Column("jti", sa.String(40), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("voter_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("jti", name="pk_magic_links"),
    )


def downgrade() -> None:
    for table in ("magic_links", "vote_events", "votes", "voters"):
        op.drop_table(table)
