"""`shiporskip tools …`: the catalog."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from shiporskip import catalog as catalog_files
from shiporskip.cli.common import cells, console, print_json, runtime, styled
from shiporskip.cli.panel import provenance_data, summary_data
from shiporskip.domain.categories import resolve_category
from shiporskip.domain.pricing import parse_plan, parse_usage
from shiporskip.domain.pricing_read import read_tool
from shiporskip.domain.reviews import VERDICT_LABELS, ReviewRecord
from shiporskip.domain.tools import Tool
from shiporskip.errors import UserError

app = typer.Typer(help="The catalog of AI tools: list, show, add, edit, import, export, remove.")

_OPTION_OF_FIELD = {
    "launch_date": "--launch-date",
    "open_weights": "--open-weights",
    "links.docs": "--docs",
    "links.pricing": "--pricing-url",
    "links.repository": "--repository",
    "pricing.entry": "--entry",
    "pricing.note": "--pricing-note",
    "pricing.source": "--pricing-source",
    "pricing.checked": "--pricing-checked",
    "pricing": "--entry/--plan",
}


def _validate(data: dict[str, Any]) -> Tool:
    try:
        return Tool.model_validate(data)
    except ValidationError as exc:
        lines = []
        for line in catalog_files.describe_validation_error(exc):
            field, _, problem = line.partition(": ")
            base = field.split("[")[0]
            option = _OPTION_OF_FIELD.get(base) or (
                "--plan" if base.startswith("pricing.plans") else f"--{base.replace('_', '-')}"
            )
            lines.append(f"{option}: {problem}")
        raise UserError("; ".join(lines)) from None


def _plans(texts: list[str] | None) -> list[dict[str, Any]] | None:
    if texts is None:
        return None
    try:
        return [parse_plan(t) for t in texts]
    except ValueError as exc:
        raise UserError(f"--plan: {exc}") from None


NameOpt = Annotated[str | None, typer.Option(help="Product name, e.g. 'Claude Sonnet 4'.")]
SlugOpt = Annotated[str | None, typer.Option(help="URL slug; derived from the name when omitted.")]
VendorOpt = Annotated[str | None, typer.Option(help="Company or project behind it.")]
HomepageOpt = Annotated[str | None, typer.Option(help="Product homepage, https://…")]
CategoryOpt = Annotated[
    str | None, typer.Option(help="Category name, slug or alias (see `categories list`).")
]
TaglineOpt = Annotated[str | None, typer.Option(help="One line, at most 140 characters.")]
DescOpt = Annotated[str | None, typer.Option(help="A few factual sentences.")]
EntryOpt = Annotated[
    str | None, typer.Option(help="Entry tier: free, freemium, paid or open-source.")
]
PlanOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="A plan, repeatable: 'NAME: AMOUNT [CUR] [per [N] UNIT] [/ month|year|usage]'."
    ),
]
AliasOpt = Annotated[list[str] | None, typer.Option(help="Another name it is known by.")]
LicenceOpt = Annotated[str | None, typer.Option(help="Licence, e.g. Apache-2.0 or Proprietary.")]
OpenWeightsOpt = Annotated[
    bool | None, typer.Option("--open-weights/--closed-weights", help="Are the weights public?")
]
LaunchOpt = Annotated[str | None, typer.Option(help="Launch date, YYYY-MM-DD.")]
DocsOpt = Annotated[str | None, typer.Option(help="Documentation URL.")]
PricingUrlOpt = Annotated[str | None, typer.Option(help="Pricing page URL.")]
RepoOpt = Annotated[str | None, typer.Option(help="Source repository URL.")]
NoteOpt = Annotated[str | None, typer.Option(help="Free-text pricing note.")]
SourceOpt = Annotated[str | None, typer.Option(help="Where the prices were read, https://…")]
CheckedOpt = Annotated[str | None, typer.Option(help="When the prices were read, YYYY-MM-DD.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _fields(**given: Any) -> dict[str, Any]:
    """Map CLI options onto the Tool data shape, leaving out what was not given."""
    data: dict[str, Any] = {}
    for key in ("slug", "name", "vendor", "homepage", "category", "tagline", "description"):
        if given[key] is not None:
            data[key] = given[key]
    if given["alias"] is not None:
        data["aliases"] = given["alias"]
    for key, target in (("licence", "licence"), ("open_weights", "open_weights")):
        if given[key] is not None:
            data[target] = given[key]
    if given["launch_date"] is not None:
        data["launch_date"] = given["launch_date"]
    links = {
        k: v
        for k, v in (
            ("docs", given["docs"]),
            ("pricing", given["pricing_url"]),
            ("repository", given["repository"]),
        )
        if v is not None
    }
    if links:
        data["links"] = links
    pricing: dict[str, Any] = {}
    for key, target in (
        ("entry", "entry"),
        ("pricing_note", "note"),
        ("pricing_source", "source"),
        ("pricing_checked", "checked"),
    ):
        if given[key] is not None:
            pricing[target] = given[key]
    plans = _plans(given["plan"])
    if plans is not None:
        pricing["plans"] = plans
    if pricing:
        data["pricing"] = pricing
    return data


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameOpt = None,
    vendor: VendorOpt = None,
    homepage: HomepageOpt = None,
    category: CategoryOpt = None,
    tagline: TaglineOpt = None,
    entry: EntryOpt = None,
    plan: PlanOpt = None,
    slug: SlugOpt = None,
    alias: AliasOpt = None,
    description: DescOpt = None,
    licence: LicenceOpt = None,
    open_weights: OpenWeightsOpt = None,
    launch_date: LaunchOpt = None,
    docs: DocsOpt = None,
    pricing_url: PricingUrlOpt = None,
    repository: RepoOpt = None,
    pricing_note: NoteOpt = None,
    pricing_source: SourceOpt = None,
    pricing_checked: CheckedOpt = None,
) -> None:
    """Add one tool; refused if the product is already in the catalog.

    Example: shiporskip tools add --name "Sonar API" --vendor Perplexity
    --homepage https://sonar.perplexity.ai --category search --tagline "Web answers with
    citations" --entry paid --plan "Requests: 5 USD per 1000 requests"
    """
    data = _fields(**locals() | {"ctx": None})
    missing = [
        f"--{k}" for k in ("name", "vendor", "homepage", "category", "tagline") if k not in data
    ]
    if "entry" not in data.get("pricing", {}):
        missing.append("--entry")
    if missing:
        raise UserError(f"missing {', '.join(missing)}; every tool needs them")
    tool = _validate(data)
    with runtime(ctx) as rt:
        rt.catalog.add(tool)
    console.print(styled("Added ", (tool.name, "bold"), f" as {tool.slug}."))


@app.command("edit")
def edit(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(metavar="SLUG", help="The tool to change.")],
    name: NameOpt = None,
    vendor: VendorOpt = None,
    homepage: HomepageOpt = None,
    category: CategoryOpt = None,
    tagline: TaglineOpt = None,
    entry: EntryOpt = None,
    plan: PlanOpt = None,
    slug: Annotated[str | None, typer.Option(help="A new slug for the tool.")] = None,
    alias: AliasOpt = None,
    description: DescOpt = None,
    licence: LicenceOpt = None,
    open_weights: OpenWeightsOpt = None,
    launch_date: LaunchOpt = None,
    docs: DocsOpt = None,
    pricing_url: PricingUrlOpt = None,
    repository: RepoOpt = None,
    pricing_note: NoteOpt = None,
    pricing_source: SourceOpt = None,
    pricing_checked: CheckedOpt = None,
) -> None:
    """Change fields of a tool; options not given keep their value.

    Example: shiporskip tools edit cursor --plan "Pro: 20 per seat / month"
    """
    changes = _fields(**{k: v for k, v in locals().items() if k not in ("ctx", "target")})
    if not changes:
        raise UserError("nothing to change; give at least one option, e.g. --tagline")
    with runtime(ctx) as rt:
        current = rt.catalog.get(target).to_data()
        for key in ("links", "pricing"):
            if key in changes:
                changes[key] = {**current.get(key, {}), **changes[key]}
        tool = _validate({**current, **changes})
        rt.catalog.replace(target, tool)
    console.print(styled("Updated ", (tool.name, "bold"), f" ({tool.slug})."))


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A YAML or JSON catalog file.")],
    update: Annotated[
        bool, typer.Option("--update", help="Replace tools whose slug already exists.")
    ] = False,
) -> None:
    """Import many tools from a file, all or nothing.

    Example: shiporskip tools import my-catalog.yaml
    """
    with runtime(ctx) as rt:
        result = catalog_files.import_file(rt.catalog, file, update=update)
    console.print(f"Imported {file}: {len(result.created)} added, {len(result.updated)} updated.")


@app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
) -> None:
    """Write the catalog in the format `tools import` reads.

    Example: shiporskip tools export -o catalog.yaml
    """
    if fmt not in ("yaml", "json"):
        raise UserError(f"--format {fmt!r} is not supported; use yaml or json")
    cat = resolve_category(category).slug if category else None
    with runtime(ctx) as rt:
        text = catalog_files.dump(rt.catalog.list(category=cat), fmt)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}; choose another path") from None
    console.print(f"Wrote {output}.", highlight=False)


@app.command("list")
def list_(
    ctx: typer.Context,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the tools in the catalog.

    Example: shiporskip tools list --category models --json
    """
    cat = resolve_category(category).slug if category else None
    with runtime(ctx) as rt:
        tools = rt.catalog.list(category=cat)
    if as_json:
        print_json({"count": len(tools), "tools": [t.to_data() for t in tools]})
        return
    table = Table(title=f"{len(tools)} tools", title_justify="left")
    for column in ("slug", "name", "vendor", "category", "entry"):
        table.add_column(column)
    for t in tools:
        table.add_row(
            *cells(
                t.slug,
                t.name + (" (sample)" if t.sample else ""),
                t.vendor,
                t.category,
                t.pricing.entry.value,
            )
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The tool's slug.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one tool's facts and pricing.

    Example: shiporskip tools show claude-sonnet-4
    """
    with runtime(ctx) as rt:
        tool = rt.catalog.get(slug)
        flags = rt.catalog.flags(slug)
        panel = rt.reviews.panel(slug, [c.id for c in rt.critics()])
    records = [
        r
        for seat in panel.read.seats
        for r in (panel.review(seat.critic_id), panel.failure(seat.critic_id))
        if r is not None
    ]
    if as_json:
        print_json(
            {
                **tool.to_data(),
                "flags": flags,
                "panel": {**summary_data(panel.summary), **provenance_data(panel.read)},
                "reviews": [r.audit() for r in records],
            }
        )
        return
    for flag in flags:
        console.print(
            f"Flagged: {flag['field']} {flag['reason']}: {flag['excerpt']!r}",
            markup=False,
            style="red",
        )
    sample = " (sample data)" if tool.sample else ""
    console.print(f"{tool.name} — {tool.tagline}{sample}", markup=False, style="bold")
    rows = [
        ("slug", tool.slug),
        ("vendor", tool.vendor),
        ("category", tool.category_info.name),
        ("homepage", tool.homepage),
        ("licence", tool.licence or "—"),
        ("open weights", "yes" if tool.open_weights else "no"),
        ("launched", tool.launch_date.isoformat() if tool.launch_date else "—"),
        ("pricing", tool.pricing.headline()),
    ]
    if tool.aliases:
        rows.insert(1, ("also known as", ", ".join(tool.aliases)))
    for plan in tool.pricing.plans:
        rows.append((f"  {plan.name}", plan.describe()))
    if tool.pricing.source:
        checked = tool.pricing.checked.isoformat() if tool.pricing.checked else "date unknown"
        rows.append(("price source", f"{tool.pricing.source} (checked {checked})"))
    table = Table(show_header=False, box=None)
    table.add_column(style="dim")
    table.add_column()
    for key, value in rows:
        table.add_row(*cells(key, value))
    console.print(table, markup=False)
    if tool.description:
        console.print(tool.description, markup=False)
    if records:
        s = panel.summary
        verdict = VERDICT_LABELS[s.verdict] if s.verdict else "No verdict"
        console.print(f"Panel: {verdict} {s.tally} · {panel.read.status}", markup=False)
        _audit(records)


def _audit(records: list[ReviewRecord]) -> None:
    """The operator's view of the current panel: model spec, errors, tokens, cost, latency."""
    console.print(
        "Reviews (the one that counts per critic, and newer failures):", markup=False, style="bold"
    )
    for r in records:
        verdict = f"{r.draft.verdict.value} {r.draft.score}" if r.draft else "—"
        usage = [f"prompt {r.prompt_version}"]
        if r.input_tokens is not None:
            usage.append(f"{r.input_tokens}/{r.output_tokens} tokens")
        if r.cost_usd is not None:
            usage.append(f"${r.cost_usd:.4f}")
        if r.latency_ms is not None:
            usage.append(f"{r.latency_ms / 1000:.1f} s")
        # soft_wrap: a spec or an error is copied from here, so it is never broken over lines.
        line = f"  {r.critic_id:<10} {r.status:<6} {verdict:<8} {r.model}  ({' · '.join(usage)})"
        console.print(line, markup=False, soft_wrap=True)
        if r.error:
            console.print(f"  {'':<10} error: {r.error}", markup=False, soft_wrap=True, style="red")


@app.command("cost")
def cost(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The tool's slug.")],
    usage: Annotated[
        str,
        typer.Option(help="Monthly usage, e.g. '50000 requests' or '2M input tokens; 1 seat'."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """What each plan costs at a monthly usage, and the cheapest.

    Example: shiporskip tools cost perplexity-sonar-pro --usage "50000 requests"
    """
    try:
        wanted = parse_usage(usage)
    except ValueError as exc:
        raise UserError(f"--usage: {exc}") from None
    if not wanted:
        raise UserError("--usage is empty; write e.g. '50000 requests'")
    with runtime(ctx) as rt:
        tool = rt.catalog.get(slug)
    # The same read as the tool page, so the CLI and the site never disagree on a cost.
    read = read_tool(tool, wanted)
    if as_json:
        print_json(
            {
                "tool": tool.slug,
                "usage": {u.value: str(q) for u, q in wanted.items()},
                "usage_text": read.usage_text,
                "plans": [
                    {
                        "plan": p.name,
                        "currency": p.currency,
                        "monthly_cost": None if p.cost is None else str(_round(p.cost)),
                        "covers": p.covers,
                        "reason": p.reason,
                        "limits": list(p.limits),
                    }
                    for p in read.plans
                ],
                "cheapest": read.cheapest.name if read.cheapest else None,
                "note": read.note,
            }
        )
        return
    console.print(f"{tool.name} at {read.usage_text} a month:", markup=False)
    for p in read.plans:
        if p.cost is not None:
            mark = "  ← cheapest" if p.cheapest else ""
            console.print(f"  {p.name}: {p.cost_text}{mark}", markup=False)
        elif not p.covers:
            console.print(f"  {p.name}: doesn't cover this usage ({p.reason})", markup=False)
        else:
            console.print(f"  {p.name}: cannot price ({p.reason})", markup=False)
        if p.limits:
            label = "limit" if len(p.limits) == 1 else "limits"
            console.print(f"    {label}: {'; '.join(p.limits)}", markup=False)
    if not read.plans:
        console.print(f"  no plans listed ({tool.pricing.headline()})", markup=False)
    elif read.cheapest is None:
        console.print(f"  {read.summary}", markup=False)
    if read.note:
        console.print(f"  {read.note}", markup=False)


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01")) if value != value.to_integral_value() else value


@app.command("remove")
def remove(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The tool's slug.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a tool from the catalog.

    Example: shiporskip tools remove my-tool --yes
    """
    with runtime(ctx) as rt:
        tool = rt.catalog.get(slug)
        if not yes and not typer.confirm(f"Remove {tool.name} ({slug})?"):
            raise typer.Exit(1)
        rt.catalog.remove(slug)
    console.print(f"Removed {tool.name} ({slug}).", markup=False)


_ = date  # launch/checked dates are validated by the domain model, not here
