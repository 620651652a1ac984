"""Any OpenAI-compatible endpoint: OpenAI, vLLM, Ollama, llama.cpp server, LM Studio…

Servers differ in which structured-output request they accept, so the mode is
configuration (`StructuredMode`), not a subclass per server.
"""

from __future__ import annotations

import email.utils
import os
import time
from typing import Any

import httpx
import openai

from shiporskip.llm.base import (
    Completion,
    CompletionRequest,
    PermanentError,
    Provider,
    StructuredMode,
    TransientError,
    clamp_lengths,
    tls_context,
)
from shiporskip.settings_checks import OPENAI_HOST

TOOL_NAME = "submit_review"
NO_KEY = "no-key"


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class OpenAICompatible(Provider):
    kind = "openai-compatible"
    supports_streaming = True

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str | None,
        mode: StructuredMode,
        stream: bool = False,
        kind: str | None = None,
        timeout: float = 120.0,
        key_setting: str = "SHIPORSKIP_LLM_SERVER_KEYS",
    ) -> None:
        super().__init__(model)
        self.base_url = base_url.rstrip("/")
        self.mode = mode
        self.stream = stream
        self.has_key = bool(api_key)
        self.key_setting = key_setting
        if kind:
            self.kind = kind
        # The SDK sends what it finds in the OpenAI account's environment (OPENAI_ORG_ID,
        # OPENAI_PROJECT_ID, OPENAI_CUSTOM_HEADERS) with every client, whatever its base URL;
        # like the OpenAI key, it belongs to api.openai.com alone.
        self._openai_only = {"openai-organization", "openai-project", *_custom_header_names()}
        self._authorization = f"Bearer {api_key}" if api_key else None
        self.client = openai.AsyncOpenAI(
            base_url=self.base_url,
            # The SDK insists on a key; a keyless server gets none (see _send_only_own_headers).
            api_key=api_key or NO_KEY,
            max_retries=0,  # retries are the Resilient wrapper's job
            timeout=timeout,
            http_client=openai.DefaultAsyncHttpxClient(
                verify=tls_context(), event_hooks={"request": [self._send_only_own_headers]}
            ),
        )

    async def _send_only_own_headers(self, request: httpx.Request) -> None:
        """Away from api.openai.com: this server's own key or none, and no OpenAI headers."""
        if request.url.host == OPENAI_HOST:
            return
        for name in self._openai_only:
            request.headers.pop(name, None)
        if self._authorization:
            request.headers["authorization"] = self._authorization
        else:
            request.headers.pop("authorization", None)

    def describe(self) -> str:
        return f"{self.kind}:{self.model} at {self.base_url}"

    def _structured(self, request: CompletionRequest) -> dict[str, Any]:
        schema = request.schema
        if schema is None or self.mode is StructuredMode.prompt:
            return {}
        if self.mode is StructuredMode.json_schema:
            return {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": request.schema_name, "schema": schema, "strict": False},
                }
            }
        if self.mode is StructuredMode.json_object_schema:
            return {"response_format": {"type": "json_object", "schema": clamp_lengths(schema)}}
        if self.mode is StructuredMode.json_object:
            return {"response_format": {"type": "json_object"}}
        return {
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": TOOL_NAME,
                        "description": "Submit the review.",
                        "parameters": clamp_lengths(schema),
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": TOOL_NAME}},
        }

    async def complete(self, request: CompletionRequest) -> Completion:
        messages: list[dict[str, str]] = [{"role": "system", "content": request.system}]
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        params: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            **self._structured(request),
        }
        try:
            if self.stream:
                return await self._stream(params)
            response = await self.client.chat.completions.create(**params)
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except openai.APITimeoutError as exc:
            raise TransientError(f"{self.base_url} timed out") from exc
        except openai.APIConnectionError as exc:
            raise TransientError(f"cannot reach {self.base_url} ({_cause(exc)})") from exc
        except (openai.APIResponseValidationError, ValueError) as exc:
            raise TransientError(f"{self.base_url} sent a response that is not valid JSON") from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"connection to {self.base_url} broke ({exc!r})") from exc
        if not getattr(response, "choices", None):
            raise TransientError(f"{self.base_url} answered without any choices")
        choice = response.choices[0]
        text = choice.message.content or ""
        if self.mode is StructuredMode.tool and choice.message.tool_calls:
            call = choice.message.tool_calls[0]
            text = getattr(getattr(call, "function", None), "arguments", "") or text
        usage = response.usage
        return Completion(
            text=text,
            model=response.model or self.model,
            input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            finish_reason=choice.finish_reason,
        )

    async def _stream(self, params: dict[str, Any]) -> Completion:
        parts: list[str] = []
        tool_parts: list[str] = []
        finish: str | None = None
        usage = None
        model = self.model
        stream = await self.client.chat.completions.create(**params, stream=True)
        async for chunk in stream:
            model = chunk.model or model
            if chunk.usage:
                usage = chunk.usage
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    parts.append(delta.content)
                for call in delta.tool_calls or ():
                    if call.function and call.function.arguments:
                        tool_parts.append(call.function.arguments)
                if choice.finish_reason:
                    finish = choice.finish_reason
        if finish is None:
            raise TransientError(f"the stream from {self.base_url} ended before the answer did")
        return Completion(
            text="".join(tool_parts) or "".join(parts),
            model=model,
            input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            finish_reason=finish,
        )

    def _status_error(self, exc: openai.APIStatusError) -> Exception:
        status = exc.status_code
        detail = _detail(exc)
        if self.has_key:  # a server may quote the key back; the error is stored and shown
            detail = detail.replace(self.client.api_key, "********")
        if status == 429 or status >= 500 or status in (408, 409, 425):
            retry_after = parse_retry_after(exc.response.headers.get("retry-after"))
            return TransientError(
                f"{self.base_url} answered HTTP {status}{detail}", retry_after=retry_after
            )
        if status in (401, 403) and not self.has_key:
            return PermanentError(
                f"{self.base_url} wants an API key (HTTP {status}) and none is set for it; "
                f"set it in {self.key_setting}"
            )
        if status in (401, 403):
            return PermanentError(
                f"{self.base_url} rejected the API key (HTTP {status}); "
                f"set a valid key in {self.key_setting}"
            )
        if status == 404:
            return PermanentError(
                f"{self.base_url} does not serve model {self.model!r} (HTTP 404); "
                "check the model name in SHIPORSKIP_MODEL"
            )
        return PermanentError(
            f"{self.base_url} refused the request (HTTP {status}{detail}); if the server does "
            f"not support structured output mode {self.mode.value!r}, set "
            "SHIPORSKIP_STRUCTURED_OUTPUT to json_object_schema, tool, json_object or prompt"
        )

    async def aclose(self) -> None:
        await self.client.close()


def _custom_header_names() -> set[str]:
    """The headers OPENAI_CUSTOM_HEADERS ("Name: value" lines) makes the SDK send."""
    lines = os.environ.get("OPENAI_CUSTOM_HEADERS", "").splitlines()
    return {line.split(":", 1)[0].strip().lower() for line in lines if ":" in line}


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    message = None
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else str(error)
    return f": {str(message)[:200]}" if message else ""


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause else "connection error"
