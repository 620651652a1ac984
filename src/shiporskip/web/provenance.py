"""Where a panel's reviews came from, and how its verdict changed: page and API shapes.

Built from the read model (`domain/panel.py`) and the verdict history (`storage/history.py`);
models appear only as public labels (`llm/labels.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from shiporskip.domain.panel import HistoryPoint
from shiporskip.domain.reviews import VERDICT_LABELS
from shiporskip.llm.labels import failure_reason
from shiporskip.panel.critics import Critic
from shiporskip.storage.reviews import CurrentPanel


class EarlierRunOut(BaseModel):
    """A critic whose newest attempt failed: the older review that still counts."""

    critic: str
    critic_name: str
    reviewed_at: datetime
    model: str
    failed_at: datetime
    failure_reason: str


class ProvenanceOut(BaseModel):
    """'7 of 7 critics reported — 1 from an earlier run (2026-11-22, OpenAI gpt-4o-mini)'."""

    status: str
    notes: list[str]
    models: list[str]
    earlier_runs: list[EarlierRunOut]
    awaiting_fresh_review: int
    sample: bool


def provenance_out(panel: CurrentPanel, critics: Sequence[Critic]) -> ProvenanceOut:
    names = {c.id: c.name for c in critics}
    read = panel.read
    earlier = []
    for seat in read.earlier:
        assert seat.counted is not None and seat.failure is not None
        failure = panel.records[seat.failure.id]
        earlier.append(
            EarlierRunOut(
                critic=seat.critic_id,
                critic_name=names.get(seat.critic_id, seat.critic_id),
                reviewed_at=seat.counted.created_at,
                model=seat.counted.model,
                failed_at=seat.failure.created_at,
                failure_reason=failure_reason(failure.error),
            )
        )
    return ProvenanceOut(
        status=read.status,
        notes=read.notes,
        models=read.models,
        earlier_runs=earlier,
        awaiting_fresh_review=read.awaiting,
        sample=read.sample,
    )


class HistoryEntryOut(BaseModel):
    """One state of a tool's panel, oldest first in a history."""

    at: datetime
    verdict: str | None
    tally: str
    ship_pct: float | None
    reported: int
    models: list[str]
    reason: str


class HistoryLineOut(BaseModel):
    """A change as the tool page reads it: 'Ship 4-3 → Skip 3-4 on 2026-12-01, re-review …'."""

    at: datetime
    text: str


def history_entry(point: HistoryPoint) -> HistoryEntryOut:
    summary = point.summary
    return HistoryEntryOut(
        at=point.at,
        verdict=summary.verdict.value if summary.verdict else None,
        tally=summary.tally,
        ship_pct=point.ship_pct,
        reported=point.reported,
        models=list(point.models),
        reason=point.reason,
    )


def _label(point: HistoryPoint) -> str:
    verdict = point.summary.verdict
    return f"{VERDICT_LABELS[verdict]} {point.summary.tally}" if verdict else "No verdict"


def history_lines(points: Sequence[HistoryPoint]) -> list[HistoryLineOut]:
    """Each change as a sentence, newest first."""
    out = []
    for i, point in enumerate(points):
        day = point.at.date().isoformat()
        if i == 0:
            text = f"{_label(point)} on {day}, {point.reason}"
        else:
            text = f"{_label(points[i - 1])} → {_label(point)} on {day}, {point.reason}"
        out.append(HistoryLineOut(at=point.at, text=text))
    return out[::-1]
