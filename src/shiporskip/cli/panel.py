"""`shiporskip critics …` and `shiporskip review`: the panel from the command line."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from shiporskip.cli.common import cells, console, print_json, runtime, styled
from shiporskip.domain.panel import PanelRead
from shiporskip.domain.reviews import VERDICT_LABELS, PanelSummary
from shiporskip.errors import UserError
from shiporskip.panel.critics import Critic, find_critic

if TYPE_CHECKING:
    # The panel machinery (LLM clients, httpx) loads only when `review` runs, not for
    # `tools list` and `tools show`, which use this module's formatting helpers.
    from shiporskip.panel.run import PanelEvent, PanelRun

critics_app = typer.Typer(help="The critic panel: who reviews, and through which lens.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def critic_data(critic: Critic) -> dict[str, Any]:
    return critic.model_dump(mode="json")


@critics_app.command("list")
def critics_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the critics on the panel.

    Example: shiporskip critics list
    """
    with runtime(ctx) as rt:
        critics = rt.critics()
    if as_json:
        print_json({"count": len(critics), "critics": [critic_data(c) for c in critics]})
        return
    table = Table(title=f"The panel: {len(critics)} critics", title_justify="left")
    for column in ("id", "name", "role", "motto"):
        table.add_column(column)
    for c in critics:
        table.add_row(*cells(c.id, c.name, c.role, c.motto))
    console.print(table, markup=False)


@critics_app.command("show")
def critics_show(
    ctx: typer.Context,
    critic_id: Annotated[str, typer.Argument(metavar="ID", help="The critic's id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one critic's lens, enthusiasms, pet peeves, review shape and rules.

    Example: shiporskip critics show skeptic
    """
    with runtime(ctx) as rt:
        critic = find_critic(rt.critics(), critic_id)
    if as_json:
        print_json(critic_data(critic))
        return
    out = [f"{critic.name} — {critic.role}", f'"{critic.motto}"', "", critic.lens, ""]
    out += ["Gets excited about:", *(f"  + {x}" for x in critic.excited_about)]
    out += ["Tired of:", *(f"  - {x}" for x in critic.tired_of)]
    out += ["Review shape:", *(f"  {i}. {x}" for i, x in enumerate(critic.review_shape, 1))]
    if critic.rules:
        out += ["Rules:", *(f"  * {x}" for x in critic.rules)]
    out.append(f"Prediction: {critic.prediction}")
    console.print("\n".join(out), markup=False)


_STATE_STYLE = {
    "queued": "dim",
    "running": "cyan",
    "repairing": "yellow",
    "done": "green",
    "failed": "red",
    "cached": "blue",
}


def _progress(critics: list[Critic], states: dict[str, PanelEvent]) -> Table:
    table = Table(title="Panel", title_justify="left")
    for column in ("critic", "state", "latency", "verdict", "score"):
        table.add_column(column)
    for critic in critics:
        event = states.get(critic.id)
        state = event.state if event else "queued"
        record = event.record if event else None
        draft = record.draft if record else None
        latency = f"{record.latency_ms / 1000:.1f} s" if record and record.latency_ms else ""
        table.add_row(
            critic.id,
            styled((state, _STATE_STYLE[state])),
            latency,
            draft.verdict.value if draft else "",
            str(draft.score) if draft else "",
        )
    return table


def summary_data(summary: PanelSummary) -> dict[str, Any]:
    return {
        "verdict": summary.verdict.value if summary.verdict else None,
        "tally": summary.tally,
        "ship_pct": summary.ship_pct,
        "reported": summary.reported,
        "expected": summary.expected,
        "failed": summary.failed,
        "complete": summary.complete,
        "status": summary.status,
        "score10": summary.score10,
    }


def provenance_data(read: PanelRead) -> dict[str, Any]:
    """Where the counted reviews came from (`domain/panel.py`), for --json."""
    earlier = [
        {
            "critic": s.critic_id,
            "reviewed_at": s.counted.created_at.isoformat(),
            "model": s.counted.model,
            "failed_at": s.failure.created_at.isoformat(),
        }
        for s in read.earlier
        if s.counted is not None and s.failure is not None
    ]
    return {
        "status": read.status,
        "notes": read.notes,
        "models": read.models,
        "earlier_runs": earlier,
        "awaiting_fresh_review": read.awaiting,
        "sample": read.sample,
    }


def review(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The tool to review.")],
    critic: Annotated[
        list[str] | None, typer.Option("--critic", help="Only this critic (repeatable).")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Use this model for every critic, e.g. openai:gpt-4o-mini.")
    ] = None,
    rerun: Annotated[
        bool, typer.Option("--rerun", help="Ask again even critics that already reviewed it.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Have the panel review a tool; only critics without a review run, unless --rerun.

    Example: SHIPORSKIP_MODEL=ollama:llama3.1 shiporskip review smolvlm2-2b
    """
    from shiporskip.panel.factory import open_panel

    with runtime(ctx) as rt:
        rt.catalog.get(slug)  # a clear error for an unknown slug before any model setup
        panel_critics = rt.critics()
        chosen = [find_critic(panel_critics, c) for c in critic] if critic else panel_critics
        states: dict[str, PanelEvent] = {}

        async def go() -> PanelRun:
            async with open_panel(rt, chosen, model=model) as panel:
                if as_json or not console.is_terminal:
                    return await panel.review(slug, chosen, rerun=rerun, on_event=_remember)
                with Live(_progress(chosen, states), console=console, transient=False) as live:

                    def update(event: PanelEvent) -> None:
                        _remember(event)
                        live.update(_progress(chosen, states))

                    return await panel.review(slug, chosen, rerun=rerun, on_event=update)

        def _remember(event: PanelEvent) -> None:
            states[event.critic_id] = event

        result = asyncio.run(go())
    summary = result.summary
    new_failures = [r for r in result.records.values() if not r.ok]
    if as_json:
        print_json(
            {
                "tool": slug,
                "panel": summary_data(summary),
                "provenance": provenance_data(result.panel.read) if result.panel else None,
                "ran": sorted(result.records),
                "skipped_already_reviewed": sorted(result.cached),
                "reviews": [r.audit() for r in result.current.values()],
                "failures": [r.audit() for r in result.failed.values()],
            }
        )
    else:
        _scorecard(result, summary)
    if new_failures and len(new_failures) == len(result.records):
        errors = {r.error for r in new_failures}
        if len(errors) == 1:
            raise UserError(errors.pop() or "every critic failed")
        raise UserError(f"every critic failed; see the errors above ({len(new_failures)})")
    if new_failures:
        status = result.panel.read.status if result.panel else summary.status
        raise UserError(
            f"{status}; run `shiporskip review {slug}` again to retry the missing critics"
        )


def _scorecard(result: PanelRun, summary: PanelSummary) -> None:
    tool = result.tool
    if result.cached and not result.records:
        console.print(
            f"All {len(result.cached)} critics already reviewed {tool.name} with this model and "
            "prompt; pass --rerun to ask again.",
            markup=False,
        )
    verdict = VERDICT_LABELS[summary.verdict] if summary.verdict else "No verdict"
    pct = f"{summary.ship_pct:.0f}%" if summary.ship_pct is not None else "—"
    status = result.panel.read.status if result.panel else summary.status
    console.print(
        styled(
            "\n",
            (tool.name, "bold"),
            f": {verdict} {summary.tally} · ship {pct} · {status}",
            ("" if summary.complete else "  (incomplete)", "yellow"),
        )
    )
    for critic in result.critics:
        record = result.current.get(critic.id)
        seat = result.panel.read.seat(critic.id) if result.panel else None
        if record and record.draft:
            d = record.draft
            earlier = ""
            if seat is not None and seat.earlier_run and seat.counted is not None:
                day = seat.counted.created_at.date().isoformat()
                earlier = f"  [earlier run: {day}, {seat.counted.model}]"
            console.print(
                f"  {critic.label:<10} {d.verdict.value:<4} {d.score:>3}  {d.one_liner}{earlier}",
                markup=False,
            )
        elif critic.id in result.failed:
            error = result.failed[critic.id].error or "failed"
            console.print(f"  {critic.label:<10} failed    {error}", markup=False)
    # The operator's audit: the full spec, server address included (pages show a label).
    for spec in sorted({r.model for r in result.records.values()}):
        console.print(f"  model: {spec}", markup=False, style="dim")
