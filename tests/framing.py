"""The in-process client checks framing as uvicorn would: a declared Content-Length must
match the body bytes sent.

Starlette's TestClient hands whatever body the app sends to the test, so a response that
declares 1,200 bytes and sends 900 passes there and arrives empty or cut through a real
server (commit ec85ea0). `tests/conftest.py` wraps the app of every TestClient in
`FramingCheck`; a mismatch is recorded and fails the test that caused it.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Answers that carry no body whatever Content-Length says (RFC 9110 8.6).
BODILESS = {204, 304}


class FramingCheck:
    """ASGI wrapper: records each HTTP response whose body length differs from its
    Content-Length, as one sentence naming the request."""

    def __init__(self, app: ASGIApp, problems: list[str]) -> None:
        self.app = app
        self.problems = problems

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        sent = 0
        checked = scope["method"] != "HEAD"
        target = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        )

        async def counting(message: Message) -> None:
            nonlocal declared, sent, checked
            if message["type"] == "http.response.start":
                length = Headers(raw=message.get("headers", [])).get("content-length")
                checked = checked and message["status"] not in BODILESS and length is not None
                declared = int(length) if checked and length is not None else None
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                done = not message.get("more_body", False)
                if checked and done and declared is not None and sent != declared:
                    self.problems.append(
                        f"{scope['method']} {target}: Content-Length {declared}, "
                        f"but the body sent was {sent} bytes"
                    )
            await send(message)

        await self.app(scope, receive, counting)
