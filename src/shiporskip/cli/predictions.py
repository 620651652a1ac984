"""`shiporskip predictions …`: the predictions ledger, listed and resolved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from shiporskip.cli.common import cells, console, print_json, runtime
from shiporskip.domain.predictions import Status, parse_status
from shiporskip.errors import UserError
from shiporskip.storage.predictions import Filters, PredictionStore

app = typer.Typer(help="The predictions ledger: each critic's predictions, listed and resolved.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
MAX_SHOWN = 10_000


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("list")
def predictions_list(
    ctx: typer.Context,
    due: Annotated[
        bool, typer.Option("--due", help="Only predictions past their due date, not resolved.")
    ] = False,
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: open, due, right, wrong or unclear."),
    ] = None,
    critic: Annotated[str | None, typer.Option(help="Only this critic's (its id).")] = None,
    tool: Annotated[str | None, typer.Option(help="Only about this tool (its slug).")] = None,
    limit: Annotated[
        int, typer.Option(help=f"Show at most this many (1-{MAX_SHOWN}), oldest first.")
    ] = 200,
    as_json: JsonOpt = False,
) -> None:
    """List the ledger in the order predictions were made, with each one's status.

    Example: shiporskip predictions list --due
    """
    if due and status is not None:
        raise UserError("--due and --status both choose a status; give one of them")
    try:
        chosen = (Status.due,) if due else (parse_status(status),) if status else ()
    except ValueError as exc:
        raise UserError(f"--status: {exc}") from None
    if not 1 <= limit <= MAX_SHOWN:
        raise UserError(f"--limit must be from 1 to {MAX_SHOWN}, not {limit}")
    now = _now()
    with runtime(ctx) as rt:
        if tool is not None and rt.catalog.find(tool) is None:
            raise UserError(f"no tool has the slug {tool!r}; see `shiporskip tools list`")
        known = [c.id for c in rt.critics(include_retired=True)]
        if critic is not None and critic not in known:
            raise UserError(f"no critic is called {critic!r}; the critics are {', '.join(known)}")
        store = PredictionStore(rt.engine)
        filters = Filters(statuses=chosen, critic=critic, tool=tool)
        counts = store.counts(filters, now)
        found = store.page(filters, now, limit=limit)
    total = sum(counts[s] for s in chosen or tuple(Status))
    if as_json:
        print_json({"count": total, "predictions": [e.to_data(now) for e in found]})
        return
    if not found:
        console.print(_nothing(chosen, counts), markup=False)
        return
    title = f"{total} prediction{'' if total == 1 else 's'}" + (
        f", showing the first {len(found)}" if total > limit else ""
    )
    table = Table(title=title, title_justify="left")
    for column in ("id", "status", "due", "tool", "critic", "claim"):
        table.add_column(column)
    for e in found:
        status_text = e.status(now).value + (" (sample)" if e.is_sample else "")
        table.add_row(
            *cells(e.id, status_text, f"{e.due:%Y-%m-%d}", e.tool_slug, e.critic_id, e.claim)
        )
    console.print(table, markup=False)


def _nothing(chosen: tuple[Status, ...], counts: dict[Status, int]) -> str:
    if chosen == (Status.due,):
        return f"No prediction is due; {counts[Status.open]} open, not due yet."
    if chosen:
        return f"No prediction is {chosen[0].value}."
    return "The ledger is empty: no review has made a prediction yet."


@app.command("resolve")
def predictions_resolve(
    ctx: typer.Context,
    prediction_id: Annotated[int, typer.Argument(metavar="ID", help="The prediction's id.")],
    outcome: Annotated[
        str, typer.Option(help="How it turned out: right, wrong or unclear.", show_default=False)
    ],
    evidence: Annotated[
        str,
        typer.Option(help="A web address that shows the outcome (https://…).", show_default=False),
    ],
) -> None:
    """Record how a prediction turned out, with the evidence. An outcome is recorded once.

    A prediction may be resolved before its due date (a claim can come true or be refuted
    early); the command says so.

    Example: shiporskip predictions resolve 1 --outcome wrong --evidence https://example.com/news
    """
    now = _now()
    with runtime(ctx) as rt:
        entry = PredictionStore(rt.engine).resolve(prediction_id, outcome, evidence, now)
    line = f"Prediction {entry.id} ({entry.critic_id} on {entry.tool_slug})"
    line += f" resolved: {entry.outcome}."
    if entry.due > now:
        line += " It was not due yet; it is recorded as resolved early."
    console.print(line, markup=False)
