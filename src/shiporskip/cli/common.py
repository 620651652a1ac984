"""What every command shares: settings from the root options, the runtime, output helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from shiporskip.runtime import Runtime
    from shiporskip.settings import Settings

    console: Console
    err_console: Console

# Markup is off: almost everything printed holds maker text (names, taglines, plans, errors
# from models), and a tool called "[/]" must print as itself, not crash the command after
# it was saved. Style goes through `styled` and Text objects instead.
_CONSOLES = {"console": False, "err_console": True}  # name: writes to stderr


def __getattr__(name: str) -> Any:
    """`console` and `err_console`, made on first use: `version` and `--help` need no Rich."""
    if name not in _CONSOLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    made = Console(stderr=_CONSOLES[name], highlight=False, soft_wrap=True, markup=False)
    globals()[name] = made
    return made


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings with the root options (--data-dir, --database-url) and any command flags."""
    from shiporskip.settings import load_settings

    root = ctx.find_root().obj or {}
    return load_settings(overrides={**root, **overrides})


@contextmanager
def runtime(ctx: typer.Context, **overrides: Any) -> Iterator[Runtime]:
    # Imported here: the database layer loads only in the commands that open it.
    from shiporskip.runtime import open_runtime

    rt = open_runtime(settings_from(ctx, **overrides))
    try:
        yield rt
    finally:
        rt.close()


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def styled(*parts: str | tuple[str, str]) -> Text:
    """One line from plain strings and (text, style) pairs; no part is read as Rich markup."""
    from rich.text import Text

    return Text.assemble(*parts)


def cells(*values: object) -> list[Text]:
    """Table cells as plain text: maker-written values are never read as Rich markup."""
    from rich.text import Text

    return [Text(str(v)) for v in values]
