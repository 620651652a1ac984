"""The weekly digest's data: new verdicts, splits, comparisons, verdict changes, a tool to watch.

Everything is computed from the append-only review history with the panel read model
(`domain/panel.py`) as of a moment, so a digest of a past week is the same whenever it is
built and counts a panel the way the tool page does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.engine import Engine

from shiporskip.comparisons import comparisons_for
from shiporskip.domain.panel import Attempt, PanelRead, read_panel
from shiporskip.domain.reviews import VERDICT_LABELS
from shiporskip.domain.tools import Tool
from shiporskip.newsletter.weeks import IsoWeek, check_started
from shiporskip.runtime import Runtime
from shiporskip.storage.reviews import panels
from shiporskip.web.common import compare_path

MAX_SPLITS = 3
MAX_COMPARISONS = 6


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
    flag: str | None = None  # set when the maker's text tries to instruct the critics


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


def review_history(engine: Engine) -> dict[str, list[Attempt]]:
    """Every review attempt of every tool, oldest first, in one query."""
    return {slug: panel.attempts for slug, panel in panels(engine).items()}


FLAG_NOTE = "Flagged: the maker's text tries to instruct the critics; the critics were told not to."


@dataclass(frozen=True, slots=True)
class _Context:
    week: IsoWeek
    tools: dict[str, Tool]
    history: dict[str, list[Attempt]]
    critic_ids: Sequence[str]
    critic_names: dict[str, str]
    base_url: str

    def panel(self, slug: str, moment: datetime) -> PanelRead:
        """The tool's panel as of a moment (`domain/panel.py`)."""
        return read_panel(self.critic_ids, self.history.get(slug, []), as_of=moment)

    def ok_times(self, slug: str) -> list[datetime]:
        return [a.created_at for a in self.history[slug] if a.ok]

    def item(self, slug: str) -> DigestTool:
        tool = self.tools[slug]
        panel = self.panel(slug, self.week.end)
        summary = panel.summary
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
            sample=tool.sample or panel.sample,
            flag=FLAG_NOTE if tool.injection_flags() else None,
        )

    def reviewed_in_week(self, slug: str) -> bool:
        return any(self.week.start <= t < self.week.end for t in self.ok_times(slug))

    def first_reviewed_in_week(self, slug: str) -> bool:
        times = self.ok_times(slug)
        return bool(times) and self.week.start <= min(times) < self.week.end


def _splits(ctx: _Context, active: list[str]) -> list[DigestTool]:
    """The closest votes among panels that moved this week (at least three critics)."""
    scored = []
    for slug in active:
        summary = ctx.panel(slug, ctx.week.end).summary
        margin = abs(summary.ships - summary.skips)
        if summary.reported >= 3 and margin <= 1:
            scored.append((margin, -summary.reported, ctx.tools[slug].name.lower(), slug))
    return [ctx.item(s[-1]) for s in sorted(scored)[:MAX_SPLITS]]


def _changes(ctx: _Context) -> list[VerdictChange]:
    """Tools whose panel verdict at the end of the week differs from before it started."""
    out = []
    for slug in sorted(ctx.history, key=lambda s: ctx.tools[s].name.lower()):
        before = ctx.panel(slug, ctx.week.start).summary
        after = ctx.panel(slug, ctx.week.end).summary
        if before.verdict and after.verdict and before.verdict != after.verdict:
            label = f"{VERDICT_LABELS[before.verdict]} {before.tally}"
            out.append(VerdictChange(tool=ctx.item(slug), before=label))
    return out


def _watch(ctx: _Context, candidates: list[str]) -> ToolToWatch | None:
    """The tool the panel disagrees about most: the widest spread of critic scores.

    A tool whose maker text is flagged as an attempt to instruct the critics is never
    featured: the feature would put that text in front of every subscriber.
    """
    best: tuple[int, str, Attempt, Attempt] | None = None
    for slug in sorted(candidates, key=lambda s: ctx.tools[s].name.lower()):
        if ctx.tools[slug].injection_flags():
            continue
        votes = [a for a in ctx.panel(slug, ctx.week.end).counted if a.score is not None]
        if len(votes) < 2:
            continue
        low = min(votes, key=lambda v: v.score or 0)
        high = max(votes, key=lambda v: v.score or 0)
        spread = (high.score or 0) - (low.score or 0)
        if best is None or spread > best[0]:
            best = (spread, slug, low, high)
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
    history: dict[str, list[Attempt]],
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
        key=lambda s: (min(ctx.ok_times(s)), s),
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
        review_history(runtime.engine),
        {c.id: c.name for c in runtime.critics()},
        runtime.settings.base_url,
        lambda tool: comparisons_for(runtime, tool),
    )
