"""Keys go only where they belong: each destination gets its own key, or none.

The environment carries the operator's OpenAI and Anthropic keys (and OpenAI account ids)
in every test here, as on a real server; a local scripted server records what it is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiporskip.errors import UserError
from shiporskip.llm.anthropic_provider import AnthropicProvider
from shiporskip.llm.base import ChatMessage, CompletionRequest, PermanentError, Provider
from shiporskip.llm.openai_compat import OpenAICompatible
from shiporskip.llm.registry import api_key, build_provider, critic_specs, parse_spec
from shiporskip.settings import Settings, load_settings
from tests.llm.fault_server import FaultServer, serve

OPENAI_KEY = "sk-openai-SECRET-1"
ANTHROPIC_KEY = "sk-ant-SECRET-2"
SERVER_KEY = "tok-own-3"
IDS = ["builder", "skeptic", "buyer", "user"]
REQUEST = CompletionRequest(system="s", messages=(ChatMessage("user", "u"),))


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    yield from serve(FaultServer())


@pytest.fixture(autouse=True)
def operator_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hosted APIs' keys and account ids in the environment, where the SDKs look too."""
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-operator")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-operator")
    custom = "Authorization: Bearer sk-custom-SECRET\nX-Gateway-Key: gw-SECRET"
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", custom)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/elsewhere")


def sent_headers(server: FaultServer, settings: Settings, model: str) -> dict[str, str]:
    """The headers one real request for `model` carried to the scripted server."""
    server.set(("ok", "{}"))
    provider = build_provider(settings, parse_spec(model, base_url_override=settings.llm_base_url))

    async def go() -> None:
        try:
            await provider.complete(REQUEST)
        finally:
            await provider.aclose()

    asyncio.run(go())
    [headers] = server.headers
    return headers


def assert_no_hosted_secrets(headers: dict[str, str]) -> None:
    text = repr(headers)
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, "org-operator", "proj-operator", "-SECRET"):
        assert secret not in text
    assert "x-gateway-key" not in headers


def test_a_server_gets_no_key_when_none_is_set_for_it(server: FaultServer) -> None:
    headers = sent_headers(server, load_settings(), f"openai-compatible:x@{server.base_url}")
    assert "authorization" not in headers
    assert_no_hosted_secrets(headers)


def test_a_server_gets_only_the_key_set_for_its_address(server: FaultServer) -> None:
    keys = f"http://127.0.0.1:1/v1=tok-other; {server.base_url}={SERVER_KEY}"
    settings = load_settings(overrides={"llm_server_keys": keys})
    headers = sent_headers(server, settings, f"vllm:x@{server.base_url}")
    assert headers["authorization"] == f"Bearer {SERVER_KEY}"
    assert_no_hosted_secrets(headers)


def test_openai_kind_at_another_address_gets_no_openai_key(server: FaultServer) -> None:
    settings = load_settings(
        overrides={"llm_base_url": server.base_url, "openai_api_key": "sk-explicit-SECRET"}
    )
    headers = sent_headers(server, settings, "openai:gpt-4o")
    assert "authorization" not in headers and "sk-explicit-SECRET" not in repr(headers)
    assert_no_hosted_secrets(headers)


def test_openai_at_its_own_address_uses_the_openai_key() -> None:
    provider = build_provider(load_settings(), parse_spec("openai:gpt-4o"))
    assert isinstance(provider, OpenAICompatible)
    assert provider.client.api_key == OPENAI_KEY
    assert str(provider.client.base_url) == "https://api.openai.com/v1/"
    explicit = load_settings(overrides={"openai_api_key": "sk-explicit"})
    assert api_key(explicit, parse_spec("openai:gpt-4o")) == "sk-explicit"
    # Whatever the kind is called, the OpenAI API is where the OpenAI key belongs.
    named = parse_spec("openai-compatible:gpt-4o@https://api.openai.com/v1")
    assert api_key(load_settings(), named) == OPENAI_KEY
    for elsewhere in ("http://api.openai.com/v1", "https://api.openai.com.evil.test/v1"):
        assert api_key(load_settings(), parse_spec(f"openai:gpt-4o@{elsewhere}")) is None


def test_anthropic_gets_its_own_key_and_goes_to_anthropic_only() -> None:
    provider = build_provider(load_settings(), parse_spec("anthropic:claude-sonnet-4-0"))
    assert isinstance(provider, AnthropicProvider)
    assert provider.client.api_key == ANTHROPIC_KEY
    assert str(provider.client.base_url).rstrip("/") == "https://api.anthropic.com"
    explicit = load_settings(overrides={"anthropic_api_key": "sk-ant-explicit"})
    assert api_key(explicit, parse_spec("anthropic:claude-sonnet-4-0")) == "sk-ant-explicit"


def test_per_critic_models_of_several_kinds_each_get_their_own_key(server: FaultServer) -> None:
    settings = load_settings(
        overrides={
            "model": "openai:gpt-4o",
            "critic_models": (
                f"skeptic=anthropic:claude-sonnet-4-0; buyer=openai-compatible:m@{server.base_url};"
                "user=llamacpp:tiny@http://10.0.0.5:8080/v1"
            ),
            "llm_server_keys": f"http://10.0.0.5:8080={SERVER_KEY}",
        }
    )
    specs = critic_specs(settings, IDS, None)
    keys = {critic: api_key(settings, spec) for critic, spec in specs.items()}
    assert keys == {
        "builder": OPENAI_KEY,
        "skeptic": ANTHROPIC_KEY,
        "buyer": None,
        "user": SERVER_KEY,
    }
    providers: list[Provider] = [build_provider(settings, spec) for spec in specs.values()]
    for provider in providers:
        asyncio.run(provider.aclose())
    headers = sent_headers(server, settings, specs["buyer"].label)
    assert "authorization" not in headers
    assert_no_hosted_secrets(headers)


@pytest.mark.parametrize(
    ("server_url", "base_url", "sent"),
    [
        ("http://h:8000", "http://h:8000/v1", True),
        ("http://h:8000/v1/", "http://H:8000/v1", True),
        ("https://h", "https://h:443/openai/v1", True),
        ("https://h", "http://h/v1", False),  # never over plain HTTP when set for HTTPS
        ("http://h:8000", "http://h:8001/v1", False),
        ("http://h:8000/v1", "http://h:8000/v10", False),
        ("http://h", "http://h.evil.test/v1", False),
    ],
)
def test_a_server_key_follows_its_address(server_url: str, base_url: str, sent: bool) -> None:
    settings = load_settings(overrides={"llm_server_keys": f"{server_url}={SERVER_KEY}"})
    key = api_key(settings, parse_spec(f"vllm:m@{base_url}"))
    assert key == (SERVER_KEY if sent else None)


def test_the_longest_matching_address_wins() -> None:
    keys = "http://h:1=outer; http://h:1/team/v1=inner"
    settings = load_settings(overrides={"llm_server_keys": keys})
    assert api_key(settings, parse_spec("vllm:m@http://h:1/team/v1")) == "inner"
    assert api_key(settings, parse_spec("vllm:m@http://h:1/v1")) == "outer"


@pytest.mark.parametrize(
    ("model", "variable", "message"),
    [
        ("openai:gpt-4o", "OPENAI_API_KEY", "set OPENAI_API_KEY or SHIPORSKIP_OPENAI_API_KEY"),
        (
            "anthropic:claude-sonnet-4-0",
            "ANTHROPIC_API_KEY",
            "set ANTHROPIC_API_KEY or SHIPORSKIP_ANTHROPIC_API_KEY",
        ),
    ],
)
def test_an_empty_key_is_one_sentence_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, model: str, variable: str, message: str
) -> None:
    monkeypatch.setenv(variable, "")
    settings = load_settings(env={f"SHIPORSKIP_{variable}": ""})
    with pytest.raises(UserError) as caught:
        api_key(settings, parse_spec(model))
    assert str(caught.value) == f"{model} needs an API key; {message}"
    monkeypatch.setenv(variable, "sk-broken\nline")
    with pytest.raises(UserError, match=f"^{variable} is not an API key") as caught:
        api_key(settings, parse_spec(model))
    assert "sk-broken" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OPENAI_API_KEY", "   ", "is only spaces; set the key itself, or leave it empty"),
        ("ANTHROPIC_API_KEY", "sk-ant bad", "is not an API key (it has spaces or line breaks"),
        ("LLM_SERVER_KEYS", "http://h:1/v1=", "has an entry (1) that is not URL=KEY; write"),
        ("LLM_SERVER_KEYS", "tok-SECRET", "has an entry (1) that is not URL=KEY"),
        ("LLM_SERVER_KEYS", "http://h=a; ftp://h=tok-SECRET", "has an entry (2) that is not"),
        (
            "LLM_SERVER_KEYS",
            "https://api.openai.com/v1=tok-SECRET",
            "has an entry (1) for api.openai.com; set that key in openai_api_key",
        ),
    ],
)
def test_bad_keys_are_named_and_never_shown(name: str, value: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        load_settings(env={f"SHIPORSKIP_{name}": value})
    text = str(caught.value)
    assert text.startswith(f"SHIPORSKIP_{name}=******** {message}")
    assert "SECRET" not in text and "\n" not in text


def test_the_old_shared_key_setting_stops_loading_with_its_replacements(tmp_path: Path) -> None:
    replacement = (
        "is no longer read, because one key was sent to every provider; set the key where it "
        "belongs: openai_api_key, anthropic_api_key or llm_server_keys (URL=KEY)"
    )
    with pytest.raises(UserError) as caught:
        load_settings(env={"SHIPORSKIP_LLM_API_KEY": "sk-old-SECRET"})
    assert str(caught.value) == f"SHIPORSKIP_LLM_API_KEY {replacement}"
    config = tmp_path / "config.toml"
    config.write_text('llm_api_key = "sk-old-SECRET"\n', encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_settings(env={"SHIPORSKIP_CONFIG": str(config)})
    assert str(caught.value) == f"llm_api_key in config file {config} {replacement}"


@pytest.mark.parametrize(
    "model", ["vllm:m@http://h:1/v1?api_key=tok-SECRET", "vllm:m@http://h:1/v1#tok-SECRET"]
)
def test_a_key_in_the_model_address_is_refused_unshown(model: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_spec(model)
    assert "SECRET" not in str(caught.value)
    assert "give the server's key in SHIPORSKIP_LLM_SERVER_KEYS" in str(caught.value)


def test_an_address_with_a_bad_port_is_one_sentence() -> None:
    with pytest.raises(UserError) as caught:
        parse_spec("vllm:m@http://h:99999/v1")
    assert str(caught.value) == (
        "the address of vllm:m is not a web address; write http(s)://HOST[:PORT]/v1"
    )


def test_a_refusal_names_the_setting_for_that_server(server: FaultServer) -> None:
    async def refused(provider: Provider) -> str:
        try:
            await provider.complete(REQUEST)
        except PermanentError as exc:
            return str(exc)
        finally:
            await provider.aclose()
        raise AssertionError("the server refused; the provider did not say so")

    server.set(("status", 401))
    spec = parse_spec(f"vllm:m@{server.base_url}")
    keyless = asyncio.run(refused(build_provider(load_settings(), spec)))
    assert keyless == (
        f"{server.base_url} wants an API key (HTTP 401) and none is set for it; "
        f"set it in SHIPORSKIP_LLM_SERVER_KEYS as {server.base_url}=KEY"
    )
    keyed = load_settings(overrides={"llm_server_keys": f"{server.base_url}={SERVER_KEY}"})
    server.set(("status", 401))
    wrong = asyncio.run(refused(build_provider(keyed, spec)))
    assert wrong.endswith(f"set a valid key in SHIPORSKIP_LLM_SERVER_KEYS as {server.base_url}=KEY")
    assert SERVER_KEY not in wrong


def test_a_server_quoting_the_key_back_does_not_get_it_stored(server: FaultServer) -> None:
    server.set(("quote_key", 400))
    keyed = load_settings(overrides={"llm_server_keys": f"{server.base_url}={SERVER_KEY}"})
    provider = build_provider(keyed, parse_spec(f"vllm:m@{server.base_url}"))

    async def go() -> str:
        try:
            await provider.complete(REQUEST)
        except PermanentError as exc:
            return str(exc)
        finally:
            await provider.aclose()
        raise AssertionError("the server refused; the provider did not say so")

    message = asyncio.run(go())
    assert "bad request from Bearer ********" in message and SERVER_KEY not in message
