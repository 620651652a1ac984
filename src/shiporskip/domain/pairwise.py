"""Pairwise picks: each critic chooses between two tools, asked twice with the order swapped.

A model that prefers whichever option it reads first (or second) gives opposite answers to
the two orders; only a pick that names the same tool both times is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shiporskip.domain.categories import BY_SLUG
from shiporskip.domain.stats import Proportion

Letter = Literal["A", "B", "neither"]
Side = Literal["a", "b"]
# What one answer chose, in the pair's own terms: "a" or "b" (the pair's tools in slug
# order), "neither", or None when there is no valid answer.
Choice = Literal["a", "b", "neither"]

PAIRWISE_RULE = (
    "On a comparison page each critic is also asked which of the two tools it would ship "
    "with for the job both do, and may answer A, B or neither. It is asked twice, with the "
    "order of the two tools swapped. A pick counts only when both answers name the same "
    "tool; otherwise the critic has no preference (order-sensitive). Swap consistency is "
    "the share of critics whose two answers agreed. A pairwise majority is a tool kept by "
    "more than half of the critics who gave both answers."
)
NO_PREFERENCE = "no preference (order-sensitive)"
REASON_CHARS = 300


class PairwiseAnswer(BaseModel):
    """What a critic returns for one order of the pair."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    pick: Letter
    reason: str = Field(min_length=1, max_length=REASON_CHARS)

    @field_validator("pick", mode="before")
    @classmethod
    def _letter(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip().strip(".\"'").lower()
            if text in ("a", "b"):
                return text.upper()
            if text in ("neither", "none"):
                return "neither"
        return value

    @field_validator("reason", mode="before")
    @classmethod
    def _short(cls, value: object) -> object:
        if isinstance(value, str) and len(value.strip()) > REASON_CHARS:
            return value.strip()[: REASON_CHARS - 1].rstrip() + "…"
        return value


def answer_json_schema() -> dict[str, object]:
    """The JSON schema a provider is asked to follow for one answer."""
    return {
        "type": "object",
        "properties": {
            "pick": {"type": "string", "enum": ["A", "B", "neither"]},
            "reason": {"type": "string", "minLength": 1, "maxLength": REASON_CHARS},
        },
        "required": ["pick", "reason"],
        "additionalProperties": False,
    }


def choice(letter: Letter, swapped: bool) -> Choice:
    """The pair's side a letter names: in the swapped order, option A is the pair's b."""
    if letter == "neither":
        return "neither"
    first_is_a = letter == "A"
    return "a" if first_is_a != swapped else "b"


def kept(first: Choice | None, swapped: Choice | None) -> Side | None:
    """The side both answers named, or None (different answers, neither, or no answer)."""
    if first in ("a", "b") and first == swapped:
        return first
    return None


def agreed(first: Choice | None, swapped: Choice | None) -> bool | None:
    """Whether the two answers agree (both "neither" agrees); None without both answers."""
    if first is None or swapped is None:
        return None
    return first == swapped


@dataclass(frozen=True, slots=True)
class CriticPick:
    """One critic's two answers on a pair."""

    critic_id: str
    first: Choice | None
    swapped: Choice | None

    @property
    def kept(self) -> Side | None:
        return kept(self.first, self.swapped)

    @property
    def agreed(self) -> bool | None:
        return agreed(self.first, self.swapped)


@dataclass(frozen=True, slots=True)
class PairwiseTally:
    """Kept picks on a pair and how consistent the critics were under the swap."""

    a: int
    b: int
    answered: int  # critics with both answers
    agreed: int  # of those, whose answers agreed

    @property
    def consistency(self) -> float | None:
        return None if self.answered == 0 else self.agreed / self.answered

    @property
    def swap(self) -> Proportion:
        return Proportion(self.agreed, self.answered)

    @property
    def majority(self) -> Side | None:
        """The tool kept by more than half of the critics who gave both answers."""
        if 2 * self.a > self.answered:
            return "a"
        if 2 * self.b > self.answered:
            return "b"
        return None

    def swapped_sides(self) -> PairwiseTally:
        return PairwiseTally(self.b, self.a, self.answered, self.agreed)


def tally(picks: Sequence[CriticPick]) -> PairwiseTally:
    """Count kept picks and swap agreement over the critics with both answers."""
    both = [p for p in picks if p.agreed is not None]
    return PairwiseTally(
        a=sum(p.kept == "a" for p in both),
        b=sum(p.kept == "b" for p in both),
        answered=len(both),
        agreed=sum(bool(p.agreed) for p in both),
    )


def job_of(a_category: str, b_category: str) -> str:
    """The job the critics are asked about: the shared category, or both when they differ."""
    a, b = BY_SLUG[a_category], BY_SLUG[b_category]
    if a.slug == b.slug:
        return f"{a.name.lower()} ({a.description.rstrip('.').lower()})"
    return (
        f"the work both can do, though they are listed in different categories "
        f"({a.name} and {b.name})"
    )


@dataclass(frozen=True, slots=True)
class PickRecord:
    """One critic's two answers on a pair, with everything needed to audit or reproduce them.

    `a_slug` and `b_slug` are the pair in slug order; "first" is the answer with a shown as
    option A, "swapped" the answer with b shown as option A.
    """

    a_slug: str
    b_slug: str
    critic_id: str
    status: str  # "ok" (both answers valid) or "failed"
    first: Choice | None
    swapped: Choice | None
    provider: str
    model: str
    prompt_version: str
    input_hash: str
    params: dict[str, Any] = field(default_factory=dict)
    first_reason: str | None = None
    swapped_reason: str | None = None
    first_raw: str | None = None
    swapped_raw: str | None = None
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: int | None = None
    attempts: int = 0
    created_at: datetime | None = None
    id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def pick(self) -> CriticPick:
        """The answers as counted: a failed record counts as no answer."""
        if not self.ok:
            return CriticPick(self.critic_id, None, None)
        return CriticPick(self.critic_id, self.first, self.swapped)

    def slug(self, value: Choice | None) -> str | None:
        return {"a": self.a_slug, "b": self.b_slug}.get(value or "")

    def public(self) -> dict[str, str | None]:
        """The published shape: {"critic", "first", "swapped", "kept"} as slugs or null."""
        pick = self.pick
        return {
            "critic": self.critic_id,
            "first": self.slug(pick.first),
            "swapped": self.slug(pick.swapped),
            "kept": self.slug(pick.kept),
        }

    def audit(self) -> dict[str, Any]:
        """Everything stored about the two answers, for operators only (CLI, admin)."""
        created = self.created_at
        return {
            "id": self.id,
            "pair": [self.a_slug, self.b_slug],
            "critic": self.critic_id,
            "status": self.status,
            "first": self.slug(self.first),
            "swapped": self.slug(self.swapped),
            "kept": self.slug(kept(self.first, self.swapped)) if self.ok else None,
            "first_answer": self.first,
            "swapped_answer": self.swapped,
            "first_reason": self.first_reason,
            "swapped_reason": self.swapped_reason,
            "first_raw": self.first_raw,
            "swapped_raw": self.swapped_raw,
            "error": self.error,
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
            "created_at": created.isoformat() if created else None,
        }


def pairwise_data(records: Sequence[PickRecord]) -> dict[str, Any]:
    """`{"picks": [...], "consistency": 0.0-1.0 or null}`: the shape of the API and CLI."""
    return {
        "picks": [r.public() for r in records],
        "consistency": tally([r.pick for r in records]).consistency,
    }
