"""Settings: one table (the fields below) drives validation, `shiporskip settings` and the docs.

Precedence, lowest first: defaults < config file (`config.toml` in the data dir, or the file
named by SHIPORSKIP_CONFIG) < environment (SHIPORSKIP_<NAME>) < CLI flags.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from shiporskip.errors import UserError

ENV_PREFIX = "SHIPORSKIP_"
DEFAULT_DATA_DIR = Path(platformdirs.user_data_dir("shiporskip"))


def _setting(default: Any, help: str, *, secret: bool = False, example: str = "") -> Any:
    return field(default=default, metadata={"help": help, "secret": secret, "example": example})


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = _setting(
        DEFAULT_DATA_DIR,
        "Directory holding the SQLite database and config.toml.",
        example="/var/lib/shiporskip",
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy database URL. Empty means a SQLite file `shiporskip.db` in the data dir "
        "(WAL mode). PostgreSQL: postgresql+psycopg://user:pass@host/db.",
        secret=True,
        example="postgresql+psycopg://shiporskip@127.0.0.1/shiporskip",
    )
    host: str = _setting("127.0.0.1", "Address `shiporskip serve` listens on.", example="0.0.0.0")  # noqa: S104
    port: int = _setting(8000, "Port `shiporskip serve` listens on.", example="8080")
    load_sample: bool = _setting(
        True,
        "Load the bundled sample catalog when the database has no tools.",
        example="false",
    )
    base_url: str = _setting(
        "http://127.0.0.1:8000",
        "Public address of the site, used in links, feeds and share text.",
        example="https://verdicts.example.com",
    )
    log_level: str = _setting("info", "Log level: debug, info, warning or error.", example="debug")
    model: str = _setting(
        "",
        "The model every critic uses, as KIND:MODEL[@BASE_URL]. Kinds: openai, anthropic, "
        "ollama, vllm, llamacpp, lmstudio, openai-compatible (needs @BASE_URL), gguf "
        "(a local file or hf:OWNER/REPO/FILE.gguf).",
        example="openai:gpt-4o-mini",
    )
    critic_models: str = _setting(
        "",
        "Per-critic models overriding `model`: CRITIC=SPEC pairs separated by ';' (a jury of "
        "several model families).",
        example="skeptic=anthropic:claude-sonnet-4-0; buyer=ollama:qwen2.5",
    )
    llm_api_key: str = _setting(
        "",
        "API key for the model; when empty, OPENAI_API_KEY or ANTHROPIC_API_KEY is used.",
        secret=True,
        example="sk-…",
    )
    llm_base_url: str = _setting(
        "",
        "Base URL for OpenAI-compatible kinds, overriding the kind's default address.",
        example="http://10.0.0.5:8000/v1",
    )
    structured_output: str = _setting(
        "auto",
        "How to ask for JSON: auto (per kind), json_schema, json_object_schema (llama.cpp), "
        "tool, json_object or prompt.",
        example="json_object_schema",
    )
    llm_stream: bool = _setting(
        False, "Stream completions from OpenAI-compatible servers.", example="true"
    )
    llm_timeout: float = _setting(120.0, "Seconds before one LLM call is abandoned.", example="60")
    llm_retries: int = _setting(
        4, "Retries after a 429, 5xx, timeout or connection error.", example="2"
    )
    llm_concurrency: int = _setting(
        4, "Most LLM calls in flight at once, across all critics.", example="8"
    )
    llm_max_tokens: int = _setting(1200, "Output token limit per review.", example="800")
    llm_temperature: float = _setting(0.4, "Sampling temperature.", example="0.2")
    llm_prices: str = _setting(
        "",
        "JSON price table, USD per 1M tokens as [input, output] by model name, merged over the "
        "built-in table; used for the cost estimate stored with every review.",
        example='{"my-model": [0.5, 1.5]}',
    )
    secret_key: str = _setting(
        "",
        "Key that signs links and cookies. Empty: a random key is made once and kept in "
        "DATA_DIR/secret.key (set it explicitly when several servers share a database).",
        secret=True,
        example="a long random string",
    )
    job_engine: str = _setting(
        "embedded",
        "Job queue: embedded (a table in the main database, no extra server) or "
        "procrastinate (PostgreSQL, for several workers on several machines).",
        example="procrastinate",
    )
    daily_time: str = _setting(
        "06:00",
        "UTC time of day the worker reviews the next tool (HH:MM), or off.",
        example="09:30",
    )
    digest_day: str = _setting(
        "monday", "Day the worker sends the weekly digest (UTC).", example="friday"
    )
    job_max_attempts: int = _setting(
        5, "Attempts before a failing job is parked with its error.", example="3"
    )
    job_retry_delay: float = _setting(
        60.0, "Seconds before a failed job's first retry; doubles each attempt.", example="10"
    )
    job_lease: float = _setting(
        60.0,
        "Seconds a running job stays claimed without a heartbeat; after a worker dies its "
        "job is claimed again once this runs out.",
        example="30",
    )
    smtp_host: str = _setting(
        "", "SMTP server for the newsletter; empty disables sending.", example="smtp.example.com"
    )
    smtp_port: int = _setting(587, "SMTP port.", example="465")
    smtp_security: str = _setting(
        "starttls", "SMTP transport security: starttls, tls or none.", example="tls"
    )
    smtp_user: str = _setting("", "SMTP user name.", example="verdicts@example.com")
    smtp_password: str = _setting("", "SMTP password.", secret=True, example="…")
    mail_from: str = _setting(
        "shiporskip <verdicts@localhost>",
        "From address of the newsletter.",
        example="Weekly verdicts <verdicts@example.com>",
    )
    mail_rate: float = _setting(5.0, "Most newsletter messages sent per second.", example="1")
    page_cache_mb: int = _setting(
        64,
        "Memory per server worker for rendered pages, in MB; 0 renders every request. "
        "A cached page is served until a review, vote or catalog change touches the data.",
        example="256",
    )
    vote_min_count: int = _setting(
        5, "Community votes needed before a percentage is shown.", example="10"
    )
    vote_rate_voter: int = _setting(
        20, "Votes one voter may cast per minute (more get HTTP 429).", example="10"
    )
    vote_rate_ip: int = _setting(
        120, "Votes one IP address may cast per minute (more get HTTP 429).", example="60"
    )
    admin_token: str = _setting(
        "",
        "Password of the admin area (/admin) and moderation API. Empty: the admin area is "
        "off. At least 16 characters.",
        secret=True,
        example="a long random string",
    )
    critics_dir: str = _setting(
        "",
        "Directory of critic YAML files replacing the built-in panel (edit, add or retire).",
        example="/etc/shiporskip/critics",
    )

    @property
    def sqlalchemy_url(self) -> str:
        """The effective database URL (the SQLite default resolved against the data dir)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'shiporskip.db'}"

    def masked(self) -> dict[str, str]:
        """Every setting as text, secrets masked: safe to print or log."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = mask_url(self.sqlalchemy_url)
            elif f.metadata["secret"]:
                value = "********" if value else ""
            out[f.name] = str(value)
        return out


@dataclass(frozen=True, slots=True)
class SettingInfo:
    name: str
    env: str
    type: str
    default: str
    help: str
    secret: bool
    example: str


def table() -> list[SettingInfo]:
    """The settings table: name, environment variable, type, default and help."""
    hints = get_type_hints(Settings)
    rows = []
    for f in fields(Settings):
        default = f.default
        if f.name == "data_dir":
            default = "platform user data dir (e.g. ~/.local/share/shiporskip)"
        rows.append(
            SettingInfo(
                name=f.name,
                env=ENV_PREFIX + f.name.upper(),
                type=getattr(hints[f.name], "__name__", str(hints[f.name])),
                default=str(default),
                help=f.metadata["help"],
                secret=f.metadata["secret"],
                example=f.metadata["example"],
            )
        )
    return rows


def mask_url(url: str) -> str:
    """Hide the password in a URL."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":********@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _convert(name: str, raw: Any, kind: Any, source: str) -> Any:
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError
        if kind is int:
            if isinstance(raw, bool):
                raise ValueError
            return int(str(raw).strip())
        if kind is float:
            if isinstance(raw, bool):
                raise ValueError
            return float(str(raw).strip())
        if kind is Path:
            return Path(str(raw)).expanduser()
        return str(raw)
    except ValueError:
        expected = {bool: "true or false", int: "a whole number", float: "a number"}.get(
            kind, "text"
        )
        raise UserError(f"{source} has {name}={raw!r}, which is not {expected}") from None


def load_settings(
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from defaults, the config file, the environment and CLI overrides."""
    env = os.environ if env is None else env
    hints = get_type_hints(Settings)
    names = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    env_values: dict[str, Any] = {}
    for name in names:
        key = ENV_PREFIX + name.upper()
        if key in env:
            env_values[name] = _convert(name, env[key], hints[name], f"environment variable {key}")
    cli_values = {k: v for k, v in (overrides or {}).items() if v is not None}
    for name, raw in cli_values.items():
        cli_values[name] = _convert(name, raw, hints[name], "the command line")

    data_dir = cli_values.get("data_dir") or env_values.get("data_dir")
    config_path = env.get(ENV_PREFIX + "CONFIG")
    if config_path:
        config_file = Path(config_path).expanduser()
        if not config_file.is_file():
            raise UserError(
                f"SHIPORSKIP_CONFIG points at {config_file}, which does not exist; "
                "create it or unset the variable"
            )
    else:
        config_file = Path(data_dir or DEFAULT_DATA_DIR) / "config.toml"
    if config_file.is_file():
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"config file {config_file} is not valid TOML: {exc}") from None
        for name, raw in file_values.items():
            if name not in names:
                raise UserError(
                    f"config file {config_file} has unknown setting {name!r}; "
                    f"valid settings: {', '.join(sorted(names))}"
                )
            values[name] = _convert(name, raw, hints[name], f"config file {config_file}")
    values |= env_values | cli_values
    settings = Settings(**values)
    if settings.log_level not in ("debug", "info", "warning", "error"):
        raise UserError(f"log_level is {settings.log_level!r}; use debug, info, warning or error")
    for name in ("llm_timeout", "llm_concurrency", "llm_max_tokens"):
        if getattr(settings, name) <= 0:
            raise UserError(f"{name} must be greater than 0")
    if settings.page_cache_mb < 0:
        raise UserError("page_cache_mb cannot be negative; use 0 to turn the page cache off")
    if settings.llm_retries < 0:
        raise UserError("llm_retries cannot be negative; use 0 to disable retries")
    if not 0 < settings.port < 65536:
        raise UserError(f"port {settings.port} is out of range; use a number from 1 to 65535")
    return settings


def ensure_data_dir(settings: Settings) -> Path:
    """Create the data dir if needed and prove it is writable."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"data dir {path} is not writable ({exc.strerror or exc}); "
            "set SHIPORSKIP_DATA_DIR to a directory you can write to"
        ) from None
    return path


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of settings with some values changed (for tests and CLI flags)."""
    return dataclasses.replace(settings, **changes)
