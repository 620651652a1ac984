"""The weekly digest's data: new verdicts, splits, comparisons, verdict changes, a tool to watch.

Everything is computed from the append-only review history, so a digest of a past week is
the same whenever it is built: a panel "at" a moment is each critic's latest successful
review written before that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from shiporskip.comparisons import comparisons_for
from shiporskip.domain.reviews import VERDICT_LABELS, PanelSummary, Verdict, summarize
from shiporskip.domain.tools import Tool
from shiporskip.newsletter.weeks import IsoWeek, check_started
from shiporskip.runtime import Runtime
from shiporskip.storage.schema import reviews, tools
from shiporskip.web.common import compare_path

MAX_SPLITS = 3
MAX_COMPARISONS = 6


@dataclass(frozen=True, slots=True)
class VoteRow:
    """One successful review, reduced to what a panel tally needs."""

    critic_id: str
    verdict: Verdict
    score: int
    created_at: datetime
    is_sample: bool


class DigestTool(BaseModel):
    slug: str
    name: str
    tagline: str
    category: str
    url: str
    verdict: str | None
    verdict_label: str
    tally: str
    reported: int
    expected: int
    sample: bool


class DigestComparison(BaseModel):
    a: str
    b: str
    url: str
    sample: bool


class VerdictChange(BaseModel):
    tool: DigestTool
    before: str


class ToolToWatch(BaseModel):
    tool: DigestTool
    reason: str


class Digest(BaseModel):
    """One week's issue as data: stored with the issue, rendered to HTML and text."""

    week: str
    label: str
    in_progress: bool
    new_verdicts: list[DigestTool]
    splits: list[DigestTool]
    comparisons: list[DigestComparison]
    changes: list[VerdictChange]
    watch: ToolToWatch | None
    sample: bool

    @property
    def empty(self) -> bool:
        return not (self.new_verdicts or self.splits or self.changes or self.comparisons)

    @property
    def summary(self) -> str:
        """'3 new verdicts · 1 split · 2 comparisons': the preview line in an inbox."""
        counts = [
            (len(self.new_verdicts), "new verdict", "new verdicts"),
            (len(self.splits), "split", "splits"),
            (len(self.changes), "verdict change", "verdict changes"),
            (len(self.comparisons), "new comparison", "new comparisons"),
        ]
        parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
        return " · ".join(parts) or "A quiet week on the panel"

    @property
    def subject(self) -> str:
        """The mail subject: the week and its headline, one line, at most 200 characters."""
        names = [t.name for t in self.new_verdicts]
        if names:
            more = f" and {len(names) - 2} more" if len(names) > 2 else ""
            head = f"{len(names)} new verdict{'s' * (len(names) != 1)}: {', '.join(names[:2])}"
            head += more
        elif self.changes:
            head = f"{len(self.changes)} verdict change{'s' * (len(self.changes) != 1)}"
        else:
            head = "the week in verdicts"
        text = f"{'[Sample] ' if self.sample else ''}Ship or Skip {self.week}: {head}"
        return " ".join(text.split())[:200]


def vote_history(engine: Engine) -> dict[str, list[VoteRow]]:
    """Every successful review of every tool, oldest first, in one query."""
    query = (
        sa.select(
            tools.c.slug,
            reviews.c.critic_id,
            reviews.c.verdict,
            reviews.c.score,
            reviews.c.created_at,
            reviews.c.is_sample,
        )
        .join(tools, tools.c.id == reviews.c.tool_id)
        .where(reviews.c.status == "ok")
        .order_by(reviews.c.id)
    )
    out: dict[str, list[VoteRow]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            out.setdefault(row.slug, []).append(
                VoteRow(
                    row.critic_id,
                    Verdict(row.verdict),
                    row.score,
                    row.created_at,
                    row.is_sample,
                )
            )
    return out


def votes_at(rows: Sequence[VoteRow], moment: datetime) -> dict[str, VoteRow]:
    """Each critic's latest vote written before `moment`."""
    current: dict[str, VoteRow] = {}
    for row in rows:
        if row.created_at < moment:
            current[row.critic_id] = row
    return current


def summary_of(votes: dict[str, VoteRow], critic_ids: Sequence[str]) -> PanelSummary:
    """The panel rule applied to the votes of the critics on the panel."""
    kept = [votes[c] for c in critic_ids if c in votes]
    return summarize([v.verdict for v in kept], len(critic_ids), scores=[v.score for v in kept])


@dataclass(frozen=True, slots=True)
class _Context:
    week: IsoWeek
    tools: dict[str, Tool]
    history: dict[str, list[VoteRow]]
    critic_ids: Sequence[str]
    critic_names: dict[str, str]
    base_url: str

    def item(self, slug: str) -> DigestTool:
        tool = self.tools[slug]
        votes = votes_at(self.history.get(slug, []), self.week.end)
        summary = summary_of(votes, self.critic_ids)
        verdict = summary.verdict
        return DigestTool(
            slug=slug,
            name=tool.name,
            tagline=tool.tagline,
            category=tool.category_info.name,
            url=f"{self.base_url}/tools/{slug}",
            verdict=verdict.value if verdict else None,
            verdict_label=VERDICT_LABELS[verdict] if verdict else "Not reviewed",
            tally=summary.tally,
            reported=summary.reported,
            expected=summary.expected,
            sample=tool.sample or any(v.is_sample for v in votes.values()),
        )

    def reviewed_in_week(self, slug: str) -> bool:
        return any(self.week.start <= r.created_at < self.week.end for r in self.history[slug])

    def first_reviewed_in_week(self, slug: str) -> bool:
        first = min(r.created_at for r in self.history[slug])
        return self.week.start <= first < self.week.end


def _splits(ctx: _Context, active: list[str]) -> list[DigestTool]:
    """The closest votes among panels that moved this week (at least three critics)."""
    scored = []
    for slug in active:
        summary = summary_of(votes_at(ctx.history[slug], ctx.week.end), ctx.critic_ids)
        margin = abs(summary.ships - summary.skips)
        if summary.reported >= 3 and margin <= 1:
            scored.append((margin, -summary.reported, ctx.tools[slug].name.lower(), slug))
    return [ctx.item(s[-1]) for s in sorted(scored)[:MAX_SPLITS]]


def _changes(ctx: _Context) -> list[VerdictChange]:
    """Tools whose panel verdict at the end of the week differs from before it started."""
    out = []
    for slug in sorted(ctx.history, key=lambda s: ctx.tools[s].name.lower()):
        before = summary_of(votes_at(ctx.history[slug], ctx.week.start), ctx.critic_ids)
        after = summary_of(votes_at(ctx.history[slug], ctx.week.end), ctx.critic_ids)
        if before.verdict and after.verdict and before.verdict != after.verdict:
            label = f"{VERDICT_LABELS[before.verdict]} {before.tally}"
            out.append(VerdictChange(tool=ctx.item(slug), before=label))
    return out


def _watch(ctx: _Context, candidates: list[str]) -> ToolToWatch | None:
    """The tool the panel disagrees about most: the widest spread of critic scores."""
    best: tuple[int, str, VoteRow, VoteRow] | None = None
    for slug in sorted(candidates, key=lambda s: ctx.tools[s].name.lower()):
        current = votes_at(ctx.history[slug], ctx.week.end)
        votes = [current[c] for c in ctx.critic_ids if c in current]
        if len(votes) < 2:
            continue
        low = min(votes, key=lambda v: v.score)
        high = max(votes, key=lambda v: v.score)
        if best is None or high.score - low.score > best[0]:
            best = (high.score - low.score, slug, low, high)
    if best is None or best[0] == 0:
        return None
    spread, slug, low, high = best
    reason = (
        f"Scores run from {low.score} ({ctx.critic_names[low.critic_id]}) to {high.score} "
        f"({ctx.critic_names[high.critic_id]}), a {spread}-point spread: the panel disagrees "
        "about this one more than any other this week."
    )
    return ToolToWatch(tool=ctx.item(slug), reason=reason)


def _comparisons(
    ctx: _Context, new: list[str], pairs_for: Callable[[Tool], list[tuple[str, str]]]
) -> list[DigestComparison]:
    seen: list[tuple[str, str]] = []
    for slug in new:
        for pair in pairs_for(ctx.tools[slug]):
            if pair not in seen and all(s in ctx.tools for s in pair):
                seen.append(pair)
    out = []
    for a, b in seen[:MAX_COMPARISONS]:
        ta, tb = ctx.tools[a], ctx.tools[b]
        out.append(
            DigestComparison(
                a=ta.name,
                b=tb.name,
                url=ctx.base_url + compare_path(a, b),
                sample=ta.sample or tb.sample,
            )
        )
    return out


def compose(
    week: IsoWeek,
    now: datetime,
    catalog: Sequence[Tool],
    history: dict[str, list[VoteRow]],
    critics: dict[str, str],
    base_url: str,
    pairs_for: Callable[[Tool], list[tuple[str, str]]],
) -> Digest:
    """The digest of a week from the catalog, the review history and the panel (id -> name)."""
    check_started(week, now)
    by_slug = {t.slug: t for t in catalog}
    history = {s: rows for s, rows in history.items() if s in by_slug and rows}
    ctx = _Context(week, by_slug, history, list(critics), critics, base_url.rstrip("/"))
    active = [s for s in history if ctx.reviewed_in_week(s)]
    new = sorted(
        (s for s in active if ctx.first_reviewed_in_week(s)),
        key=lambda s: (min(r.created_at for r in history[s]), s),
    )
    new_items = [ctx.item(s) for s in new]
    splits = _splits(ctx, active)
    comparisons = _comparisons(ctx, new, pairs_for)
    changes = _changes(ctx)
    watch = _watch(ctx, new or active)
    items = [*new_items, *splits, *(c.tool for c in changes)]
    return Digest(
        week=str(week),
        label=week.label,
        in_progress=now < week.end,
        new_verdicts=new_items,
        splits=splits,
        comparisons=comparisons,
        changes=changes,
        watch=watch,
        sample=any(i.sample for i in items) or any(c.sample for c in comparisons),
    )


def build_digest(runtime: Runtime, week: IsoWeek, now: datetime) -> Digest:
    """The digest of a week from this instance's catalog, reviews and panel."""
    return compose(
        week,
        now,
        runtime.catalog.list(),
        vote_history(runtime.engine),
        {c.id: c.name for c in runtime.critics()},
        runtime.settings.base_url,
        lambda tool: comparisons_for(runtime, tool),
    )
