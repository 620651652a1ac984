"""Settings: one table (the fields below) drives validation, `shiporskip settings` and the docs.

Each entry declares its type (the annotation), default, help, whether it is secret and what
it accepts (a `Rule`: choices, a range, a check). Loading checks every value against its
entry and reports each bad one in a sentence that names it as the user wrote it
(SHIPORSKIP_X=…, `x = …` in the config file, or --x …) with the fix. `docs/settings.md` is
generated from the same table (`shiporskip settings --markdown`).

Precedence, lowest first: defaults < config file (`config.toml` in the data dir, or the file
named by SHIPORSKIP_CONFIG) < environment (SHIPORSKIP_<NAME>) < CLI flags.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from shiporskip import settings_checks as checks
from shiporskip.errors import UserError
from shiporskip.settings_checks import Rule

ENV_PREFIX = "SHIPORSKIP_"
# Settings that are no longer read, and what replaces them: loading stops with this sentence
# rather than silently ignoring a value the operator relies on.
RETIRED = {
    "llm_api_key": "is no longer read, because one key was sent to every provider; set the key "
    "where it belongs: openai_api_key, anthropic_api_key or llm_server_keys (URL=KEY)",
}
DEFAULT_DATA_DIR = Path(platformdirs.user_data_dir("shiporskip"))
PORT = Rule(ge=1, le=65535)
AT_LEAST_ONE = Rule(ge=1)


def _setting(
    default: Any,
    help: str,
    *,
    secret: bool = False,
    example: str = "",
    rule: Rule | None = None,
    shown_default: str = "",
) -> Any:
    metadata = {
        "help": help,
        "secret": secret,
        "example": example,
        "rule": rule or Rule(),
        "shown_default": shown_default,
    }
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = _setting(
        DEFAULT_DATA_DIR,
        "Holds the SQLite database, `config.toml` and the generated secret key. Must be writable.",
        example="/var/lib/shiporskip",
        rule=Rule(allowed="a writable directory"),
        shown_default="the platform user data dir (`~/.local/share/shiporskip` on Linux)",
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy database URL. PostgreSQL: `postgresql+psycopg://user:pass@host/db`. The "
        "password is never printed.",
        secret=True,
        example="postgresql+psycopg://shiporskip@127.0.0.1/shiporskip",
        rule=Rule(check=checks.database_url, allowed="a database URL"),
        shown_default="empty: `sqlite:///<data_dir>/shiporskip.db` in WAL mode",
    )
    host: str = _setting(
        "127.0.0.1",
        "Address `shiporskip serve` listens on.",
        example="0.0.0.0",  # noqa: S104
        rule=Rule(check=checks.host_name, allowed="a host name or IP address"),
    )
    port: int = _setting(8000, "Port `shiporskip serve` listens on.", example="8080", rule=PORT)
    load_sample: bool = _setting(
        True,
        "Load the bundled sample catalog when the database has no tools.",
        example="false",
    )
    base_url: str = _setting(
        "http://127.0.0.1:8000",
        "Public address of the site, used in links in pages, feeds and mails. When not set it "
        "follows `host` and `port` (a wildcard host gives 127.0.0.1); set it to the public "
        "address behind a proxy.",
        example="https://verdicts.example.com",
        rule=Rule(check=checks.web_url, allowed="an http(s) URL without query or fragment"),
        shown_default="`http://HOST:PORT`",
    )
    log_level: str = _setting(
        "info", "How much `serve` logs.", example="debug", rule=Rule(choices=checks.LOG_LEVELS)
    )
    model: str = _setting(
        "",
        "The model every critic uses, as KIND:MODEL[@BASE_URL]. Kinds: openai, anthropic, "
        "ollama, vllm, llamacpp, lmstudio, openai-compatible (needs @BASE_URL), gguf "
        "(a local file or hf:OWNER/REPO/FILE.gguf). `review` stops with a message naming "
        "this setting when it is empty; see [panel.md](panel.md).",
        example="openai:gpt-4o-mini",
        rule=Rule(check=checks.model_spec, allowed="`KIND:MODEL[@BASE_URL]` or empty"),
    )
    critic_models: str = _setting(
        "",
        "Per-critic models overriding `model`: CRITIC=SPEC pairs separated by ';' (a jury of "
        "several model families); checked against the panel when a review runs.",
        example="skeptic=anthropic:claude-sonnet-4-0; buyer=ollama:qwen2.5",
        rule=Rule(allowed="`CRITIC=KIND:MODEL` pairs separated by `;`, or empty"),
    )
    openai_api_key: str = _setting(
        "",
        "Key for the OpenAI API, sent only to https://api.openai.com (never to a server at "
        "another address, whatever its kind). Never printed.",
        secret=True,
        example="sk-…",
        rule=Rule(check=checks.api_key, allowed="one token without spaces, or empty"),
        shown_default="empty: `OPENAI_API_KEY`",
    )
    anthropic_api_key: str = _setting(
        "",
        "Key for Anthropic's API, sent only to https://api.anthropic.com. Never printed.",
        secret=True,
        example="sk-ant-…",
        rule=Rule(check=checks.api_key, allowed="one token without spaces, or empty"),
        shown_default="empty: `ANTHROPIC_API_KEY`",
    )
    llm_server_keys: str = _setting(
        "",
        "Keys for OpenAI-compatible servers (vLLM, llama.cpp, Ollama, LM Studio, "
        "`openai-compatible`, or `openai` at another address) as URL=KEY pairs separated by "
        "';'. A key is sent only to base URLs under its URL (same scheme, host and port); a "
        "server not listed gets no key, never the OpenAI or Anthropic key. Never printed.",
        secret=True,
        example="https://api.groq.com/openai/v1=gsk_…; http://10.0.0.5:8000/v1=token",
        rule=Rule(check=checks.server_keys, allowed="`URL=KEY` pairs separated by `;`, or empty"),
    )
    llm_base_url: str = _setting(
        "",
        "Base URL for OpenAI-compatible kinds, overriding the kind's default address.",
        example="http://10.0.0.5:8000/v1",
        rule=Rule(check=checks.optional_web_url, allowed="an http(s) URL or empty"),
    )
    structured_output: str = _setting(
        "auto",
        "How to ask for JSON: `auto` picks per kind; `json_object_schema` suits llama.cpp.",
        example="json_object_schema",
        rule=Rule(
            choices=("auto", "json_schema", "json_object_schema", "tool", "json_object", "prompt")
        ),
    )
    llm_stream: bool = _setting(
        False, "Stream completions from OpenAI-compatible servers.", example="true"
    )
    llm_timeout: float = _setting(
        120.0,
        "Seconds before one LLM call is abandoned (and retried).",
        example="60",
        rule=Rule(gt=0, le=3600),
    )
    llm_retries: int = _setting(
        4,
        "Retries after a 429, 5xx, timeout, connection error or broken stream; `Retry-After` "
        "is honoured.",
        example="2",
        rule=Rule(ge=0, le=20, hint=" (0 turns retries off)"),
    )
    llm_concurrency: int = _setting(
        0,
        "Most LLM calls in flight at once. 0 decides per server: a hosted API (`openai`, "
        "`anthropic`, an `openai-compatible` address outside this machine and network) takes "
        "one call per critic, at least 8, so a review is one round trip; a server you run "
        "(`ollama`, `llamacpp`, `vllm`, `lmstudio`, `gguf`, or a loopback or private address) "
        "takes 4. A number is one bound shared by all critics and servers: set it to your "
        "server's slot count (llama-server `--parallel N`, Ollama's `OLLAMA_NUM_PARALLEL`).",
        example="8",
        rule=Rule(ge=0, le=256, hint=" (0 decides per server)"),
        shown_default="0: one call per critic (at least 8) for hosted APIs, 4 for your own servers",
    )
    llm_max_tokens: int = _setting(
        1200, "Output token limit per review.", example="800", rule=Rule(ge=1, le=1_000_000)
    )
    llm_temperature: float = _setting(
        0.4, "Sampling temperature.", example="0.2", rule=Rule(ge=0, le=2)
    )
    llm_prices: str = _setting(
        "",
        "JSON price table, USD per 1M tokens as [input, output] by model name, merged over the "
        "built-in table; used for the cost estimate stored with every review.",
        example='{"my-model": [0.5, 1.5]}',
        rule=Rule(check=checks.price_json, allowed="JSON object or empty"),
    )
    secret_key: str = _setting(
        "",
        "Key that signs links and cookies. Empty: a random key is made once and kept in "
        "DATA_DIR/secret.key (set it explicitly when several servers share a database).",
        secret=True,
        example="a long random string",
        rule=Rule(check=checks.long_secret, allowed="empty or at least 16 characters"),
        shown_default="empty: generated once into `DATA_DIR/secret.key`",
    )
    job_engine: str = _setting(
        "embedded",
        "Job queue: embedded (a table in the main database, no extra server) or "
        "procrastinate (PostgreSQL, for several workers on several machines).",
        example="procrastinate",
        rule=Rule(choices=("embedded", "procrastinate")),
    )
    daily_time: str = _setting(
        "06:00",
        "UTC time of day the worker reviews the next tool (HH:MM), or off.",
        example="09:30",
        rule=Rule(check=checks.time_of_day, allowed="`HH:MM` (00:00 to 23:59) or `off`"),
    )
    digest_day: str = _setting(
        "monday",
        "Day the worker sends the weekly digest (UTC).",
        example="friday",
        rule=Rule(choices=checks.WEEKDAYS),
    )
    job_max_attempts: int = _setting(
        5,
        "Attempts before a failing job is parked with its error.",
        example="3",
        rule=Rule(ge=1, le=100),
    )
    job_retry_delay: float = _setting(
        60.0,
        "Seconds before a failed job's first retry; doubles each attempt, with jitter.",
        example="10",
        rule=Rule(ge=0, le=86400),
    )
    job_lease: float = _setting(
        60.0,
        "Seconds a running job stays claimed without a heartbeat; after a worker dies its "
        "job is claimed again once this runs out.",
        example="30",
        rule=Rule(gt=0, le=86400),
    )
    smtp_host: str = _setting(
        "", "SMTP server for the newsletter; empty disables sending.", example="smtp.example.com"
    )
    smtp_port: int = _setting(587, "SMTP port.", example="465", rule=PORT)
    smtp_security: str = _setting(
        "starttls",
        "SMTP transport security.",
        example="tls",
        rule=Rule(choices=("starttls", "tls", "none")),
    )
    smtp_user: str = _setting("", "SMTP user name.", example="verdicts@example.com")
    smtp_password: str = _setting("", "SMTP password. Never printed.", secret=True, example="…")
    mail_from: str = _setting(
        "shiporskip <verdicts@localhost>",
        "From address of the newsletter.",
        example="Weekly verdicts <verdicts@example.com>",
        rule=Rule(check=checks.mail_address, allowed="one mail address"),
    )
    mail_rate: float = _setting(
        5.0, "Most newsletter messages sent per second.", example="1", rule=Rule(gt=0, le=10000)
    )
    mail_requests_ip: int = _setting(
        5,
        "Sign-in links and newsletter confirmations one client address may ask for in 10 "
        "minutes, counted together by every server process; more get HTTP 429 and no mail.",
        example="20",
        rule=Rule(ge=1, le=100000),
    )
    page_cache_mb: int = _setting(
        64,
        "Memory per server worker for rendered pages, in MB; 0 renders every request. "
        "A cached page is served until a review, vote or catalog change touches the data.",
        example="256",
        rule=Rule(ge=0, le=65536, hint=" (0 turns the page cache off)"),
    )
    sitemap_urls_per_file: int = _setting(
        50000,
        "Most URLs in one file of the sitemap (`/sitemaps/N.xml`, listed by the index at "
        "`/sitemap.xml`); the sitemap protocol allows 50,000.",
        example="10000",
        rule=Rule(ge=10, le=50000),
    )
    shared_cache_seconds: int = _setting(
        10,
        "Seconds a proxy cache or CDN may keep a public page (tool, compare, home, ...) "
        "before asking the server again (`s-maxage`); browsers always revalidate. A vote is "
        "on those caches' copies within this plus `shared_stale_seconds`.",
        example="60",
        rule=Rule(ge=0, le=86400, hint=" (0: shared caches revalidate every time)"),
    )
    shared_stale_seconds: int = _setting(
        30,
        "Seconds more a proxy cache may serve a public page while it fetches a fresh one "
        "(`stale-while-revalidate`).",
        example="0",
        rule=Rule(ge=0, le=86400, hint=" (0 turns it off)"),
    )
    vote_min_count: int = _setting(
        5,
        "Community votes needed before a percentage is shown; below it pages show the count.",
        example="10",
        rule=AT_LEAST_ONE,
    )
    vote_rate_voter: int = _setting(
        20,
        "Votes one voter may cast per minute; more get HTTP 429 with `Retry-After`.",
        example="10",
        rule=AT_LEAST_ONE,
    )
    vote_rate_ip: int = _setting(
        120,
        "Votes one IP address may cast per minute; more get HTTP 429 with `Retry-After`.",
        example="60",
        rule=AT_LEAST_ONE,
    )
    trusted_proxies: str = _setting(
        "",
        "Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers are believed, as "
        "IP addresses or CIDR networks separated by commas. Empty: the headers are ignored and "
        "the client is the connection's peer. With a chain of proxies, the client is the "
        "right-most X-Forwarded-For address that is not listed here.",
        example="127.0.0.1, 10.0.0.0/8",
        rule=Rule(check=checks.ip_networks, allowed="IP addresses or CIDR networks, or empty"),
        shown_default="empty (no proxy trusted)",
    )
    max_body_kb: int = _setting(
        1024,
        "Largest request body any route accepts, in KB; a larger one gets HTTP 413 before it is "
        "read. Routes that take a few form fields (sign-in, newsletter, votes) accept less.",
        example="256",
        rule=Rule(ge=64, le=65536),
    )
    admin_token: str = _setting(
        "",
        "Password of the admin area (/admin) and moderation API. Empty: the admin area is "
        "off. There is no default password.",
        secret=True,
        example="a long random string",
        rule=Rule(check=checks.long_secret, allowed="empty or at least 16 characters"),
        shown_default="empty (admin area off)",
    )
    critics_dir: str = _setting(
        "",
        "Directory of critic YAML files replacing the built-in panel (edit, add or retire).",
        example="/etc/shiporskip/critics",
        rule=Rule(check=checks.existing_dir, allowed="an existing directory or empty"),
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
    allowed: str


TYPE_NAMES = {str: "text", int: "integer", float: "number", bool: "boolean", Path: "path"}


def table() -> list[SettingInfo]:
    """The settings table: name, environment variable, type, default, allowed values, help."""
    hints = get_type_hints(Settings)
    rows = []
    for f in fields(Settings):
        default = f.default
        if isinstance(default, bool):
            shown = "`true`" if default else "`false`"
        elif default == "":
            shown = "empty"
        else:
            shown = f"`{default:g}`" if isinstance(default, float) else f"`{default}`"
        rule: Rule = f.metadata["rule"]
        allowed = rule.describe() or "any text"
        if hints[f.name] is bool:
            allowed = "`true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`"
        rows.append(
            SettingInfo(
                name=f.name,
                env=ENV_PREFIX + f.name.upper(),
                type=TYPE_NAMES[hints[f.name]],
                default=f.metadata["shown_default"] or shown,
                help=f.metadata["help"],
                secret=f.metadata["secret"],
                example=f.metadata["example"],
                allowed=allowed,
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


def _convert(raw: Any, kind: Any) -> Any:
    """The raw value as the setting's type, or ValueError saying what was expected."""
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in checks.TRUE_WORDS:
            return True
        if word in checks.FALSE_WORDS:
            return False
        raise ValueError("is not true or false; write true/false, yes/no, on/off or 1/0")
    if kind in (int, float) and (isinstance(raw, bool) or not str(raw).strip()):
        raise ValueError(f"is not {'a whole number' if kind is int else 'a number'}")
    if kind is int:
        if isinstance(raw, float):
            raise ValueError("is not a whole number")
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValueError("is not a whole number") from None
    if kind is float:
        try:
            return float(str(raw).strip())
        except ValueError:
            raise ValueError("is not a number") from None
    if isinstance(raw, dict | list):
        raise ValueError("is not text")
    if kind is Path:
        if not str(raw).strip():
            raise ValueError("is empty; give a directory you can write to")
        return Path(str(raw)).expanduser()
    return str(raw)


def _masked_raw(name: str, raw: Any) -> str:
    """A secret as an error may show it: a database URL without its password, else stars."""
    if name == "database_url":
        try:
            return mask_url(str(raw))
        except ValueError:  # too broken to find the password in; show none of it
            pass
    return "********"


class _Source:
    """Where values came from, to name a bad one as the user wrote it."""

    def __init__(self, kind: str, path: Path | None = None) -> None:
        self.kind = kind
        self.path = path

    def label(self, name: str, shown: str) -> str:
        if self.kind == "env":
            return f"{ENV_PREFIX}{name.upper()}={shown}"
        if self.kind == "file":
            return f"{name} = {shown} in config file {self.path}"
        return f"--{name.replace('_', '-')} {shlex.quote(shown)}"


def _read(raw_values: Mapping[str, Any], source: _Source, problems: list[str]) -> dict[str, Any]:
    """Convert and check every value of one source; bad ones become sentences in problems."""
    hints = get_type_hints(Settings)
    meta = {f.name: f.metadata for f in fields(Settings)}
    out: dict[str, Any] = {}
    for name, raw in raw_values.items():
        try:
            out[name] = meta[name]["rule"].apply(_convert(raw, hints[name]))
        except ValueError as exc:
            if meta[name]["secret"]:
                shown = _masked_raw(name, raw)
            elif source.kind == "file":
                shown = json.dumps(raw, default=str, ensure_ascii=False)
            else:
                shown = str(raw)
            fix = str(exc)
            if fix in ("is not a whole number", "is not a number"):
                fix += f"; write e.g. {meta[name]['example']}"
            problems.append(f"{source.label(name, shown)} {fix}")
    return out


def load_settings(
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from defaults, the config file, the environment and CLI overrides.

    Every value is checked against its entry in the table; all bad values are reported
    together, one sentence each, before anything is created or written.
    """
    env = os.environ if env is None else env
    names = [f.name for f in fields(Settings)]
    problems: list[str] = []
    for name, replacement in RETIRED.items():
        if ENV_PREFIX + name.upper() in env:
            raise UserError(f"{ENV_PREFIX}{name.upper()} {replacement}")
    env_raw = {n: env[ENV_PREFIX + n.upper()] for n in names if ENV_PREFIX + n.upper() in env}
    env_values = _read(env_raw, _Source("env"), problems)
    cli_raw = {k: v for k, v in (overrides or {}).items() if v is not None}
    cli_values = _read(cli_raw, _Source("cli"), problems)

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
    file_values: dict[str, Any] = {}
    if config_file.is_file():
        try:
            file_raw = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"config file {config_file} is not valid TOML: {exc}") from None
        for name in file_raw:
            if name in RETIRED:
                raise UserError(f"{name} in config file {config_file} {RETIRED[name]}")
            if name not in names:
                raise UserError(
                    f"config file {config_file} has unknown setting {name!r}; "
                    f"valid settings: {', '.join(sorted(names))}"
                )
        file_values = _read(file_raw, _Source("file", config_file), problems)
    if problems:
        raise UserError("\n".join(problems))
    values = file_values | env_values | cli_values
    if "base_url" not in values:
        defaults = Settings()
        values["base_url"] = checks.derived_base_url(
            values.get("host", defaults.host), values.get("port", defaults.port)
        )
    return Settings(**values)


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
