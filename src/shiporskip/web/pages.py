"""Page contexts: each page's data built once, rendered as HTML or returned as JSON."""

from __future__ import annotations

from pydantic import BaseModel

from shiporskip.domain.categories import CATEGORIES
from shiporskip.domain.reviews import VERDICT_LABELS, PanelSummary
from shiporskip.panel.run import panel_summary
from shiporskip.runtime import Runtime
from shiporskip.web.schemas import (
    CategoryOut,
    FailureOut,
    FlagOut,
    PanelOut,
    PredictionOut,
    ReviewOut,
    ToolDetail,
    ToolSummary,
    category_out,
    tool_detail,
    tool_summary,
)


class HomePage(BaseModel):
    count: int
    sample_count: int
    tools: list[ToolSummary]
    categories: list[CategoryOut]


class ToolPage(BaseModel):
    tool: ToolDetail
    panel: PanelOut
    reviews: list[ReviewOut]
    failures: list[FailureOut]
    flags: list[FlagOut]
    same_category: list[ToolSummary]


class ToolList(BaseModel):
    count: int
    tools: list[ToolSummary]


def home_page(runtime: Runtime, category: str | None = None) -> HomePage:
    tools = runtime.catalog.list(category=category)
    return HomePage(
        count=len(tools),
        sample_count=sum(t.sample for t in tools),
        tools=[tool_summary(t) for t in tools],
        categories=[category_out(c.slug) for c in CATEGORIES],
    )


def panel_out(summary: PanelSummary) -> PanelOut:
    return PanelOut(
        verdict=summary.verdict.value if summary.verdict else None,
        verdict_label=VERDICT_LABELS[summary.verdict] if summary.verdict else "Not reviewed yet",
        tally=summary.tally,
        ship_pct=summary.ship_pct,
        score10=summary.score10,
        reported=summary.reported,
        expected=summary.expected,
        failed=summary.failed,
        complete=summary.complete,
        status=summary.status,
    )


def tool_page(runtime: Runtime, slug: str) -> ToolPage:
    tool = runtime.catalog.get(slug)
    critics = runtime.critics()
    current, failed = runtime.reviews.current(slug)
    summary = panel_summary(critics, current, failed)
    reviews = []
    for critic in critics:
        record = current.get(critic.id)
        if record is None or record.draft is None:
            continue
        d = record.draft
        reviews.append(
            ReviewOut(
                critic=critic.id,
                critic_name=critic.name,
                role=critic.role,
                motto=critic.motto,
                verdict=d.verdict.value,
                score=d.score,
                one_liner=d.one_liner,
                body=d.body,
                competitors=list(d.competitors),
                prediction=PredictionOut(**d.prediction.model_dump()) if d.prediction else None,
                model=record.model,
                provider=record.provider,
                sample=record.is_sample,
                notes=list(record.notes),
            )
        )
    failures = [
        FailureOut(critic=c.id, critic_name=c.name, error=failed[c.id].error or "failed")
        for c in critics
        if c.id in failed and c.id not in current
    ]
    peers = [t for t in runtime.catalog.list(category=tool.category) if t.slug != slug]
    return ToolPage(
        tool=tool_detail(tool),
        panel=panel_out(summary),
        reviews=reviews,
        failures=failures,
        flags=[FlagOut(**f) for f in runtime.catalog.flags(slug)],
        same_category=[tool_summary(t) for t in peers[:6]],
    )
