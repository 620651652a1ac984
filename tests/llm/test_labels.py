"""Public model labels and failure reasons: a reader learns the model, never where it runs."""

from __future__ import annotations

import pytest

from shiporskip.errors import without_cli_hints
from shiporskip.llm.labels import (
    failure_reason,
    failure_text,
    is_private_host,
    public_model_label,
    split_spec,
)
from shiporskip.llm.registry import KINDS, parse_spec


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        ("openai-compatible:llama3.1-8b@http://10.0.0.5:8000/v1", "llama3.1-8b (local)"),
        ("openai:gpt-4o-mini", "OpenAI gpt-4o-mini"),
        ("openai:gpt-4o-mini@https://api.openai.com/v1", "OpenAI gpt-4o-mini"),
        ("openai:gpt-4o-mini@http://127.0.0.1:4000/v1", "gpt-4o-mini (local)"),
        ("anthropic:claude-sonnet-4-0", "Anthropic claude-sonnet-4-0"),
        ("ollama:llama3.1:8b@http://127.0.0.1:11434/v1", "llama3.1:8b (local)"),
        (
            "vllm:meta-llama/Llama-3.1-8B-Instruct@http://gpu-box:8000/v1",
            "meta-llama/Llama-3.1-8B-Instruct (local)",
        ),
        ("llamacpp:local@http://[::1]:8080/v1", "llama.cpp model (local)"),
        ("lmstudio:qwen2.5-7b@http://192.168.1.20:1234/v1", "qwen2.5-7b (local)"),
        ("gguf:/home/op/models/Llama-3.1-8B-Q4_K_M.gguf", "Llama-3.1-8B-Q4_K_M (local)"),
        ("gguf:hf:bartowski/Qwen2.5-7B-GGUF/Qwen2.5-7B-Q4.gguf", "Qwen2.5-7B-Q4 (local)"),
        ("openai-compatible:llama-3.1-8b@https://api.groq.com/openai/v1", "Groq llama-3.1-8b"),
        ("openai-compatible:m@https://user:pw@openrouter.ai/api/v1", "OpenRouter m"),
        ("vllm:/srv/models/llama3@https://llm.example.com/v1", "llama3 (self-hosted)"),
        ("openai-compatible:x@http://models.corp.internal/v1", "x (local)"),
        ("sample:written-by-the-shiporskip-team", "sample content written by the shiporskip team"),
    ],
)
def test_public_label(spec: str, label: str) -> None:
    assert public_model_label(spec) == label
    for part in ("http", "@", "10.0.0.5", "gpu-box", "/home/op", "user:pw", "8000"):
        assert part not in public_model_label(spec)


def test_rows_that_store_the_name_apart_from_the_kind() -> None:
    assert public_model_label("gpt-4o-mini", "openai") == "OpenAI gpt-4o-mini"
    assert public_model_label("llama3.1:8b", "ollama") == "llama3.1:8b (local)"
    assert public_model_label("test-model", "test") == "test-model"
    assert public_model_label("weird@http://10.1.2.3:9/v1", "custom") == "weird (local)"


def test_every_spec_the_registry_accepts_gets_a_label_without_its_address() -> None:
    for kind, info in KINDS.items():
        text = (
            f"{kind}:some-model"
            if info.base_url or kind in ("gguf", "anthropic")
            else (f"{kind}:some-model@http://10.9.8.7:5000/v1")
        )
        spec = parse_spec(text)
        assert split_spec(spec.label)[:2] == (kind, "some-model")
        label = public_model_label(spec.label, spec.kind)
        assert "some-model" in label and "10.9.8.7" not in label and "127.0.0.1" not in label


def test_private_hosts() -> None:
    for host in (
        "10.0.0.5",
        "127.0.0.1",
        "::1",
        "192.168.0.2",
        "169.254.1.1",
        "localhost",
        "gpu-box",
        "ml.local",
        "llm.corp.internal",
    ):
        assert is_private_host(host), host
    for host in ("api.together.xyz", "8.8.8.8", "llm.example.com"):
        assert not is_private_host(host), host


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("invalid output, also after one repair attempt: body: too short", "unreadable answer"),
        ("x failed after 3 attempts: no answer within 120 s", "timed out"),
        ("x failed after 3 attempts: http://10.0.0.5:8000/v1 timed out", "timed out"),
        (
            "x failed after 3 attempts: cannot reach http://10.0.0.5:8000/v1 (refused)",
            "model unreachable",
        ),
        ("the server said HTTP 429: rate limit reached for org-abc", "rate limited"),
        ("Anthropic refused the request (HTTP 400)", "model error"),
        (None, "model error"),
    ],
)
def test_failure_reason_says_why_without_detail(error: str | None, reason: str) -> None:
    assert failure_reason(error) == reason
    text = failure_text("Sam Skeptic", error)
    assert text == f"Sam Skeptic's review failed ({reason}); it will be retried."


def test_cli_hints_are_cut_from_messages_for_readers() -> None:
    assert (
        without_cli_hints("no tool with slug 'x'; see `shiporskip tools list`")
        == "no tool with slug 'x'"
    )
    assert (
        without_cli_hints("6 of 7 critics reported; run `shiporskip review a` again to retry")
        == "6 of 7 critics reported"
    )
    kept = "no tool with slug 'x'; did you mean claude-sonnet-4?"
    assert without_cli_hints(kept) == kept
