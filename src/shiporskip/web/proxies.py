"""The client's address: the connection's peer, or what a trusted proxy says it is.

Per-address limits (votes, submissions, sign-in and newsletter mails, admin token guesses)
and the vote audit log key on this address, so no header a client can write may decide it.
X-Forwarded-For and X-Forwarded-Proto are read only when the peer is listed in the
`trusted_proxies` setting (addresses or CIDR networks; empty by default, so never). Each proxy
appends the address it saw, so the client is the right-most address in X-Forwarded-For that
is not a trusted proxy: whatever a client wrote in the header itself stays to the left of it.

`shiporskip serve` turns uvicorn's own reading of these headers off (uvicorn trusts them
from loopback by default, which a proxy-less server would believe from anyone on the
machine); this middleware applies `trusted_proxies` instead, under any ASGI server. Run
under uvicorn directly, pass `--no-proxy-headers` for the same reason.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shiporskip.settings_checks import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
WEBSOCKET = {"http": "ws", "https": "wss"}


def client_address(request: Request) -> str:
    """The address per-client limits and the audit log use (see the module docstring)."""
    return request.client.host if request.client else "unknown"


def _address(text: str) -> Address | None:
    """An address as a peer or X-Forwarded-For names it (maybe with a port), else None."""
    text = text.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class ForwardedClient:
    """ASGI middleware: a trusted proxy's X-Forwarded-For and -Proto become the client's."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def _trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    def client(self, forwarded_for: str) -> Address | None:
        """The right-most address that is not a trusted proxy (all trusted: the left-most)."""
        chain = [_address(part) for part in forwarded_for.split(",") if part.strip()]
        for address in reversed(chain):
            if not self._trusts(address):
                return address  # None: a proxy passed on garbage; keep the peer
        return chain[0] if chain else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and peer and self._trusts(_address(peer[0])):
            self._apply(scope)
        await self.app(scope, receive, send)

    def _apply(self, scope: Scope) -> None:
        forwarded: list[str] = []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == "http" else WEBSOCKET[proto]
        if forwarded:
            address = self.client(",".join(forwarded))
            if address is not None:
                scope["client"] = (str(address), 0)
