import pytest

from shiporskip.errors import UserError
from shiporskip.llm.base import StructuredMode
from shiporskip.llm.openai_compat import OpenAICompatible
from shiporskip.llm.registry import (
    ModelSpec,
    api_key,
    build_provider,
    critic_specs,
    estimate_cost,
    parse_spec,
    price_table,
    structured_mode,
)
from shiporskip.settings import load_settings, replace

IDS = ["builder", "skeptic", "buyer"]


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("openai:gpt-4o-mini", ModelSpec("openai", "gpt-4o-mini", "https://api.openai.com/v1")),
        ("ollama:llama3.1", ModelSpec("ollama", "llama3.1", "http://127.0.0.1:11434/v1")),
        (
            "llamacpp:tiny@http://127.0.0.1:9000/v1/",
            ModelSpec("llamacpp", "tiny", "http://127.0.0.1:9000/v1"),
        ),
        ("anthropic:claude-sonnet-4-0", ModelSpec("anthropic", "claude-sonnet-4-0", None)),
        ("gguf:/models/x.gguf", ModelSpec("gguf", "/models/x.gguf", None)),
        ("gguf:hf:org/repo/f.gguf", ModelSpec("gguf", "hf:org/repo/f.gguf", None)),
    ],
)
def test_spec_syntax(text: str, spec: ModelSpec) -> None:
    assert parse_spec(text) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no model is configured; set SHIPORSKIP_MODEL"),
        ("gpt-4o", "cannot read model 'gpt-4o'; write KIND:MODEL"),
        ("skynet:t800", "KIND one of openai, anthropic"),
        ("openai:", "names no model"),
        ("openai-compatible:m", "needs a server address"),
        ("vllm:m@ftp://x", "must start with http"),
    ],
)
def test_bad_specs(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_spec(text)


def test_per_critic_models_and_cli_override() -> None:
    settings = load_settings(
        overrides={"model": "ollama:llama3.1", "critic_models": "skeptic=openai:gpt-4o ; "}
    )
    specs = critic_specs(settings, IDS, None)
    assert specs["builder"].kind == "ollama" and specs["skeptic"].model == "gpt-4o"
    assert {s.model for s in critic_specs(settings, IDS, "vllm:q").values()} == {"q"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("critic=", "should read CRITIC=KIND:MODEL"),
        ("nobody=openai:x", "critic 'nobody', which is not on the panel"),
    ],
)
def test_bad_critic_models(value: str, message: str) -> None:
    settings = load_settings(overrides={"model": "ollama:x", "critic_models": value})
    with pytest.raises(UserError, match=message):
        critic_specs(settings, IDS, None)


def test_keys_come_from_settings_or_the_providers_variable() -> None:
    settings = load_settings()
    spec = parse_spec("openai:gpt-4o")
    with pytest.raises(UserError, match="needs an API key; set OPENAI_API_KEY"):
        api_key(settings, spec, env={})
    assert api_key(settings, spec, env={"OPENAI_API_KEY": "sk-1"}) == "sk-1"
    keyed = load_settings(overrides={"openai_api_key": "sk-2", "llm_server_keys": "http://h=t-3"})
    assert api_key(keyed, spec, env={"OPENAI_API_KEY": "sk-1"}) == "sk-2"
    assert api_key(settings, parse_spec("ollama:x"), env={"OPENAI_API_KEY": "sk-1"}) is None
    assert "sk-2" not in str(keyed.masked()) and "t-3" not in str(keyed.masked())


def test_structured_mode_defaults_per_server_and_override() -> None:
    settings = load_settings()
    assert structured_mode(settings, parse_spec("llamacpp:x")) is StructuredMode.json_object_schema
    assert structured_mode(settings, parse_spec("vllm:x")) is StructuredMode.json_schema
    forced = load_settings(overrides={"structured_output": "tool"})
    assert structured_mode(forced, parse_spec("vllm:x")) is StructuredMode.tool
    with pytest.raises(UserError, match="telepathy is not allowed; use auto, json_schema"):
        load_settings(overrides={"structured_output": "telepathy"})
    # Settings built without loading (replace) are still refused where they are used.
    bad = replace(settings, structured_output="telepathy")
    with pytest.raises(UserError, match="not a mode"):
        structured_mode(bad, parse_spec("vllm:x"))


def test_build_provider_wires_the_openai_compatible_adapter() -> None:
    provider = build_provider(load_settings(), parse_spec("llamacpp:tiny@http://h:1/v1"), env={})
    assert isinstance(provider, OpenAICompatible)
    assert provider.mode is StructuredMode.json_object_schema
    assert provider.describe() == "llamacpp:tiny at http://h:1/v1"


def test_cost_estimates() -> None:
    table = price_table(load_settings(overrides={"llm_prices": '{"mine": [1, 2]}'}))
    assert estimate_cost(table, parse_spec("openai:mine"), 1_000_000, 500_000) == 2.0
    assert estimate_cost(table, parse_spec("openai:unknown"), 10, 10) is None
    assert estimate_cost(table, parse_spec("ollama:x"), 10, 10) == 0.0
    for bad in ("[1,2]", '{"m": [1]}', '{"m": [-1, 2]}', "nope"):
        with pytest.raises(UserError, match="is not a price table; write JSON"):
            load_settings(overrides={"llm_prices": bad})
        with pytest.raises(UserError, match="llm_prices must be JSON"):
            price_table(replace(load_settings(), llm_prices=bad))
