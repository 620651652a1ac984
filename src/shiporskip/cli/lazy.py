"""A root command whose commands are imported only when one of them runs.

Importing every command module at start cost ~2 s (SQLAlchemy, Alembic, the LLM SDKs,
the web app) before `shiporskip --help` could print a line. Here the root knows each lazy
command by its module and its one-line help, so `--help` lists them all and a command's
modules load only when that command (or its own `--help`) runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer._click import Command, Context, HelpFormatter
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True, slots=True)
class Lazy:
    """A command or command group defined elsewhere, loaded on first use."""

    module: str
    attribute: str
    # The first paragraph of the command's own help: what the root's `--help` shows.
    # tests/cli/test_startup.py checks it still matches the command.
    summary: str

    def load(self, name: str, settings: Mapping[str, Any]) -> Command:
        """The click command exactly as registering it on the root would have built it."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        root = typer.Typer(**settings)
        # A callback makes typer build a group even for a single command, as the real root is.
        root.callback()(lambda: None)
        if isinstance(target, typer.Typer):
            root.add_typer(target, name=name)
        else:
            root.command(name)(target)
        group = typer.main.get_command(root)
        assert isinstance(group, TyperGroup)
        return group.commands[name]


class LazyCommands(MutableMapping[str, Command]):
    """The root's commands: the loaded ones, and the lazy ones imported on first access."""

    def __init__(
        self,
        loaded: MutableMapping[str, Command],
        lazy: Mapping[str, Lazy],
        order: tuple[str, ...],
        settings: Mapping[str, Any],
    ) -> None:
        self._loaded = dict(loaded)
        self._lazy = dict(lazy)
        self._order = order
        self._settings = settings

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded and name in self._lazy:
            self._loaded[name] = self._lazy[name].load(name, self._settings)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._loaded.pop(name, None)
        self._lazy.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        names = set(self._loaded) | set(self._lazy)
        ordered = [n for n in self._order if n in names]
        return iter(ordered + sorted(names - set(ordered)))

    def __len__(self) -> int:
        return len(set(self._loaded) | set(self._lazy))

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._lazy

    def peek(self, name: str) -> Command:
        """The command if loaded, else a stand-in carrying its one-line help (no import)."""
        if name in self._loaded:
            return self._loaded[name]
        return TyperCommand(name, help=self._lazy[name].summary)


class LazyGroup(TyperGroup):
    """The root group. Subclasses set `lazy`, `order` and `settings` (the root's Typer options)."""

    lazy: ClassVar[Mapping[str, Lazy]] = {}
    order: ClassVar[tuple[str, ...]] = ()
    settings: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands, self.lazy, self.order, self.settings)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        for param in self.get_params(ctx):
            _uncoerced(param)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands:
            return None
        command = self.commands[cmd_name]
        _uncoerced(command.get_help_option(ctx))
        return command

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        # TyperGroup.format_commands, reading each one-line help without importing the command.
        assert isinstance(self.commands, LazyCommands)
        commands = [(name, self.commands.peek(name)) for name in self.commands]
        commands = [(name, cmd) for name, cmd in commands if not cmd.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            rows = [(name, cmd.get_short_help_str(limit)) for name, cmd in commands]
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _uncoerced(param: Any) -> None:
    """Take a string option or a flag as the value the parser made, without pydantic.

    typer 0.29 checks every option value (even an absent `--help`) with a pydantic
    TypeAdapter built on first use; for the root's options and the help flags that meant
    importing pydantic (~0.25 s) before `shiporskip version` could print. A command-line
    string, or a flag's True/False, needs no conversion. The commands' own options keep
    typer's checks.
    """
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None:  # an older typer, which converted with click's own types
        return
    if descriptor.annotation not in (str, bool) or getattr(param, "envvar", None):
        return
    from typer._coercion import PassThroughRuntimeParam

    if getattr(param, "_runtime_param", "absent") is None:
        param._runtime_param = PassThroughRuntimeParam(
            annotation=descriptor.annotation, parameter_info=descriptor.parameter_info
        )
