"""The predictions ledger: each critic's prediction with its due date and outcome.

One entry per tool, critic and claim (the same claim repeated in a re-review stays one
entry, made when it was first made), back-filled from the successful reviews that carry a
prediction. The public pages read the table, so its writes bump the content counter of
`data_version` like the reviews' (see 0009).

Revision ID: 0018
Revises: 0017
"""

import calendar
import hashlib
import re
import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Light table description: the back-fill must not depend on today's `schema.py`.
reviews = sa.table(
    "reviews",
    sa.column("id", sa.Integer),
    sa.column("tool_id", sa.Integer),
    sa.column("critic_id", sa.String),
    sa.column("status", sa.String),
    sa.column("prediction_claim", sa.Text),
    sa.column("prediction_months", sa.Integer),
    sa.column("is_sample", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
BUMP = "UPDATE data_version SET version = version + 1 WHERE id = 1"
BATCH = 1000


SAMPLE_WRITTEN = datetime(2025, 6, 1, tzinfo=UTC)


def _key(claim: str) -> str:
    # `domain.predictions.claim_key` as of this revision.
    text = unicodedata.normalize("NFKC", claim).casefold()
    text = re.sub(r"\s+", " ", text).strip().rstrip(".!").strip()
    return hashlib.sha256(text.encode()).hexdigest()


def _add_months(moment: datetime, months: int) -> datetime:
    # `domain.predictions.add_months` as of this revision.
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def upgrade() -> None:
    table = op.create_table(
        "predictions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("review_id", sa.Integer, nullable=False),
        sa.Column("tool_id", sa.Integer, nullable=False),
        sa.Column("critic_id", sa.String(40), nullable=False),
        sa.Column("claim", sa.Text, nullable=False),
        sa.Column("claim_key", sa.String(64), nullable=False),
        sa.Column("horizon_months", sa.Integer, nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(10)),
        sa.Column("evidence", sa.String(500)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("is_sample", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
        sa.UniqueConstraint("review_id", name="uq_predictions_review_id"),
        sa.UniqueConstraint("tool_id", "critic_id", "claim_key", name="uq_predictions_claim"),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('right', 'wrong', 'unclear')",
            name="ck_predictions_outcome",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name="fk_predictions_review_id_reviews",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"], ["tools.id"], name="fk_predictions_tool_id_tools", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_predictions_due", "predictions", ["due"])
    op.create_index("ix_predictions_critic_id", "predictions", ["critic_id", "outcome"])
    assert table is not None
    _backfill(table)
    if op.get_bind().dialect.name == "postgresql":
        # `bump_data_version` is 0009's function; it bumps once per transaction, at commit.
        op.execute(
            "CREATE CONSTRAINT TRIGGER predictions_data_version "
            "AFTER INSERT OR UPDATE OR DELETE ON predictions DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION bump_data_version('1')"
        )
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER predictions_data_version_{event.lower()} "
                f"AFTER {event} ON predictions BEGIN {BUMP}; END"
            )


def _backfill(table: sa.Table) -> None:
    """One entry per tool, critic and claim from the successful reviews, oldest first."""
    conn = op.get_bind()
    query = (
        sa.select(reviews)
        .where(reviews.c.status == "ok")
        .where(reviews.c.prediction_claim.is_not(None))
        .where(reviews.c.prediction_months.is_not(None))
        .order_by(reviews.c.id)
        .limit(BATCH)
    )
    # A claim already in the ledger for the tool and critic (from an earlier review) is
    # skipped: the earliest review keeps the entry, as in `storage.predictions`.
    seen: set[tuple[int, str, str]] = set()
    last = 0
    while True:
        # Pages by id: the reviews are never all in memory, and no read is open while writing.
        rows = conn.execute(query.where(reviews.c.id > last)).all()
        if not rows:
            return
        last = rows[-1].id
        batch = []
        for row in rows:
            key = (row.tool_id, row.critic_id, _key(row.prediction_claim))
            if key in seen:
                continue
            seen.add(key)
            # A sample review's claim was made when the sample was written (June 2025).
            made = SAMPLE_WRITTEN if row.is_sample else _utc(row.created_at)
            batch.append(
                {
                    "review_id": row.id,
                    "tool_id": row.tool_id,
                    "critic_id": row.critic_id,
                    "claim": row.prediction_claim,
                    "claim_key": key[2],
                    "horizon_months": row.prediction_months,
                    "made_at": made,
                    "due": _add_months(made, row.prediction_months),
                    "is_sample": row.is_sample,
                }
            )
        if batch:
            conn.execute(sa.insert(table), batch)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER predictions_data_version ON predictions")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER predictions_data_version_{event}")
    op.drop_table("predictions")
