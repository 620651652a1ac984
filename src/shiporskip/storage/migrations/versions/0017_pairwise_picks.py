"""Pairwise A-vs-B picks, asked twice with the order swapped.

One row per critic asked about a pair, both answers in one row, audited like a review
(raw outputs, provider, model, prompt version, input hash, tokens, latency). Compare pages
and the methodology page read it, so writes bump the content counter (see 0009).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "pairwise_picks",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("a_tool_id", sa.Integer, nullable=False),
        sa.Column("b_tool_id", sa.Integer, nullable=False),
        sa.Column("critic_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("first_pick", sa.String(10)),
        sa.Column("swapped_pick", sa.String(10)),
        sa.Column("first_reason", sa.Text),
        sa.Column("swapped_reason", sa.Text),
        sa.Column("first_raw", sa.Text),
        sa.Column("swapped_raw", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("prompt_version", sa.String(40), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("input_tokens", sa.Integer),
        sa.Column("output_tokens", sa.Integer),
        sa.Column("cost_usd", sa.Float),
        sa.Column("latency_ms", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pairwise_picks"),
        sa.ForeignKeyConstraint(
            ["a_tool_id"],
            ["tools.id"],
            name="fk_pairwise_picks_a_tool_id_tools",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["b_tool_id"],
            ["tools.id"],
            name="fk_pairwise_picks_b_tool_id_tools",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_pairwise_picks_pair",
        "pairwise_picks",
        ["a_tool_id", "b_tool_id", "critic_id", "id"],
    )
    op.create_index("ix_pairwise_picks_input_hash", "pairwise_picks", ["input_hash"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE CONSTRAINT TRIGGER pairwise_picks_data_version "
            "AFTER INSERT OR UPDATE OR DELETE ON pairwise_picks DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION bump_data_version('1')"
        )
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER pairwise_picks_data_version_{event.lower()} "
                f"AFTER {event} ON pairwise_picks BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER pairwise_picks_data_version ON pairwise_picks")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER pairwise_picks_data_version_{event}")
    op.drop_table("pairwise_picks")
