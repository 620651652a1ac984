"""The tables. Migrations in `migrations/versions` create them; this module describes them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tools = sa.Table(
    "tools",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("vendor", sa.String(80), nullable=False),
    sa.Column("homepage", sa.String(500), nullable=False),
    sa.Column("homepage_key", sa.String(500), nullable=False, unique=True),
    sa.Column("category", sa.String(40), nullable=False, index=True),
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
    sa.Column("flags", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Every normalised name (the name and each alias) belongs to one tool only: the database
# itself refuses a second record for the same product, even under a race.
tool_names = sa.Table(
    "tool_names",
    metadata,
    sa.Column("name_key", sa.String(120), primary_key=True),
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("is_alias", sa.Boolean, nullable=False),
)
sa.Index("ix_tool_names_tool_id", tool_names.c.tool_id)

# Reviews are append-only: a re-review adds rows, so the verdict history is kept. The current
# panel is each critic's latest successful review.
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tool_id", sa.Integer, sa.ForeignKey("tools.id", ondelete="CASCADE"), nullable=False),
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
)
sa.Index("ix_reviews_tool_critic", reviews.c.tool_id, reviews.c.critic_id, reviews.c.id)
sa.Index("ix_reviews_input_hash", reviews.c.input_hash)
