"""Verdict history: one row per change of a tool's panel (verdict, tally, ship %).

Each reviewed tool gets one row for the panel it has now, dated by its newest counted
review: "sample content" for a sample panel, else "before history was kept" (the changes
before this revision are not reconstructed). The panel is read with the domain's read model
(`domain/panel.py`), the one every page uses. The table is read by the tool pages, so it
gets the data-version triggers of revision 0009.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from shiporskip.domain.panel import Attempt, read_panel
from shiporskip.domain.reviews import Verdict
from shiporskip.llm.labels import public_model_label
from shiporskip.storage.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

REVIEW_COLUMNS = ("id", "tool_id", "critic_id", "status", "verdict", "score", "model", "provider")
BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 1"


def _backfill() -> None:
    bind = op.get_bind()
    reviews = sa.table(
        "reviews",
        *(sa.column(name) for name in REVIEW_COLUMNS),
        sa.column("created_at", UTCDateTime()),
        sa.column("is_sample", sa.Boolean),
    )
    rows = bind.execute(sa.select(reviews).order_by(reviews.c.id))
    by_tool: dict[int, list[Attempt]] = {}
    labels: dict[tuple[str, str], str] = {}
    for r in rows:
        key = (r.model, r.provider)
        if key not in labels:
            labels[key] = public_model_label(r.model, r.provider)
        ok = r.status == "ok"
        by_tool.setdefault(r.tool_id, []).append(
            Attempt(
                id=r.id,
                critic_id=r.critic_id,
                ok=ok,
                verdict=Verdict(r.verdict) if ok else None,
                score=r.score if ok else None,
                created_at=r.created_at,
                model=labels[key],
                is_sample=bool(r.is_sample),
            )
        )
    history = sa.table(
        "panel_history",
        sa.column("tool_id", sa.Integer),
        sa.column("at", UTCDateTime()),
        sa.column("ships", sa.Integer),
        sa.column("skips", sa.Integer),
        sa.column("expected", sa.Integer),
        sa.column("ship_pct", sa.Float),
        sa.column("models", sa.JSON),
        sa.column("is_sample", sa.Boolean),
        sa.column("reason", sa.String),
    )
    values: list[dict[str, Any]] = []
    for tool_id, attempts in by_tool.items():
        panel = read_panel(None, attempts)
        s = panel.summary
        if not s.reported:
            continue
        at = panel.reviewed_at or datetime.now(UTC)
        values.append(
            {
                "tool_id": tool_id,
                "at": at,
                "ships": s.ships,
                "skips": s.skips,
                "expected": s.expected,
                "ship_pct": s.ship_pct,
                "models": panel.models,
                "is_sample": panel.sample,
                "reason": "sample content" if panel.sample else "before history was kept",
            }
        )
    if values:
        bind.execute(sa.insert(history), values)


def upgrade() -> None:
    op.create_table(
        "panel_history",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ships", sa.Integer, nullable=False),
        sa.Column("skips", sa.Integer, nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("ship_pct", sa.Float),
        sa.Column("models", sa.JSON, nullable=False),
        sa.Column("is_sample", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_panel_history"),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["tools.id"], name="fk_panel_history_tool_id_tools", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_panel_history_tool_id", "panel_history", ["tool_id", "id"])
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE CONSTRAINT TRIGGER panel_history_data_version "
            "AFTER INSERT OR UPDATE OR DELETE ON panel_history DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION bump_data_version('1')"
        )
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER panel_history_data_version_{event.lower()} "
                f"AFTER {event} ON panel_history BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER panel_history_data_version ON panel_history")
    op.drop_table("panel_history")
