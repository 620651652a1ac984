"""The root command: global options, error handling and the small command groups."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, ClassVar

import typer

from shiporskip import __version__
from shiporskip.cli import common
from shiporskip.cli.common import cells, print_json, runtime, settings_from
from shiporskip.cli.lazy import Lazy, LazyGroup
from shiporskip.errors import UserError

if TYPE_CHECKING:
    from shiporskip.settings import Settings

ROOT_OPTIONS = {
    "no_args_is_help": True,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
    "add_completion": False,
}


class Root(LazyGroup):
    """The root group: commands from other modules are imported only when they run, so
    `--help`, `version` and the light commands never load the database or LLM layers."""

    lazy: ClassVar[Mapping[str, Lazy]] = {
        "review": Lazy(
            "shiporskip.cli.panel",
            "review",
            "Have the panel review a tool; only critics without a review run, unless --rerun.",
        ),
        "compare": Lazy(
            "shiporskip.cli.compare",
            "compare",
            "Ask each critic which of two tools it would ship with, twice with the order swapped.",
        ),
        "eval": Lazy(
            "shiporskip.cli.eval",
            "evaluate",
            "Run a model as the whole panel on sample tools and measure it as a critic.",
        ),
        "worker": Lazy(
            "shiporskip.cli.jobs",
            "worker",
            "Run background jobs: the daily review (at daily_time) and queued work.",
        ),
        "daily": Lazy(
            "shiporskip.cli.jobs",
            "daily",
            "Review the next tool in line and publish its comparisons.",
        ),
        "tools": Lazy(
            "shiporskip.cli.tools",
            "app",
            "The catalog of AI tools: list, show, add, edit, import, export, remove.",
        ),
        "critics": Lazy(
            "shiporskip.cli.panel",
            "critics_app",
            "The critic panel: who reviews, and through which lens.",
        ),
        "jobs": Lazy(
            "shiporskip.cli.jobs", "jobs_app", "The job queue: list jobs, retry parked ones."
        ),
        "digest": Lazy(
            "shiporskip.cli.digest",
            "app",
            "The weekly digest: preview it, send it, see where it stands.",
        ),
        "newsletter": Lazy(
            "shiporskip.cli.digest", "newsletter_app", "The newsletter's subscribers."
        ),
        "submissions": Lazy(
            "shiporskip.cli.admin",
            "submissions_app",
            "The moderation queue of submitted tools: list, show, approve, reject.",
        ),
        "votes": Lazy(
            "shiporskip.cli.admin",
            "votes_app",
            "Community votes: the audit log, and voiding abusive votes.",
        ),
        "predictions": Lazy(
            "shiporskip.cli.predictions",
            "app",
            "The predictions ledger: each critic's predictions, listed and resolved.",
        ),
    }
    # The order `--help` lists them in (the order they were registered in before).
    order = (
        "review",
        "compare",
        "eval",
        "worker",
        "daily",
        "version",
        "settings",
        "serve",
        "tools",
        "db",
        "categories",
        "sample",
        "critics",
        "jobs",
        "digest",
        "newsletter",
        "submissions",
        "votes",
        "predictions",
    )
    settings = ROOT_OPTIONS


app = typer.Typer(
    cls=Root,
    help="shiporskip: a panel of AI critics reviews AI tools and votes Ship or Skip.",
    **ROOT_OPTIONS,  # type: ignore[arg-type]
)
db_app = typer.Typer(help="The database: migrations and status.")
app.add_typer(db_app, name="db")
categories_app = typer.Typer(help="The fixed category taxonomy.")
app.add_typer(categories_app, name="categories")
sample_app = typer.Typer(help="The bundled sample content (tools and panel reviews).")
app.add_typer(sample_app, name="sample")

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
    from rich.table import Table

    from shiporskip import settings_docs
    from shiporskip.settings import table as settings_table

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
    common.console.print(table, markup=False)


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

    Links in pages, feeds and mails use base_url, which follows --host and --port unless
    SHIPORSKIP_BASE_URL (or base_url in the config file) is set.

    Example: shiporskip serve --port 8000
    """
    import os

    import uvicorn

    from shiporskip.sample_data import load_samples_if_empty
    from shiporskip.web.app import create_app

    if workers < 1:
        raise UserError("--workers must be at least 1")
    with runtime(ctx, host=host, port=port) as rt:
        settings = rt.settings
        if settings.load_sample:
            tools_added, reviews_added = load_samples_if_empty(rt)
            if tools_added:
                common.console.print(
                    f"Loaded the sample content: {tools_added} tools and {reviews_added} "
                    "reviews, marked as sample data."
                )
        listen = f"http://{settings.host}:{settings.port}"
        if ":" in settings.host:
            listen = f"http://[{settings.host.strip('[]')}]:{settings.port}"
        common.console.print(
            f"shiporskip is serving at {listen}, links use {settings.base_url}  (Ctrl+C to stop)",
            markup=False,
        )
        warning = base_url_warning(settings)
        if warning:
            common.err_console.print(f"Warning: {warning}", markup=False)
        options = {
            "host": settings.host,
            "port": settings.port,
            "log_level": settings.log_level,
            # uvicorn kills a worker that has not answered its health ping within this
            # many seconds; its default (5) killed every worker still importing the app on
            # a busy machine, again and again, so the server never answered.
            "timeout_worker_healthcheck": 60,
            # uvicorn believes X-Forwarded-For from loopback by default; the app reads it only
            # from trusted_proxies (web/proxies.py).
            "proxy_headers": False,
        }
        if workers == 1:
            uvicorn.run(create_app(rt), **options)  # type: ignore[arg-type]
            return
        # Worker processes rebuild settings from the environment: pass the CLI's overrides on,
        # and the base_url derived from them (workers do not know --host and --port).
        os.environ["SHIPORSKIP_DATA_DIR"] = str(settings.data_dir)
        os.environ["SHIPORSKIP_DATABASE_URL"] = settings.sqlalchemy_url
        os.environ["SHIPORSKIP_BASE_URL"] = settings.base_url
        os.environ["SHIPORSKIP_HOST"] = settings.host
        os.environ["SHIPORSKIP_PORT"] = str(settings.port)
    uvicorn.run("shiporskip.web.asgi:create", factory=True, workers=workers, **options)  # type: ignore[arg-type]


def base_url_warning(settings: Settings) -> str | None:
    """One line when links will not reach this server: fine behind a proxy, a mistake otherwise."""
    from shiporskip import settings_checks as checks

    if checks.base_url_reaches(settings.base_url, settings.host, settings.port):
        derived = settings.base_url == checks.derived_base_url(settings.host, settings.port)
        if derived and settings.host.strip("[]") in ("0.0.0.0", "::"):  # noqa: S104
            return (
                f"listening on every address, but links use {settings.base_url}; set "
                "SHIPORSKIP_BASE_URL to the address visitors use"
            )
        return None
    return (
        f"base_url {settings.base_url} is not this server's address and port "
        f"({settings.host}:{settings.port}); links in pages, feeds and mails use base_url, "
        "which is right behind a proxy, otherwise unset SHIPORSKIP_BASE_URL or fix it"
    )


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending migrations (serve does this on start too).

    Example: shiporskip db upgrade
    """
    from shiporskip.storage import migrate

    with runtime(ctx) as rt:
        revision = migrate.current_revision(rt.engine)
    common.console.print(f"Database is at revision {revision} (latest).", markup=False)


@sample_app.command("load")
def sample_load(ctx: typer.Context) -> None:
    """Load the sample catalog and its reviews into an empty database (serve does this too).

    Example: shiporskip sample load
    """
    from shiporskip.sample_data import load_sample_into_empty

    with runtime(ctx) as rt:
        tools_added, reviews_added = load_sample_into_empty(rt)
        total = rt.catalog.count()
    if tools_added:
        common.console.print(
            f"Loaded the sample content: {tools_added} tools and {reviews_added} reviews, "
            "marked as sample data.",
            markup=False,
        )
    else:
        common.console.print(f"The sample content is already loaded ({total} tools).", markup=False)


@db_app.command("status")
def db_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the database URL (masked), its revision and how many tools it holds.

    Example: shiporskip db status --json
    """
    from shiporskip.storage import migrate

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
        common.console.print(f"{key}: {value}", markup=False)


@categories_app.command("list")
def categories_list(as_json: JsonOpt = False) -> None:
    """List the categories and the aliases each accepts.

    Example: shiporskip categories list
    """
    from rich.table import Table

    from shiporskip.domain.categories import CATEGORIES

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
    common.console.print(table, markup=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point: user mistakes become one line on stderr and exit code 1, never a traceback."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="shiporskip", standalone_mode=False)
    except UserError as exc:
        common.err_console.print(f"Error: {exc}", markup=False)
        return 1
    except typer.Abort:
        common.err_console.print("Aborted.")
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
