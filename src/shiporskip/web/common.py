"""Data several pages share: panels of many tools, critic statistics, compare URLs."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from shiporskip.domain.reviews import PanelSummary, Verdict
from shiporskip.domain.stats import Proportion
from shiporskip.panel.critics import Critic
from shiporskip.runtime import Runtime
from shiporskip.storage.reviews import ToolPanel, panels


def compare_path(a: str, b: str) -> str:
    """The canonical comparison URL: slugs in alphabetical order."""
    first, second = sorted((a, b))
    return f"/compare/{first}-vs-{second}"


def panel_summaries(
    runtime: Runtime, critics: Sequence[Critic], slugs: Sequence[str] | None = None
) -> tuple[dict[str, ToolPanel], dict[str, PanelSummary]]:
    found = panels(runtime.engine, slugs)
    ids = [c.id for c in critics]
    return found, {slug: panel.summary(ids) for slug, panel in found.items()}


class CriticStats(BaseModel):
    id: str
    name: str
    role: str
    motto: str
    reviews: int
    ships: int
    ship_pct: float | None
    ship_pct_text: str
    interval_text: str
    calibration_warning: str | None
    url: str


def critic_stats(critic: Critic, all_panels: dict[str, ToolPanel]) -> CriticStats:
    """Ship rate with its interval; flagged when a critic ships or skips everything."""
    votes = [p.votes[critic.id] for p in all_panels.values() if critic.id in p.votes]
    ships = sum(v.verdict is Verdict.ship for v in votes)
    return counted_critic_stats(critic, len(votes), ships)


def counted_critic_stats(critic: Critic, reviews: int, ships: int) -> CriticStats:
    """`critic_stats` from counts already made (by the database, for a large catalog)."""
    rate = Proportion(ships, reviews)
    warning = None
    if reviews >= 5 and ships in (0, reviews):
        word = "shipped" if ships else "skipped"
        warning = f"{critic.name} has {word} every one of {reviews} tools: uncalibrated so far"
    return CriticStats(
        id=critic.id,
        name=critic.name,
        role=critic.role,
        motto=critic.motto,
        reviews=reviews,
        ships=ships,
        ship_pct=None if rate.value is None else 100 * rate.value,
        ship_pct_text=rate.percent(),
        interval_text=rate.interval_text(),
        calibration_warning=warning,
        url=f"/critics/{critic.id}",
    )
