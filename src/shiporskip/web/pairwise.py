"""The pairwise part of a compare page: each critic's picks in both orders, and what counts."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from shiporskip.domain.pairwise import (
    NO_PREFERENCE,
    PAIRWISE_RULE,
    Choice,
    PairwiseTally,
    PickRecord,
    tally,
)
from shiporskip.domain.tools import Tool
from shiporskip.llm.labels import public_model_label
from shiporskip.panel.critics import Critic
from shiporskip.runtime import Runtime

RULE_URL = "/methodology#pairwise"


class PickOut(BaseModel):
    """One critic's picks as slugs: `first` with the pair's first slug shown as option A,
    `swapped` with the other shown first, `kept` only when both name the same tool."""

    critic: str
    first: str | None
    swapped: str | None
    kept: str | None


class PickRowOut(BaseModel):
    """What the page's table shows for one critic."""

    critic: str
    critic_name: str
    url: str
    first_text: str
    swapped_text: str
    kept_text: str
    kept: str | None
    model: str


class PairwiseOut(BaseModel):
    picks: list[PickOut]
    consistency: float | None
    first_shown: str  # the tool shown as option A in the "first" order (slug order)
    second_shown: str
    rows: list[PickRowOut]
    consistency_text: str
    summary: str
    rule: str
    rule_url: str


def _text(record: PickRecord, value: Choice | None, names: dict[str, str]) -> str:
    if not record.ok and value is None:
        return "no answer"
    if value == "neither":
        return "neither"
    return names.get(value or "", "no answer")


def pairwise_out(
    runtime: Runtime, critics: Sequence[Critic], x: Tool, y: Tool
) -> tuple[PairwiseOut, PairwiseTally]:
    """The pair's current picks by the configured critics; the tally is in slug order."""
    a, b = sorted((x, y), key=lambda t: t.slug)
    current = runtime.pairwise.current(a.slug, b.slug)
    records = [current[c.id] for c in critics if c.id in current]
    names = {"a": a.name, "b": b.name}
    by_id = {c.id: c for c in critics}
    rows = []
    for r in records:
        pick = r.pick
        if not r.ok:
            kept_text = "failed, not counted"
        elif pick.kept:
            kept_text = names[pick.kept]
        else:
            kept_text = "neither, both times" if pick.agreed else NO_PREFERENCE
        rows.append(
            PickRowOut(
                critic=r.critic_id,
                critic_name=by_id[r.critic_id].name,
                url=f"/critics/{r.critic_id}",
                first_text=_text(r, r.first, names),
                swapped_text=_text(r, r.swapped, names),
                kept_text=kept_text,
                kept=r.slug(pick.kept),
                model=public_model_label(r.model, r.provider),
            )
        )
    counted = tally([r.pick for r in records])
    share = counted.swap
    if counted.answered:
        consistency_text = (
            f"{counted.agreed} of {counted.answered} critics gave the same answer in both "
            f"orders ({share.percent()}, {share.interval_text()})"
        )
        majority = (
            f"a pairwise majority picks {names[counted.majority]}"
            if counted.majority
            else "no tool has a pairwise majority"
        )
        summary = f"Kept picks: {a.name} {counted.a}, {b.name} {counted.b}; {majority}."
    else:
        consistency_text = "—"
        summary = "No critic has picked between these two tools yet."
    out = PairwiseOut(
        picks=[PickOut(**r.public()) for r in records],
        consistency=counted.consistency,
        first_shown=a.slug,
        second_shown=b.slug,
        rows=rows,
        consistency_text=consistency_text,
        summary=summary,
        rule=PAIRWISE_RULE,
        rule_url=RULE_URL,
    )
    return out, counted
