"""Model specs (`KIND:MODEL[@BASE_URL]`) -> providers, keys, structured modes and prices."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shiporskip.errors import UserError
from shiporskip.llm.base import Provider, StructuredMode
from shiporskip.settings import Settings


@dataclass(frozen=True, slots=True)
class Kind:
    base_url: str | None
    mode: StructuredMode
    key_env: str | None = None
    needs_key: bool = False
    local: bool = False


KINDS: dict[str, Kind] = {
    "openai": Kind("https://api.openai.com/v1", StructuredMode.json_schema, "OPENAI_API_KEY", True),
    "anthropic": Kind(None, StructuredMode.tool, "ANTHROPIC_API_KEY", True),
    "ollama": Kind("http://127.0.0.1:11434/v1", StructuredMode.json_schema, local=True),
    "vllm": Kind("http://127.0.0.1:8000/v1", StructuredMode.json_schema, local=True),
    "llamacpp": Kind("http://127.0.0.1:8080/v1", StructuredMode.json_object_schema, local=True),
    "lmstudio": Kind("http://127.0.0.1:1234/v1", StructuredMode.json_schema, local=True),
    "openai-compatible": Kind(None, StructuredMode.json_schema, "OPENAI_API_KEY"),
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


def api_key(
    settings: Settings, spec: ModelSpec, env: Mapping[str, str] | None = None
) -> str | None:
    env = os.environ if env is None else env
    info = KINDS[spec.kind]
    key = settings.llm_api_key or (env.get(info.key_env, "") if info.key_env else "")
    if info.needs_key and not key:
        raise UserError(
            f"{spec.kind}:{spec.model} needs an API key; "
            f"set {info.key_env} or SHIPORSKIP_LLM_API_KEY"
        )
    return key or None


def build_provider(
    settings: Settings, spec: ModelSpec, env: Mapping[str, str] | None = None
) -> Provider:
    """A provider for one spec. Imports of optional SDKs happen only when needed."""
    key = api_key(settings, spec, env)
    if spec.kind == "anthropic":
        from shiporskip.llm.anthropic_provider import AnthropicProvider

        return AnthropicProvider(spec.model, api_key=key, timeout=settings.llm_timeout)
    if spec.kind == "gguf":
        from shiporskip.llm.gguf import LocalGGUF

        return LocalGGUF(spec.model, models_dir=Path(settings.data_dir) / "models")
    from shiporskip.llm.openai_compat import OpenAICompatible

    assert spec.base_url is not None
    return OpenAICompatible(
        spec.model,
        base_url=spec.base_url,
        api_key=key,
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
