"""One verified voter per address: a voter that no longer holds an address is not verified.

Before, signing in from a second browser moved the address to the new visitor but left the
old one's `verified_at`, so one mailbox could verify a vote from every cookie jar.
`VoteStore.verify` now clears both; this clears what the old rule left behind.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE voters SET verified_at = NULL WHERE email IS NULL")


def downgrade() -> None:
    pass  # which voters were verified before cannot be told apart afterwards
