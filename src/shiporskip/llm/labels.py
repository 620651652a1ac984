"""What readers see of the model behind a review: a clean label, never where it ran.

Every review stores the full spec it was written with (`KIND:MODEL[@URL]`) for the operator's
audit. A server's address, a file path or an error message says nothing to a reader and
tells a stranger where the operator's model server lives, so public pages, the public API,
the feed and the digest show `public_model_label` and `failure_reason` instead.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from shiporskip.llm.registry import KINDS, is_private_host

# Hosted APIs known by name; any other public host is someone's own server.
KNOWN_HOSTS = {
    "api.openai.com": "OpenAI",
    "api.anthropic.com": "Anthropic",
    "api.groq.com": "Groq",
    "api.together.xyz": "Together AI",
    "api.fireworks.ai": "Fireworks AI",
    "api.mistral.ai": "Mistral AI",
    "api.deepseek.com": "DeepSeek",
    "openrouter.ai": "OpenRouter",
    "generativelanguage.googleapis.com": "Google",
}
HOSTED_KINDS = {"openai": "OpenAI", "anthropic": "Anthropic"}
# Servers often call whatever they serve "local" or "default"; then the server's name says more.
GENERIC_NAMES = {"local", "default", "model", "an unnamed model"}
SERVER_NAMES = {
    "llamacpp": "llama.cpp",
    "ollama": "Ollama",
    "vllm": "vLLM",
    "lmstudio": "LM Studio",
}
SAMPLE_KIND = "sample"
# The address starts at the "@" before the scheme, so "user:pass@host" stays inside the URL.
_AT_URL = re.compile(r"@(?=[a-z][a-z0-9+.-]*://)", re.I)
_FILE_SUFFIX = re.compile(r"\.(gguf|bin|safetensors|ggml)$", re.I)


def split_spec(model: str, provider: str = "") -> tuple[str, str, str | None]:
    """(kind, model name, base URL or None) from a stored spec, tolerating older rows."""
    text = model.strip()
    kind, sep, rest = text.partition(":")
    if not (sep and (kind in KINDS or kind in (SAMPLE_KIND, provider))):
        kind, rest = provider, text
    name, *url = _AT_URL.split(rest, maxsplit=1)
    return kind, name, url[0] if url else None


def _clean_name(name: str) -> str:
    """The model's name without a file-system path or file suffix."""
    name = name.strip()
    if name.startswith("hf:"):
        name = name[3:].rsplit("/", 1)[-1]
    elif name.startswith(("/", "~", ".")) or "\\" in name or _FILE_SUFFIX.search(name):
        name = re.split(r"[\\/]", name)[-1]
    name = _FILE_SUFFIX.sub("", name)
    if "://" in name or "@" in name:  # never let an address through, whatever the format
        name = name.split("://")[-1].split("@")[0].split("/")[0]
    return name or "an unnamed model"


def public_model_label(model: str, provider: str = "") -> str:
    """'OpenAI gpt-4o-mini', 'llama3.1-8b (local)' or 'qwen2.5 (self-hosted)' from a spec."""
    kind, name, url = split_spec(model, provider)
    if kind == SAMPLE_KIND:
        return "sample content written by the shiporskip team"
    name = _clean_name(name)
    if name.lower() in GENERIC_NAMES:
        name = f"{SERVER_NAMES.get(kind, 'an unnamed')} model"
    if kind == "gguf":
        return f"{name} (local)"
    if kind == "anthropic":
        return f"Anthropic {name}"
    info = KINDS.get(kind)
    url = url or (info.base_url if info else None)
    if url is None:
        return f"{HOSTED_KINDS[kind]} {name}" if kind in HOSTED_KINDS else name
    host = urlsplit(url).hostname or ""
    if host in KNOWN_HOSTS:
        return f"{KNOWN_HOSTS[host]} {name}"
    return f"{name} (local)" if is_private_host(host) else f"{name} (self-hosted)"


# (words in the stored error, what a reader is told), first match wins.
_REASONS = (
    (("invalid output", "repair", "not valid json"), "unreadable answer"),
    (("quality gate", "quality check"), "did not pass the quality check"),
    (("timed out", "no answer within", "timeout"), "timed out"),
    (("http 429", "rate limit", "too many requests"), "rate limited"),
    (("cannot reach", "connection refused", "connection to"), "model unreachable"),
)


def failure_reason(error: str | None) -> str:
    """A few words about why an attempt failed, from its stored error, with no detail."""
    text = (error or "").lower()
    for words, reason in _REASONS:
        if any(w in text for w in words):
            return reason
    return "model error"


def failure_text(critic_name: str, error: str | None) -> str:
    """The sentence a public card shows for a failed attempt."""
    return f"{critic_name}'s review failed ({failure_reason(error)}); it will be retried."
