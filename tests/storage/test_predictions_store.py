"""The predictions ledger (`storage/predictions.py`), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from shiporskip.domain.predictions import Status
from shiporskip.domain.reviews import ReviewRecord
from shiporskip.errors import NotFoundError, UserError
from shiporskip.runtime import Runtime
from shiporskip.storage import migrate
from shiporskip.storage.predictions import Filters, PredictionStore
from shiporskip.storage.queries import current_version
from shiporskip.storage.schema import predictions
from tests.factories import make_tool, review_record
from tests.factories import predicting as make_review

MADE = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
CLAIM = "By June 2027 Alpha will offer a self-hosted edition."


def predicting(
    slug: str,
    critic: str,
    claim: str | None = CLAIM,
    months: int = 12,
    made: datetime = MADE,
    **fields: Any,
) -> ReviewRecord:
    """A successful review carrying a prediction (none when `claim` is None)."""
    return make_review(slug, critic, claim, months, created_at=made, **fields)


def _tools(runtime: Runtime, *names: str) -> dict[str, int]:
    for name in names:
        runtime.catalog.add(make_tool(name, category="models"))
    return {t.slug: runtime.catalog.tool_id(t.slug) for t in runtime.catalog.list()}


def _rows(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.select(predictions).order_by(predictions.c.id))
        return [dict(r._mapping) for r in rows]


def test_a_review_with_a_prediction_writes_its_entry(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha", "Beta")
    review_id = runtime.reviews.add(predicting("alpha", "futurist"), ids["alpha"])
    runtime.reviews.add(predicting("alpha", "builder", claim=None), ids["alpha"])
    runtime.reviews.add(review_record("beta", "skeptic", status="failed"), ids["beta"])
    runtime.reviews.add_many(
        [(predicting("beta", "skeptic", "Beta is gone by 2027.", 6), ids["beta"])]
    )
    rows = _rows(runtime)
    assert [(r["critic_id"], r["tool_id"]) for r in rows] == [
        ("futurist", ids["alpha"]),
        ("skeptic", ids["beta"]),
    ]
    first = rows[0]
    assert first["review_id"] == review_id
    assert first["claim"] == CLAIM and first["horizon_months"] == 12
    assert first["made_at"] == MADE
    # 31 January plus one year; 31 July 2026 for the six-month one, 31 Jan + 1 clamps.
    assert first["due"] == datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    assert rows[1]["due"] == datetime(2026, 7, 31, 12, 0, tzinfo=UTC)
    assert first["outcome"] is None and first["evidence"] is None and not first["is_sample"]


def test_a_repeated_claim_keeps_the_first_entry(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha", "Beta")
    store = runtime.reviews
    first = store.add(predicting("alpha", "futurist"), ids["alpha"])
    later = datetime(2026, 6, 1, tzinfo=UTC)
    # The same claim in other case, spacing and without its full stop, with another horizon.
    echo = "by june 2027   ALPHA will offer a self-hosted edition"
    store.add(predicting("alpha", "futurist", echo, 24, later, input_hash="x"), ids["alpha"])
    store.add_many(
        [
            # A new claim by the same critic is a new entry; the old one stays.
            (predicting("alpha", "futurist", "Alpha doubles its price.", 6, later), ids["alpha"]),
            # The same claim by another critic, or about another tool, is its own entry.
            (predicting("alpha", "skeptic", CLAIM, 12, later), ids["alpha"]),
            (predicting("beta", "futurist", CLAIM, 12, later), ids["beta"]),
            # Twice in one batch: one entry.
            (predicting("beta", "buyer", "Beta is sold.", 3, later), ids["beta"]),
            (predicting("beta", "buyer", "Beta is sold", 9, later), ids["beta"]),
        ]
    )
    rows = _rows(runtime)
    assert [(r["tool_id"], r["critic_id"], r["claim"], r["horizon_months"]) for r in rows] == [
        (ids["alpha"], "futurist", CLAIM, 12),
        (ids["alpha"], "futurist", "Alpha doubles its price.", 6),
        (ids["alpha"], "skeptic", CLAIM, 12),
        (ids["beta"], "futurist", CLAIM, 12),
        (ids["beta"], "buyer", "Beta is sold.", 3),
    ]
    assert rows[0]["review_id"] == first and rows[0]["made_at"] == MADE


def test_status_follows_the_clock_and_the_outcome(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha")
    runtime.reviews.add(predicting("alpha", "futurist"), ids["alpha"])
    runtime.reviews.add(predicting("alpha", "skeptic", "Alpha folds.", 1), ids["alpha"])
    ledger = PredictionStore(runtime.engine)
    june = datetime(2026, 6, 1, tzinfo=UTC)

    def statuses(now: datetime, *wanted: Status) -> list[tuple[str, str]]:
        entries = ledger.page(Filters(statuses=wanted), now)
        return [(e.critic_id, e.status(now).value) for e in entries]

    assert statuses(MADE) == [("futurist", "open"), ("skeptic", "open")]
    assert statuses(june) == [("futurist", "open"), ("skeptic", "due")]
    assert statuses(june, Status.due) == [("skeptic", "due")]
    assert statuses(june, Status.open) == [("futurist", "open")]
    due_at = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)  # 31 January + 1 month
    assert statuses(due_at, Status.due) == [("skeptic", "due")]
    assert statuses(due_at - timedelta(seconds=1), Status.due) == []
    counts = ledger.counts(Filters(), june)
    assert counts == {
        Status.open: 1,
        Status.due: 1,
        Status.right: 0,
        Status.wrong: 0,
        Status.unclear: 0,
    }
    entry_id = ledger.page(Filters(critic="skeptic"), june)[0].id
    ledger.resolve(entry_id, "wrong", "https://example.com/alpha-lives", june)
    assert statuses(june, Status.wrong) == [("skeptic", "wrong")]
    assert statuses(june, Status.due) == []
    assert ledger.counts(Filters(critic="skeptic"), june)[Status.wrong] == 1
    assert ledger.page(Filters(tool="alpha"), june, after=entry_id - 1, limit=1)[0].id == entry_id
    assert ledger.page(Filters(tool="no-such-tool"), june) == []


def test_resolving_records_once_and_refuses_garbage(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha")
    runtime.reviews.add(predicting("alpha", "futurist"), ids["alpha"])
    ledger = PredictionStore(runtime.engine)
    entry = ledger.page(Filters(), MADE)[0]
    before = _rows(runtime)
    bad = [
        (entry.id, "maybe", "https://example.com", "'maybe' is not an outcome"),
        (entry.id, "right", "ftp://example.com/x", "is not a web address"),
        (entry.id, "right", "https://exa\u202emple.com", "direction-changing"),
        (999, "right", "https://example.com", "no prediction 999"),
        (2**40, "right", "https://example.com", "no prediction 1099511627776"),
    ]
    for prediction_id, outcome, evidence, message in bad:
        with pytest.raises(UserError, match=message):
            ledger.resolve(prediction_id, outcome, evidence, MADE)
    assert _rows(runtime) == before
    with pytest.raises(NotFoundError):
        ledger.resolve(999, "right", "https://example.com", MADE)

    with runtime.engine.connect() as conn:
        version = current_version(conn)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    done = ledger.resolve(entry.id, " Right ", " https://example.com/proof ", now)
    assert (done.outcome, done.evidence, done.resolved_at) == (
        "right",
        "https://example.com/proof",
        now,
    )
    with runtime.engine.connect() as conn:
        assert current_version(conn)[0] > version[0], "cached pages see the outcome"
    with pytest.raises(UserError, match="already resolved as right on 2026-03-01"):
        ledger.resolve(entry.id, "wrong", "https://example.com/other", now)
    assert ledger.get(entry.id) == done


def test_track_records_count_model_predictions_before_sample_ones(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha", "Beta", "Gamma")
    claims = ["One.", "Two.", "Three.", "Four."]
    runtime.reviews.add_many(
        [(predicting("alpha", "futurist", c, is_sample=True), ids["alpha"]) for c in claims]
        + [(predicting("beta", "skeptic", c), ids["beta"]) for c in claims[:3]]
        + [(predicting("gamma", "skeptic", "Five.", is_sample=True), ids["gamma"])]
    )
    ledger = PredictionStore(runtime.engine)
    now = datetime(2027, 6, 1, tzinfo=UTC)
    entries = {(e.tool_slug, e.claim): e.id for e in ledger.page(Filters(), now)}
    outcomes = {
        ("alpha", "One."): "right",
        ("alpha", "Two."): "wrong",
        ("alpha", "Three."): "unclear",
        ("beta", "One."): "right",
        ("beta", "Two."): "right",
        ("gamma", "Five."): "wrong",
    }
    for key, outcome in outcomes.items():
        ledger.resolve(entries[key], outcome, "https://example.com", now)
    records = ledger.track_records(["futurist", "skeptic", "builder"])
    futurist, skeptic, builder = records["futurist"], records["skeptic"], records["builder"]
    # Only sample predictions resolved: they count, labelled sample.
    assert (futurist.right, futurist.wrong, futurist.unclear, futurist.unresolved) == (1, 1, 1, 1)
    assert futurist.sample and futurist.text == "1 right, 1 wrong, 1 unclear"
    # Its own predictions resolved: the sample one is left out.
    assert (skeptic.right, skeptic.wrong, skeptic.unresolved, skeptic.sample) == (2, 0, 1, False)
    assert skeptic.share.percent() == "100%" and skeptic.share.interval_text() == "95% CI 34–100%"
    assert builder.text == "no resolved predictions yet" and builder.share.value is None


def test_migration_back_fills_the_ledger_from_reviews(runtime: Runtime) -> None:
    ids = _tools(runtime, "Alpha", "Beta")
    store = runtime.reviews
    store.add(predicting("alpha", "futurist"), ids["alpha"])
    store.add(predicting("alpha", "futurist", CLAIM.upper(), 3, input_hash="y"), ids["alpha"])
    store.add(predicting("alpha", "skeptic", "Alpha folds.", 1, is_sample=True), ids["alpha"])
    store.add(predicting("beta", "futurist", claim=None), ids["beta"])
    store.add(review_record("beta", "buyer", status="failed"), ids["beta"])
    before = _rows(runtime)
    assert len(before) == 2
    command.downgrade(migrate._config(runtime.engine), "0017")
    assert "predictions" not in sa.inspect(runtime.engine).get_table_names()
    migrate.upgrade(runtime.engine)
    assert _rows(runtime) == before
    # The triggers are back: resolving moves the content version.
    with runtime.engine.connect() as conn:
        version = current_version(conn)
    PredictionStore(runtime.engine).resolve(before[0]["id"], "unclear", "https://e.com", MADE)
    with runtime.engine.connect() as conn:
        assert current_version(conn)[0] > version[0]
