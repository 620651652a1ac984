"""`shiporskip eval`: how good is a model as a critic? Numbers from a throwaway run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shiporskip.cli.common import console, err_console, print_json, settings_from
from shiporskip.errors import UserError
from shiporskip.panel.evaluate import EvalEvent, EvalOptions, injections, run_eval

PHASES = {
    "clean": "Clean panels",
    "pairs": "Swapped pairs",
    "injection": "Injected panels",
}


def evaluate(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(help="The model to measure, e.g. ollama:llama3.1 (default: the configured)."),
    ] = None,
    tools: Annotated[int, typer.Option(help="How many sample tools the panel reviews.")] = 3,
    payloads: Annotated[
        int,
        typer.Option(help=f"Use the first K of the {len(injections())} injection payloads."),
    ] = len(injections()),
    pairs: Annotated[
        int, typer.Option(help="Pairs of sample tools asked in both orders (0: not measured).")
    ] = 1,
    critic: Annotated[
        list[str] | None,
        typer.Option("--critic", help="Only this critic (repeatable; default: all seven)."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Also write the Markdown report to this file.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the numbers as one JSON object.")
    ] = False,
) -> None:
    """Run a model as the whole panel on sample tools and measure it as a critic.

    Works in a throwaway database: your own catalog and reviews are never touched.
    Prints a Markdown report (see docs/eval.md for what each number means).

    Example: shiporskip eval --model ollama:llama3.1 --tools 2 --payloads 5
    """
    if report is not None and not report.parent.is_dir():
        raise UserError(f"cannot write the report to {report}: {report.parent} is not a directory")
    settings = settings_from(ctx)
    options = EvalOptions(
        model=model, tools=tools, payloads=payloads, pairs=pairs, critics=tuple(critic or ())
    )
    if as_json or not err_console.is_terminal:
        result = asyncio.run(run_eval(settings, options))
    else:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[label]}", style="dim"),
            console=err_console,
        ) as progress:
            tasks: dict[str, Any] = {}

            def update(event: EvalEvent) -> None:
                if event.phase not in tasks:
                    tasks[event.phase] = progress.add_task(
                        PHASES[event.phase], total=event.total, label=""
                    )
                progress.update(tasks[event.phase], completed=event.done, label=event.label)

            result = asyncio.run(run_eval(settings, options, on_event=update))
    data = result.data()
    text = markdown(data)
    if report is not None:
        report.write_text(text, encoding="utf-8")
    if as_json:
        print_json(data)
    else:
        console.print(text, markup=False, end="")


def _pct(p: dict[str, Any]) -> list[str]:
    """Rate, k of n and interval cells of a proportion."""
    if p.get("rate") is None:
        return ["—", f"0 of {p.get('n', 0)}", ""]
    low, high = p["interval"]
    return [
        f"{100 * p['rate']:.0f}%",
        f"{p['k']} of {p['n']}",
        f"{100 * low:.0f}–{100 * high:.0f}%",
    ]


def _num(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "—" if value is None else f"{value / scale:.{digits}f}"


def markdown(data: dict[str, Any]) -> str:
    """The report: one table of rates, one of latency and cost, one per payload."""
    inj = data["injection"]
    swap = data["swap_consistency"]
    minutes, seconds = divmod(int(data["wall_seconds"]), 60)
    lines = [
        f"# shiporskip eval: {data['model']}",
        "",
        f"Run {data['date']} on {len(data['tools'])} sample tools ({', '.join(data['tools'])}), "
        f"{data['critics_per_panel']} critics, {len(inj['payloads'])} injection payloads on "
        f"{inj['tool']}, {len(swap['pairs'])} pair(s) asked in both orders: "
        f"{data['panels']} panels, "
        f"{data['answers']} critic answers ({data['no_answer']} without any answer), "
        f"{minutes} min {seconds} s. What each number means: docs/eval.md.",
        "",
        "| Measure | Rate | Count | 95% interval |",
        "|---|---|---|---|",
    ]
    rows: list[tuple[str, list[str]]] = [
        ("Schema-valid, first answer", _pct(data["schema_valid"]["first_answer"])),
        ("Schema-valid after one repair", _pct(data["schema_valid"]["after_repair"])),
        ("Quality gate passed (of valid answers)", _pct(data["quality_gate"])),
        ("Agrees with the sample critic", _pct(data["agreement"]["critic"])),
        ("Agrees with the sample panel verdict", _pct(data["agreement"]["panel"])),
    ]
    if swap["measured"]:
        rows.append(("Swap consistency", _pct(swap)))
    else:
        rows.append(("Swap consistency", [swap["note"] or "not measured", "", ""]))
    rows += [
        ("Injection flip rate (toward the ask)", _pct(inj["flip_rate"])),
        ("Changed away from the ask (noise floor)", _pct(inj["away_rate"])),
    ]
    lines += [f"| {name} | {' | '.join(cells)} |" for name, cells in rows]
    shift = inj["score_shift"]
    lines.append(
        "| Mean score shift toward the ask | "
        f"{'—' if shift is None else f'{shift:+.1f} points'} |  |  |"
    )
    call, panel = data["latency_ms"]["call"], data["latency_ms"]["panel"]
    tokens, cost = data["per_panel"]["tokens"], data["per_panel"]["cost_usd"]
    lines += [
        "",
        "| Per | Median | p90 | n |",
        "|---|---|---|---|",
        f"| Review call (s) | {_num(call['median'], 1000)} | {_num(call['p90'], 1000)} "
        f"| {call['n']} |",
        f"| Panel (s) | {_num(panel['median'], 1000)} | {_num(panel['p90'], 1000)} "
        f"| {panel['n']} |",
        f"| Panel tokens | {_num(tokens['median'], digits=0)} | {_num(tokens['p90'], digits=0)} "
        f"| {tokens['n']} |",
        (
            f"| Panel cost (USD) | {_num(cost['median'], digits=4)} | "
            f"{_num(cost['p90'], digits=4)} | {cost['n']} |"
            if cost is not None
            else "| Panel cost (USD) | unknown (no price for this model) |  |  |"
        ),
    ]
    if inj["by_payload"]:
        lines += ["", "| Payload | Asks | Flipped toward the ask |", "|---|---|---|"]
        for item in inj["by_payload"]:
            lines.append(f"| {item['payload']} | {item['asks']} | {item['k']} of {item['n']} |")
    if swap["pairs"]:
        lines += ["", "| Pair | Critics whose two answers agreed |", "|---|---|"]
        for item in swap["pairs"]:
            lines.append(f"| {item['a']} vs {item['b']} | {item['k']} of {item['n']} |")
    return "\n".join(lines) + "\n"
