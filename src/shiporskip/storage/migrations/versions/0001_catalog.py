"""The catalog: tools and the names they answer to.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tools",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("vendor", sa.String(80), nullable=False),
        sa.Column("homepage", sa.String(500), nullable=False),
        sa.Column("homepage_key", sa.String(500), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("tagline", sa.String(140), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("licence", sa.String(60)),
        sa.Column("open_weights", sa.Boolean, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("launch_date", sa.Date),
        sa.Column("entry", sa.String(20), nullable=False),
        sa.Column("pricing", sa.JSON, nullable=False),
        sa.Column("is_sample", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tools"),
        sa.UniqueConstraint("slug", name="uq_tools_slug"),
        sa.UniqueConstraint("homepage_key", name="uq_tools_homepage_key"),
    )
    op.create_index("ix_tools_category", "tools", ["category"])
    op.create_table(
        "tool_names",
        sa.Column("name_key", sa.String(120), nullable=False),
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("is_alias", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("name_key", name="pk_tool_names"),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["tools.id"],
            name="fk_tool_names_tool_id_tools",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_tool_names_tool_id", "tool_names", ["tool_id"])


def downgrade() -> None:
    op.drop_table("tool_names")
    op.drop_table("tools")
