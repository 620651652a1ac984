"""Reviews and the panel rule: what one critic says, and what the panel concludes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

BODY_WORDS = (80, 180)

# When the bundled sample reviews were written (their prices were checked in June 2025).
# A sample review is stored when an operator loads it, but its prediction was made when it
# was written: "By June 2026 …" with a 12-month horizon falls due in June 2026, not a year
# after the sample was loaded.
SAMPLE_WRITTEN = datetime(2025, 6, 1, tzinfo=UTC)
SHIP_MIN_SCORE = 50  # the published rule: Ship needs a score of at least this, Skip less


class Verdict(StrEnum):
    ship = "ship"
    skip = "skip"


class PanelVerdict(StrEnum):
    ship = "ship"
    skip = "skip"
    tied = "split"  # shown as "Split"; the member avoids shadowing str.split


class Prediction(BaseModel):
    """A falsifiable claim and when to check it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=1, max_length=400)
    horizon_months: int = Field(ge=1, le=120)


class ReviewDraft(BaseModel):
    """What a critic returns: validated the same way for every provider and for samples."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    verdict: Verdict
    score: int = Field(ge=0, le=100)
    one_liner: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=2000)
    competitors: tuple[str, ...] = Field(default=(), max_length=8)
    prediction: Prediction | None = None

    def quality_notes(self, *, wants_prediction: str = "optional") -> list[str]:
        """Soft checks a valid review can still fail; shown, never silently fixed."""
        notes = []
        words = len(self.body.split())
        low, high = BODY_WORDS
        if not low <= words <= high:
            notes.append(f"body has {words} words; the panel asks for {low}-{high}")
        if wants_prediction == "required" and self.prediction is None:
            notes.append("this critic's lens calls for a prediction and none was given")
        if (self.verdict is Verdict.ship) != (self.score >= SHIP_MIN_SCORE):
            notes.append(f"verdict {self.verdict.value} disagrees with score {self.score}")
        return notes


def review_json_schema() -> dict[str, Any]:
    """The JSON schema sent to providers for constrained output.

    Written by hand rather than generated so every server's grammar converter accepts it:
    no $defs, no titles, and every string bounded, because small local models otherwise
    ramble inside a string until the token limit.
    """
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["verdict", "score", "one_liner", "body", "competitors"],
        "properties": {
            "verdict": {"type": "string", "enum": ["ship", "skip"]},
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
            "one_liner": {"type": "string", "minLength": 1, "maxLength": 200},
            "body": {"type": "string", "minLength": 1, "maxLength": 2000},
            "competitors": {
                "type": "array",
                "maxItems": 8,
                "items": {"type": "string", "minLength": 1, "maxLength": 80},
            },
            "prediction": {
                "type": "object",
                "additionalProperties": False,
                "required": ["claim", "horizon_months"],
                "properties": {
                    "claim": {"type": "string", "minLength": 1, "maxLength": 400},
                    "horizon_months": {"type": "integer", "minimum": 1, "maximum": 120},
                },
            },
        },
    }


@dataclass(frozen=True, slots=True)
class PanelSummary:
    """The panel's verdict by the published rule: more ships than skips is Ship, and so on."""

    ships: int
    skips: int
    expected: int
    failed: int = 0
    mean_score: float | None = None

    @property
    def reported(self) -> int:
        return self.ships + self.skips

    @property
    def verdict(self) -> PanelVerdict | None:
        if self.reported == 0:
            return None
        if self.ships > self.skips:
            return PanelVerdict.ship
        if self.skips > self.ships:
            return PanelVerdict.skip
        return PanelVerdict.tied

    @property
    def tally(self) -> str:
        """'5-2': ships first, always."""
        return f"{self.ships}-{self.skips}"

    @property
    def ship_pct(self) -> float | None:
        return None if self.reported == 0 else 100 * self.ships / self.reported

    @property
    def complete(self) -> bool:
        return self.reported >= self.expected

    @property
    def status(self) -> str:
        """'7 of 7 critics reported' or '6 of 7 critics reported (1 failed)'."""
        text = f"{self.reported} of {self.expected} critics reported"
        if self.failed:
            text += f" ({self.failed} failed)"
        return text

    @property
    def score10(self) -> float | None:
        return None if self.mean_score is None else round(self.mean_score / 10, 1)


def summarize(
    verdicts: Sequence[Verdict],
    expected: int,
    failed: int = 0,
    scores: Sequence[int] = (),
) -> PanelSummary:
    """Count a panel's verdicts against the number of critics asked."""
    ships = sum(v is Verdict.ship for v in verdicts)
    mean = sum(scores) / len(scores) if scores else None
    return PanelSummary(
        ships=ships,
        skips=len(verdicts) - ships,
        expected=max(expected, len(verdicts)),
        failed=failed,
        mean_score=mean,
    )


VERDICT_LABELS = {
    PanelVerdict.ship: "Ship",
    PanelVerdict.skip: "Skip",
    PanelVerdict.tied: "Split",
}


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One critic's attempt at one tool, with everything needed to audit or reproduce it."""

    tool_slug: str
    critic_id: str
    status: str  # "ok" or "failed"
    draft: ReviewDraft | None
    provider: str
    model: str
    prompt_version: str
    input_hash: str
    params: dict[str, Any]
    raw_output: str | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: int | None = None
    attempts: int = 1
    is_sample: bool = False
    created_at: Any = None
    id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.draft is not None

    def audit(self) -> dict[str, Any]:
        """Everything stored about the attempt, for operators only (CLI and admin area).

        Public pages show `llm.labels.public_model_label` and `failure_reason` instead: the
        spec names the model server's address and the error can quote it.
        """
        draft = self.draft
        created = self.created_at
        return {
            "id": self.id,
            "critic": self.critic_id,
            "status": self.status,
            "review": draft.model_dump(mode="json") if draft else None,
            "error": self.error,
            "notes": list(self.notes),
            "provider": self.provider,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "input_hash": self.input_hash,
            "params": dict(self.params),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "attempts": self.attempts,
            "sample": self.is_sample,
            "created_at": created.isoformat() if hasattr(created, "isoformat") else created,
        }
