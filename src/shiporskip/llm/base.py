"""The provider contract: one required method and capability flags."""

from __future__ import annotations

import functools
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal

from shiporskip.errors import UserError


class StructuredMode(StrEnum):
    """How an endpoint is asked for JSON. Servers support different subsets."""

    json_schema = "json_schema"  # OpenAI, vLLM, Ollama, LM Studio
    json_object_schema = "json_object_schema"  # llama.cpp server: json_object + schema
    tool = "tool"  # a forced function call whose arguments are the review
    json_object = "json_object"  # JSON mode without a schema
    prompt = "prompt"  # no server support: the prompt and the parser do the work


# llama.cpp turns maxLength N into N nested grammar rules; its grammar parser crashes the
# server somewhere above ~1,100 (seen with llama-cpp-python 0.3.36). Grammar-based modes
# therefore clamp string bounds to this: about 160 words of review body.
GRAMMAR_MAX_LENGTH = 1000


def clamp_lengths(schema: Any, limit: int = GRAMMAR_MAX_LENGTH) -> Any:
    """A copy of a JSON schema with every maxLength at most `limit`."""
    if isinstance(schema, dict):
        out = {k: clamp_lengths(v, limit) for k, v in schema.items()}
        if isinstance(out.get("maxLength"), int):
            out["maxLength"] = min(out["maxLength"], limit)
        return out
    if isinstance(schema, list):
        return [clamp_lengths(v, limit) for v in schema]
    return schema


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    system: str
    messages: tuple[ChatMessage, ...]
    schema: dict[str, Any] | None = None
    schema_name: str = "review"
    max_tokens: int = 1200
    temperature: float = 0.4


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """A call that did not produce a completion."""

    transient: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TransientError(ProviderError):
    """Worth retrying: 429, 5xx, connection errors, timeouts, broken streams."""

    transient = True


class PermanentError(ProviderError, UserError):
    """Retrying will not help: bad key, unknown model, refused request, missing setup."""


class Provider(ABC):
    """An LLM endpoint. Adapters implement `complete`; retries and timeouts live outside."""

    kind: str = "provider"
    supports_structured: ClassVar[bool] = True
    supports_streaming: ClassVar[bool] = False
    needs_key: ClassVar[bool] = False
    is_local: ClassVar[bool] = False

    def __init__(self, model: str) -> None:
        self.model = model

    @abstractmethod
    async def complete(self, request: CompletionRequest) -> Completion:
        """Send one chat request and return the text (JSON when a schema was given)."""

    def describe(self) -> str:
        return f"{self.kind}:{self.model}"

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections or models."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process for every provider client, built as httpx builds its
    own (it honours SSL_CERT_FILE and SSL_CERT_DIR): loading the CA bundle takes tens of
    milliseconds, which each panel would otherwise pay again."""
    import httpx  # only providers that make HTTP calls need it, not every reader of this contract

    return httpx.create_ssl_context()
