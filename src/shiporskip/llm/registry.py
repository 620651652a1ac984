"""Model specs (`KIND:MODEL[@BASE_URL]`) -> providers, keys, structured modes and prices."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from shiporskip.errors import UserError
from shiporskip.llm.base import Provider, StructuredMode
from shiporskip.settings import Settings
from shiporskip.settings_checks import OPENAI_HOST, parse_server_keys

OPENAI_API_URL = f"https://{OPENAI_HOST}/v1"


@dataclass(frozen=True, slots=True)
class Kind:
    base_url: str | None
    mode: StructuredMode
    local: bool = False


KINDS: dict[str, Kind] = {
    "openai": Kind(OPENAI_API_URL, StructuredMode.json_schema),
    "anthropic": Kind(None, StructuredMode.tool),
    "ollama": Kind("http://127.0.0.1:11434/v1", StructuredMode.json_schema, local=True),
    "vllm": Kind("http://127.0.0.1:8000/v1", StructuredMode.json_schema, local=True),
    "llamacpp": Kind("http://127.0.0.1:8080/v1", StructuredMode.json_object_schema, local=True),
    "lmstudio": Kind("http://127.0.0.1:1234/v1", StructuredMode.json_schema, local=True),
    "openai-compatible": Kind(None, StructuredMode.json_schema),
    "gguf": Kind(None, StructuredMode.json_object_schema, local=True),
}

NO_MODEL = (
    "no model is configured; set SHIPORSKIP_MODEL, e.g. openai:gpt-4o-mini (with "
    "OPENAI_API_KEY), anthropic:claude-sonnet-4-0 (with ANTHROPIC_API_KEY), ollama:llama3.1, "
    "llamacpp:local@http://127.0.0.1:8080/v1 or gguf:/path/to/model.gguf"
)

# USD per 1M tokens (input, output), from the vendors' price pages; extend with llm_prices.
BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "claude-sonnet-4-0": (3.0, 15.0),
    "claude-sonnet-4-20250514": (3.0, 15.0),
    "claude-3-5-haiku-latest": (0.8, 4.0),
    "claude-opus-4-0": (15.0, 75.0),
}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    kind: str
    model: str
    base_url: str | None

    @property
    def label(self) -> str:
        """What is stored with each review: kind, model and (for servers) where it ran."""
        text = f"{self.kind}:{self.model}"
        return f"{text}@{self.base_url}" if self.base_url else text


def parse_spec(text: str, *, base_url_override: str = "") -> ModelSpec:
    """Read `KIND:MODEL[@BASE_URL]`."""
    text = text.strip()
    if not text:
        raise UserError(NO_MODEL)
    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS:
        raise UserError(
            f"cannot read model {text!r}; write KIND:MODEL with KIND one of "
            f"{', '.join(KINDS)} (e.g. openai:gpt-4o-mini)"
        )
    info = KINDS[kind]
    model, base = rest, None
    if kind not in ("gguf", "anthropic") and "@" in rest:
        model, _, base = rest.rpartition("@")
    if not model:
        raise UserError(f"model {text!r} names no model after {kind}:")
    if kind in ("gguf", "anthropic"):
        return ModelSpec(kind, model, None)
    base = base or base_url_override or info.base_url
    if not base:
        raise UserError(
            f"{text!r} needs a server address: write {kind}:{model}@http://HOST:PORT/v1 "
            "or set SHIPORSKIP_LLM_BASE_URL"
        )
    if not base.startswith(("http://", "https://")):
        raise UserError(f"base URL {base!r} must start with http:// or https://")
    # Messages below never repeat the address: it may hold a secret. The spec is stored with
    # every review and shown to the operator, so no secret may stay in it either.
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        raise UserError(
            f"the address of {kind}:{model} is not a web address; write http(s)://HOST[:PORT]/v1"
        ) from None
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UserError(
            f"the address of {kind}:{model} carries a password, query or fragment; give the "
            "server's key in SHIPORSKIP_LLM_SERVER_KEYS (URL=KEY) instead"
        )
    return ModelSpec(kind, model, base.rstrip("/"))


def critic_specs(
    settings: Settings, critic_ids: list[str], cli_model: str | None
) -> dict[str, ModelSpec]:
    """The model for each critic: the CLI --model, else critic_models, else model."""
    overrides: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in settings.critic_models.split(";"))):
        critic, sep, spec = pair.partition("=")
        critic = critic.strip()
        if not sep or not spec.strip():
            raise UserError(
                f"critic_models entry {pair!r} should read CRITIC=KIND:MODEL, "
                "e.g. skeptic=anthropic:claude-sonnet-4-0"
            )
        if critic not in critic_ids:
            raise UserError(
                f"critic_models names critic {critic!r}, which is not on the panel "
                f"({', '.join(critic_ids)})"
            )
        overrides[critic] = spec.strip()
    specs = {}
    for critic in critic_ids:
        text = cli_model or overrides.get(critic) or settings.model
        specs[critic] = parse_spec(text, base_url_override=settings.llm_base_url)
    return specs


# Calls in flight when llm_concurrency is 0. A hosted API serves many calls at once, so every
# critic of a review is asked at the same time (at least 8, so a small custom panel still runs
# a compare or pairwise pick in few rounds); a server you run has a few slots (llama-server and
# Ollama default to about 4), and calls beyond them only queue there and time out.
HOSTED_CONCURRENCY = 8
LOCAL_CONCURRENCY = 4


def is_hosted(spec: ModelSpec) -> bool:
    """Whether calls go to a hosted API rather than a server the operator runs.

    The kind decides for `openai` and `anthropic` (whatever address, e.g. a gateway to the
    API) and for the local kinds; an `openai-compatible` server is hosted unless its address
    is this machine or a private network.
    """
    if KINDS[spec.kind].local:
        return False
    if spec.kind != "openai-compatible":
        return True
    return not is_private_host(urlsplit(spec.base_url or "").hostname or "")


def is_private_host(host: str) -> bool:
    """Loopback, private or link-local addresses and names that only resolve inside a network."""
    host = host.strip("[]").lower()
    if not host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return (
            "." not in host
            or host == "localhost"
            or host.endswith((".localhost", ".local", ".lan", ".internal", ".home.arpa"))
        )
    return address.is_private or address.is_loopback or address.is_link_local


def destination(spec: ModelSpec) -> str:
    """Where a model's calls go: models on one server share that server's slots."""
    if spec.kind == "gguf":
        return f"gguf:{spec.model}"
    return spec.base_url or spec.kind


def default_concurrency(spec: ModelSpec, critics: int) -> int:
    """Calls in flight to this model's server when llm_concurrency is 0 (decide per server)."""
    if is_hosted(spec):
        return max(HOSTED_CONCURRENCY, critics)
    return LOCAL_CONCURRENCY


def structured_mode(settings: Settings, spec: ModelSpec) -> StructuredMode:
    if settings.structured_output == "auto":
        return KINDS[spec.kind].mode
    try:
        return StructuredMode(settings.structured_output)
    except ValueError:
        valid = ", ".join(["auto", *(m.value for m in StructuredMode)])
        raise UserError(
            f"structured_output {settings.structured_output!r} is not a mode; use one of {valid}"
        ) from None


# A key belongs to a destination, not to a kind name: the OpenAI key goes only to the OpenAI
# API, whichever kind points there, and every other server gets only the key configured for its
# own address. So a third-party or self-hosted server never receives another provider's key.


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """The key one model is sent and the setting an operator changes to fix it."""

    key: str | None
    setting: str


def _is_openai_api(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and parts.hostname == OPENAI_HOST and parts.port in (None, 443)


def _same_server(key_url: str, base_url: str) -> bool:
    """Whether base_url lies under key_url: same scheme, host and port, and a path below."""
    a, b = urlsplit(key_url), urlsplit(base_url)
    defaults = {"http": 80, "https": 443}
    if (a.scheme, a.hostname, a.port or defaults[a.scheme]) != (
        b.scheme,
        b.hostname,
        b.port or defaults.get(b.scheme),
    ):
        return False
    prefix, path = a.path.rstrip("/"), b.path.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def server_key(settings: Settings, base_url: str) -> str | None:
    """The llm_server_keys key for a server (the longest matching URL wins), or None."""
    try:
        pairs = parse_server_keys(settings.llm_server_keys)
    except ValueError as exc:  # settings built without loading; the message names no key
        raise UserError(f"llm_server_keys {exc}") from None
    matches = [(len(url), key) for url, key in pairs if _same_server(url, base_url)]
    return max(matches)[1] if matches else None


def _own_key(
    value: str, setting: str, variable: str, spec: ModelSpec, env: Mapping[str, str]
) -> str:
    """A hosted API's key: its setting, else the provider's usual variable; never another's."""
    key = value or env.get(variable, "").strip()
    if not key:
        raise UserError(
            f"{spec.kind}:{spec.model} needs an API key; set {variable} or "
            f"SHIPORSKIP_{setting.upper()}"
        )
    if any(c.isspace() or not c.isprintable() for c in key):
        raise UserError(
            f"{variable} is not an API key (it has spaces or line breaks inside); set the key alone"
        )
    return key


def key_plan(settings: Settings, spec: ModelSpec, env: Mapping[str, str] | None = None) -> KeyPlan:
    """Which key goes with a model, decided by where its requests go."""
    env = os.environ if env is None else env
    if spec.kind == "gguf":
        return KeyPlan(None, "")
    if spec.kind == "anthropic":
        key = _own_key(
            settings.anthropic_api_key, "anthropic_api_key", "ANTHROPIC_API_KEY", spec, env
        )
        return KeyPlan(key, "ANTHROPIC_API_KEY or SHIPORSKIP_ANTHROPIC_API_KEY")
    assert spec.base_url is not None
    if _is_openai_api(spec.base_url):
        key = _own_key(settings.openai_api_key, "openai_api_key", "OPENAI_API_KEY", spec, env)
        return KeyPlan(key, "OPENAI_API_KEY or SHIPORSKIP_OPENAI_API_KEY")
    return KeyPlan(
        server_key(settings, spec.base_url),
        f"SHIPORSKIP_LLM_SERVER_KEYS as {spec.base_url}=KEY",
    )


def api_key(
    settings: Settings, spec: ModelSpec, env: Mapping[str, str] | None = None
) -> str | None:
    """The key sent with a model's requests (None: no key at all)."""
    return key_plan(settings, spec, env).key


def build_provider(
    settings: Settings, spec: ModelSpec, env: Mapping[str, str] | None = None
) -> Provider:
    """A provider for one spec. Imports of optional SDKs happen only when needed."""
    plan = key_plan(settings, spec, env)
    if spec.kind == "anthropic":
        from shiporskip.llm.anthropic_provider import AnthropicProvider

        assert plan.key is not None
        return AnthropicProvider(spec.model, api_key=plan.key, timeout=settings.llm_timeout)
    if spec.kind == "gguf":
        from shiporskip.llm.gguf import LocalGGUF

        return LocalGGUF(spec.model, models_dir=Path(settings.data_dir) / "models")
    from shiporskip.llm.openai_compat import OpenAICompatible

    assert spec.base_url is not None
    return OpenAICompatible(
        spec.model,
        base_url=spec.base_url,
        api_key=plan.key,
        key_setting=plan.setting,
        mode=structured_mode(settings, spec),
        stream=settings.llm_stream,
        kind=spec.kind,
        timeout=settings.llm_timeout,
    )


def price_table(settings: Settings) -> dict[str, tuple[float, float]]:
    table = dict(BUILTIN_PRICES)
    if settings.llm_prices.strip():
        try:
            extra = json.loads(settings.llm_prices)
            if not isinstance(extra, dict):
                raise ValueError
            for name, pair in extra.items():
                low, high = (float(x) for x in pair)
                if low < 0 or high < 0:
                    raise ValueError
                table[str(name)] = (low, high)
        except (ValueError, TypeError):
            raise UserError(
                'llm_prices must be JSON like {"model-name": [input_usd_per_1M, output_usd_per_1M]}'
            ) from None
    return table


def estimate_cost(
    table: Mapping[str, tuple[float, float]],
    spec: ModelSpec,
    input_tokens: int | None,
    output_tokens: int | None,
) -> float | None:
    """USD for one call, 0 for local models, None when the price is unknown."""
    if KINDS[spec.kind].local:
        return 0.0
    prices = table.get(spec.model)
    if prices is None or input_tokens is None or output_tokens is None:
        return None
    return round(input_tokens * prices[0] / 1e6 + output_tokens * prices[1] / 1e6, 6)
