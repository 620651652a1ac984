"""Anthropic's Messages API, with the review forced through a tool call."""

from __future__ import annotations

import json
from typing import Any

import anthropic

from shiporskip.llm.base import (
    Completion,
    CompletionRequest,
    PermanentError,
    Provider,
    TransientError,
    tls_context,
)
from shiporskip.llm.openai_compat import TOOL_NAME, parse_retry_after

# Pinned rather than left to ANTHROPIC_BASE_URL, so the Anthropic key goes to Anthropic only.
ANTHROPIC_API_URL = "https://api.anthropic.com"


class AnthropicProvider(Provider):
    kind = "anthropic"
    needs_key = True

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str = ANTHROPIC_API_URL,
        timeout: float = 120.0,
    ) -> None:
        super().__init__(model)
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            timeout=timeout,
            http_client=anthropic.DefaultAsyncHttpxClient(verify=tls_context()),
        )

    async def complete(self, request: CompletionRequest) -> Completion:
        params: dict[str, Any] = {
            "model": self.model,
            "system": request.system,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.schema is not None:
            params["tools"] = [
                {
                    "name": TOOL_NAME,
                    "description": "Submit the review.",
                    "input_schema": request.schema,
                }
            ]
            params["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        try:
            message = await self.client.messages.create(**params)
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            if status == 429 or status >= 500:
                retry_after = parse_retry_after(exc.response.headers.get("retry-after"))
                raise TransientError(
                    f"Anthropic answered HTTP {status}", retry_after=retry_after
                ) from exc
            if status in (401, 403):
                raise PermanentError(
                    f"Anthropic rejected the API key (HTTP {status}); "
                    "set a valid ANTHROPIC_API_KEY or SHIPORSKIP_ANTHROPIC_API_KEY"
                ) from exc
            if status == 404:
                raise PermanentError(
                    f"Anthropic has no model {self.model!r}; check SHIPORSKIP_MODEL"
                ) from exc
            raise PermanentError(f"Anthropic refused the request (HTTP {status})") from exc
        except anthropic.APITimeoutError as exc:
            raise TransientError("Anthropic timed out") from exc
        except anthropic.APIConnectionError as exc:
            raise TransientError("cannot reach the Anthropic API") from exc
        text = ""
        for block in message.content:
            if block.type == "tool_use":
                text = json.dumps(block.input)
                break
            if block.type == "text":
                text += block.text
        return Completion(
            text=text,
            model=message.model,
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
            finish_reason=message.stop_reason,
        )

    async def aclose(self) -> None:
        await self.client.close()
