"""Per-client allowances shared by every server process: mail asked for on someone's behalf
and admin token guesses were counted in each process's memory, so `serve --workers N` let a
client have N times the allowance.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_limits",
        sa.Column("what", sa.String(20), nullable=False),
        sa.Column("client", sa.String(32), nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("uses", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("what", "client", "window_start", name="pk_client_limits"),
    )


def downgrade() -> None:
    op.drop_table("client_limits")
