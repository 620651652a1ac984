"""`shiporskip compare A B`: each critic picks between two tools, asked in both orders."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from shiporskip.cli.common import cells, console, print_json, runtime, styled
from shiporskip.domain.pairwise import NO_PREFERENCE, Choice, PickRecord
from shiporskip.errors import UserError
from shiporskip.panel.critics import Critic
from shiporskip.panel.factory import open_pairwise
from shiporskip.panel.pairwise import PairwiseEvent, PairwiseRun

_STATE_STYLE = {
    "queued": "dim",
    "running": "cyan",
    "repairing": "yellow",
    "done": "green",
    "failed": "red",
    "cached": "blue",
}


def _progress(critics: list[Critic], states: dict[str, PairwiseEvent]) -> Table:
    table = Table(title="Pairwise picks, both orders", title_justify="left")
    for column in ("critic", "state", "latency"):
        table.add_column(column)
    for critic in critics:
        event = states.get(critic.id)
        state = event.state if event else "queued"
        record = event.record if event else None
        latency = f"{record.latency_ms / 1000:.1f} s" if record and record.latency_ms else ""
        table.add_row(critic.id, styled((state, _STATE_STYLE[state])), latency)
    return table


def _shown(record: PickRecord, value: Choice | None) -> str:
    return record.slug(value) or ("neither" if value == "neither" else "—")


def _table(run: PairwiseRun) -> Table:
    a, b = run.a, run.b
    table = Table(title=f"{a.name} vs {b.name}: which would each critic ship with?")
    for column in (
        "critic",
        f"{a.slug} shown first",
        f"{b.slug} shown first",
        "kept",
    ):
        table.add_column(column)
    for record in run.ordered():
        if not record.ok:
            table.add_row(*cells(record.critic_id, "failed", "failed", record.error or "failed"))
            continue
        kept = record.slug(record.pick.kept)
        verdict = kept or ("neither, both times" if record.pick.agreed else NO_PREFERENCE)
        table.add_row(
            *cells(
                record.critic_id,
                _shown(record, record.first),
                _shown(record, record.swapped),
                verdict,
            )
        )
    return table


def consistency_line(run: PairwiseRun) -> str:
    """'Swap consistency: 5 of 7 critics gave the same answer in both orders (71%).'"""
    t = run.tally
    if t.answered == 0:
        return "Swap consistency: — (no critic answered both orders)."
    share = t.swap
    line = (
        f"Swap consistency: {t.agreed} of {t.answered} critics gave the same answer in both "
        f"orders ({share.percent()}, {share.interval_text()})."
    )
    names = {"a": run.a.name, "b": run.b.name}
    kept = f" Kept picks: {run.a.name} {t.a}, {run.b.name} {t.b}"
    majority = f"; pairwise majority: {names[t.majority]}." if t.majority else "; no majority."
    return line + kept + majority


def compare(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(metavar="A", help="One tool's slug.")],
    second: Annotated[str, typer.Argument(metavar="B", help="The other tool's slug.")],
    model: Annotated[
        str | None, typer.Option(help="Use this model for every critic, e.g. openai:gpt-4o-mini.")
    ] = None,
    rerun: Annotated[
        bool, typer.Option("--rerun", help="Ask again even critics whose pick is stored.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Ask each critic which of two tools it would ship with, twice with the order swapped.

    A pick counts only when both answers name the same tool. Critics whose pick on the same
    inputs is stored are not asked again, unless --rerun.

    Example: SHIPORSKIP_MODEL=ollama:llama3.1 shiporskip compare cursor aider
    """
    if first == second:
        raise UserError(f"both sides are {first!r}; compare two different tools")
    with runtime(ctx) as rt:
        rt.catalog.get(first)  # a clear error for an unknown slug before any model setup
        rt.catalog.get(second)
        critics = rt.critics()
        states: dict[str, PairwiseEvent] = {}

        def remember(event: PairwiseEvent) -> None:
            states[event.critic_id] = event

        async def go() -> PairwiseRun:
            async with open_pairwise(rt, critics, model=model) as pairwise:
                if as_json or not console.is_terminal:
                    return await pairwise.compare(
                        first, second, critics, rerun=rerun, on_event=remember
                    )
                with Live(_progress(critics, states), console=console, transient=False) as live:

                    def update(event: PairwiseEvent) -> None:
                        remember(event)
                        live.update(_progress(critics, states))

                    return await pairwise.compare(
                        first, second, critics, rerun=rerun, on_event=update
                    )

        result = asyncio.run(go())
    new_failures = [r for r in result.records.values() if not r.ok]
    if as_json:
        print_json(_json(result))
    else:
        if result.cached and not result.records:
            console.print(
                f"All {len(result.cached)} critics already picked between {result.a.name} and "
                f"{result.b.name} with this model and prompt; pass --rerun to ask again.",
                markup=False,
            )
        console.print(_table(result))
        console.print(consistency_line(result), markup=False)
        for spec in sorted({r.model for r in result.records.values()}):
            console.print(f"  model: {spec}", markup=False, style="dim")
    if new_failures and len(new_failures) == len(result.records):
        errors = {r.error for r in new_failures}
        if len(errors) == 1:
            raise UserError(errors.pop() or "every critic failed")
        raise UserError(f"every critic failed; see the errors above ({len(new_failures)})")
    if new_failures:
        raise UserError(
            f"{len(new_failures)} of {len(result.records)} critics failed; run "
            f"`shiporskip compare {first} {second}` again to retry them"
        )


def _json(run: PairwiseRun) -> dict[str, Any]:
    return {
        "a": run.a.slug,
        "b": run.b.slug,
        "pairwise": run.data(),
        "ran": sorted(run.records),
        "skipped_already_picked": sorted(run.cached),
        "picks": [r.audit() for r in run.ordered()],
    }
