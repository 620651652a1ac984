"""What a setting accepts beyond its type: the rule each entry of the settings table declares.

A check takes the converted value and returns it in its normal form, or raises ValueError
whose text completes the sentence "SHIPORSKIP_X=value …": what is wrong, then the fix.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy.engine
import sqlalchemy.exc

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LOG_LEVELS = ("debug", "info", "warning", "error")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


@dataclass(frozen=True, slots=True)
class Rule:
    """Allowed values of one setting: a list of choices, a range, and/or a check."""

    choices: tuple[str, ...] = ()
    ge: float | None = None  # inclusive minimum
    gt: float | None = None  # exclusive minimum
    le: float | None = None  # inclusive maximum
    check: Callable[[Any], Any] | None = None
    allowed: str = ""  # how the docs describe what `check` accepts
    hint: str = ""  # appended to a range error, e.g. what 0 means

    def apply(self, value: Any) -> Any:
        """The value in normal form, or ValueError with what is wrong and the fix."""
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"is not a finite number; {self._range_fix()}")
        if self.choices:
            word = str(value).strip().lower()
            if word not in self.choices:
                raise ValueError(f"is not allowed; use {_either(self.choices)}")
            value = word
        if isinstance(value, int | float) and not isinstance(value, bool):
            low_ok = (self.ge is None or value >= self.ge) and (self.gt is None or value > self.gt)
            if not low_ok or (self.le is not None and value > self.le):
                problem = "is out of range" if self.le is not None else "is too small"
                raise ValueError(f"{problem}; {self._range_fix()}{self.hint}")
        if self.check is not None:
            value = self.check(value)
        return value

    def _range_fix(self) -> str:
        low = self.ge if self.ge is not None else self.gt
        if low is None and self.le is None:
            return "write a number such as 1.5"
        if self.gt is not None:
            most = f" and at most {_num(self.le)}" if self.le is not None else ""
            return f"use a number greater than {_num(self.gt)}{most}"
        if self.le is None:
            return f"use {_num(low)} or more"
        if low is None:
            return f"use {_num(self.le)} or less"
        return f"use a number from {_num(low)} to {_num(self.le)}"

    def describe(self) -> str:
        """What the rule accepts, as the docs show it."""
        if self.choices:
            return ", ".join(f"`{c}`" for c in self.choices)
        parts = []
        if self.gt is not None:
            parts.append(f"> {_num(self.gt)}")
        if self.ge is not None and self.le is not None:
            parts.append(f"{_num(self.ge)} to {_num(self.le)}")
        elif self.ge is not None:
            parts.append(f"≥ {_num(self.ge)}")
        elif self.le is not None:
            parts.append(f"≤ {_num(self.le)}")
        if self.allowed:
            parts.append(self.allowed)
        return "; ".join(parts)


def _num(value: float | None) -> str:
    return f"{value:g}" if value is not None else ""


def _either(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def time_of_day(value: str) -> str:
    """HH:MM (24 h) or off."""
    text = value.strip().lower()
    if text == "off":
        return text
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError("is not a time of day; write HH:MM from 00:00 to 23:59 (UTC), or off")
    return f"{int(match[1]):02d}:{match[2]}"


def web_url(value: str, *, optional: bool = False) -> str:
    """An absolute http(s) address with a host and no query, fragment or password."""
    text = value.strip()
    if optional and not text:
        return text
    fix = "write http(s)://HOST[:PORT][/PATH], e.g. https://verdicts.example.com"
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(f"is not a web address; {fix}")
    if any(c.isspace() for c in text) or parts.username or parts.password:
        raise ValueError(f"is not a plain web address (spaces or a password); {fix}")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError(f"has a query or fragment, which links would break on; {fix}")
    return text


def optional_web_url(value: str) -> str:
    return web_url(value, optional=True)


def host_name(value: str) -> str:
    text = value.strip()
    if not text or any(c.isspace() or c in "/@?#" for c in text):
        raise ValueError("is not a host name or address; write e.g. 127.0.0.1 or 0.0.0.0")
    return text


def mail_address(value: str) -> str:
    """One address, with an optional display name."""
    try:
        message = EmailMessage(policy=default_policy)
        message["From"] = value
        addresses = message["From"].addresses
    except (ValueError, IndexError, TypeError):
        addresses = ()
    if len(addresses) != 1 or "@" not in addresses[0].addr_spec:
        raise ValueError(
            "is not one mail address; write e.g. Weekly verdicts <verdicts@example.com>"
        )
    return value


def database_url(value: str) -> str:
    if not value.strip():
        return ""
    try:
        sqlalchemy.engine.make_url(value.strip())
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise ValueError(
            "is not a database URL; write sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, "
            "or leave it empty for SQLite in the data dir"
        ) from None
    return value.strip()


def price_json(value: str) -> str:
    if not value.strip():
        return value
    fix = 'is not a price table; write JSON like {"model-name": [0.5, 1.5]} (USD per 1M tokens)'
    try:
        table = json.loads(value)
        if not isinstance(table, dict):
            raise ValueError
        for pair in table.values():
            low, high = (float(x) for x in pair)
            if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high < 0:
                raise ValueError
    except (ValueError, TypeError):
        raise ValueError(fix) from None
    return value


def long_secret(value: str) -> str:
    """Empty, or at least 16 characters (a short password is worse than none)."""
    if value and len(value) < 16:
        raise ValueError("is shorter than 16 characters; use at least 16 random characters")
    return value


def model_spec(value: str) -> str:
    """KIND:MODEL with a known kind; empty until an operator picks a model."""
    text = value.strip()
    if not text:
        return text
    # The kinds live with the providers, which import this package's settings.
    from shiporskip.llm.registry import KINDS

    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS or not rest.strip():
        raise ValueError(
            f"is not a model; write KIND:MODEL with KIND one of {', '.join(KINDS)} "
            "(e.g. openai:gpt-4o-mini)"
        )
    return text


def existing_dir(value: str) -> str:
    text = value.strip()
    if text and not Path(text).expanduser().is_dir():
        raise ValueError("is not a directory; create it or leave the setting empty")
    return text


# The public address: where links point when base_url is not set, and whether a configured
# base_url reaches this server.

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def derived_base_url(host: str, port: int) -> str:
    """The address links point at when base_url is not set: the listen address and port."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:  # 0.0.0.0 or ::, not an address a browser can open
        address = ipaddress.ip_address("127.0.0.1")
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{shown}:{port}"


def base_url_reaches(base_url: str, host: str, port: int) -> bool:
    """Whether base_url names the address and port a server on host:port listens on."""
    parts = urlsplit(base_url)
    default_port = 443 if parts.scheme == "https" else 80
    if (parts.port or default_port) != port:
        return False
    listen = host.strip("[]").lower()
    named = (parts.hostname or "").lower()
    if listen in ("0.0.0.0", "::") or named == listen:  # noqa: S104 (comparing, not binding)
        return True
    return named in LOOPBACK_NAMES and listen in LOOPBACK_NAMES


# API keys. Where each key may be sent is the LLM registry's decision; here only its shape,
# and no message ever repeats a key or a server address (which may carry a password).

OPENAI_HOST = "api.openai.com"
SERVER_KEYS_FIX = "write URL=KEY pairs separated by ';', e.g. http://10.0.0.5:8000/v1=TOKEN"


def api_key(value: str) -> str:
    """Empty (the provider's usual variable is read instead) or one token without spaces."""
    text = value.strip()
    if value and not text:
        raise ValueError("is only spaces; set the key itself, or leave it empty")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise ValueError(
            "is not an API key (it has spaces or line breaks inside); set the key alone"
        )
    return text


def parse_server_keys(value: str) -> list[tuple[str, str]]:
    """(base URL, key) pairs from `URL=KEY; URL=KEY`, or ValueError naming the entry by number."""
    pairs = []
    entries = [e.strip() for e in value.split(";") if e.strip()]
    for number, entry in enumerate(entries, 1):
        url, sep, key = entry.partition("=")
        url = url.strip().rstrip("/")
        try:
            web_url(url)
            api_key(key)
            ok = bool(sep and key.strip())
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"has an entry ({number}) that is not URL=KEY; {SERVER_KEYS_FIX}")
        if (urlsplit(url).hostname or "").lower() == OPENAI_HOST:
            raise ValueError(
                f"has an entry ({number}) for {OPENAI_HOST}; set that key in openai_api_key"
            )
        pairs.append((url, key.strip()))
    return pairs


def server_keys(value: str) -> str:
    return "; ".join(f"{url}={key}" for url, key in parse_server_keys(value))


# Proxies whose X-Forwarded-For is believed (web/proxies.py).

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NETWORKS_FIX = "list IP addresses or CIDR networks separated by commas, e.g. 127.0.0.1, 10.0.0.0/8"


def parse_networks(value: str) -> list[Network]:
    """The networks of a comma-separated list of addresses and CIDR networks."""
    networks = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            raise ValueError(
                f"has {entry!r}, which is not an IP address or network; {NETWORKS_FIX}"
            ) from None
    return networks


def ip_networks(value: str) -> str:
    found = parse_networks(value)
    return ", ".join(str(n.network_address if n.num_addresses == 1 else n) for n in found)
