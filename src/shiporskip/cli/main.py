"""The root command: global options, error handling and the small command groups."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from shiporskip import __version__, settings_docs
from shiporskip.cli import admin, digest, jobs, panel, tools
from shiporskip.cli.common import (
    cells,
    console,
    err_console,
    print_json,
    runtime,
    settings_from,
)
from shiporskip.domain.categories import CATEGORIES
from shiporskip.errors import UserError
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.settings import table as settings_table
from shiporskip.storage import migrate

app = typer.Typer(
    help="shiporskip: a panel of AI critics reviews AI tools and votes Ship or Skip.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(tools.app, name="tools")
db_app = typer.Typer(help="The database: migrations and status.")
app.add_typer(db_app, name="db")
categories_app = typer.Typer(help="The fixed category taxonomy.")
app.add_typer(categories_app, name="categories")
app.add_typer(panel.critics_app, name="critics")
app.command("review")(panel.review)
app.command("worker")(jobs.worker)
app.command("daily")(jobs.daily)
app.add_typer(jobs.jobs_app, name="jobs")
app.add_typer(digest.app, name="digest")
app.add_typer(digest.newsletter_app, name="newsletter")
app.add_typer(admin.submissions_app, name="submissions")
app.add_typer(admin.votes_app, name="votes")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Annotated[
        str | None, typer.Option(help="Data directory (overrides SHIPORSKIP_DATA_DIR).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Database URL (overrides SHIPORSKIP_DATABASE_URL).")
    ] = None,
) -> None:
    """Global options apply to every command.

    Example: shiporskip --data-dir /tmp/sos tools list
    """
    ctx.obj = {"data_dir": data_dir, "database_url": database_url}


@app.command("version")
def version() -> None:
    """Print the version.

    Example: shiporskip version
    """
    typer.echo(__version__)


@app.command("settings")
def settings_cmd(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    markdown: Annotated[
        bool,
        typer.Option(
            "--markdown",
            help="Print the settings reference (docs/settings.md) generated from the table.",
        ),
    ] = False,
) -> None:
    """Print the effective settings, secrets masked.

    Example: SHIPORSKIP_PORT=9000 shiporskip settings
    """
    if markdown:
        typer.echo(settings_docs.markdown(), nl=False)
        return
    values = settings_from(ctx).masked()
    if as_json:
        print_json(values)
        return
    table = Table(title="Effective settings", title_justify="left")
    for column in ("setting", "environment variable", "value"):
        table.add_column(column)
    for row in settings_table():
        table.add_row(*cells(row.name, row.env, values[row.name]))
    console.print(table, markup=False)


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Listen address (SHIPORSKIP_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (SHIPORSKIP_PORT).")] = None,
    workers: Annotated[
        int, typer.Option(help="Server processes; more than 1 needs no shared memory.")
    ] = 1,
) -> None:
    """Run the website, loading the sample content into an empty database.

    Example: shiporskip serve --port 8000
    """
    import os

    import uvicorn

    from shiporskip.web.app import create_app

    if workers < 1:
        raise UserError("--workers must be at least 1")
    with runtime(ctx, host=host, port=port) as rt:
        if rt.settings.load_sample:
            tools_added, reviews_added = load_samples_if_empty(rt)
            if tools_added:
                console.print(
                    f"Loaded the sample content: {tools_added} tools and {reviews_added} "
                    "reviews, marked as sample data."
                )
        url = f"http://{rt.settings.host}:{rt.settings.port}"
        console.print(f"shiporskip is serving at {url}  (Ctrl+C to stop)", markup=False)
        options = {
            "host": rt.settings.host,
            "port": rt.settings.port,
            "log_level": rt.settings.log_level,
        }
        if workers == 1:
            uvicorn.run(create_app(rt), **options)  # type: ignore[arg-type]
            return
        # Worker processes rebuild settings from the environment: pass the CLI's overrides on.
        os.environ["SHIPORSKIP_DATA_DIR"] = str(rt.settings.data_dir)
        os.environ["SHIPORSKIP_DATABASE_URL"] = rt.settings.sqlalchemy_url
    uvicorn.run("shiporskip.web.asgi:create", factory=True, workers=workers, **options)  # type: ignore[arg-type]


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending migrations (serve does this on start too).

    Example: shiporskip db upgrade
    """
    with runtime(ctx) as rt:
        revision = migrate.current_revision(rt.engine)
    console.print(f"Database is at revision {revision} (latest).", markup=False)


@db_app.command("status")
def db_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the database URL (masked), its revision and how many tools it holds.

    Example: shiporskip db status --json
    """
    settings = settings_from(ctx)
    with runtime(ctx) as rt:
        status = {
            "database_url": settings.masked()["database_url"],
            "revision": migrate.current_revision(rt.engine),
            "latest": migrate.head_revision(),
            "tools": rt.catalog.count(),
        }
    if as_json:
        print_json(status)
        return
    for key, value in status.items():
        console.print(f"{key}: {value}", markup=False)


@categories_app.command("list")
def categories_list(as_json: JsonOpt = False) -> None:
    """List the categories and the aliases each accepts.

    Example: shiporskip categories list
    """
    if as_json:
        print_json(
            {
                "count": len(CATEGORIES),
                "categories": [
                    {
                        "slug": c.slug,
                        "name": c.name,
                        "description": c.description,
                        "aliases": list(c.aliases),
                    }
                    for c in CATEGORIES
                ],
            }
        )
        return
    table = Table(title=f"{len(CATEGORIES)} categories", title_justify="left")
    for column in ("slug", "name", "aliases"):
        table.add_column(column)
    for c in CATEGORIES:
        table.add_row(*cells(c.slug, c.name, ", ".join(c.aliases)))
    console.print(table, markup=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point: user mistakes become one line on stderr and exit code 1, never a traceback."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="shiporskip", standalone_mode=False)
    except UserError as exc:
        err_console.print(f"Error: {exc}", markup=False)
        return 1
    except typer.Abort:
        err_console.print("Aborted.")
        return 1
    except typer.exceptions.TyperException as exc:
        # Usage errors (unknown command, bad option value) carry their own message and code.
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
