"""Names, slugs and URLs: the normal forms that decide when two records are one product."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 64


def slugify(text: str) -> str:
    """A URL slug from a name: 'Claude Sonnet 4' -> 'claude-sonnet-4'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = ascii_text.lower().replace("+", " plus ").replace("&", " and ")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    # "-vs-" is reserved for comparison URLs (/compare/a-vs-b).
    slug = re.sub(r"(^|-)vs(-|$)", r"\1versus\2", slug)
    return slug[:SLUG_MAX].rstrip("-")


def check_slug(slug: str) -> str:
    """Return the slug if it is valid, else raise ValueError naming the rule it breaks."""
    if not SLUG_RE.match(slug):
        raise ValueError(
            f"slug {slug!r} may hold only lowercase letters, digits and single hyphens, "
            f"e.g. {slugify(slug) or 'my-tool'!r}"
        )
    if len(slug) > SLUG_MAX:
        raise ValueError(f"slug {slug!r} is longer than {SLUG_MAX} characters")
    if re.search(r"(^|-)vs(-|$)", slug):
        raise ValueError(
            f"slug {slug!r} contains 'vs', which is reserved for comparison pages; "
            f"use e.g. {slugify(slug)!r}"
        )
    return slug


def name_key(name: str) -> str:
    """The normalised name two records must not share: case, spaces and punctuation ignored."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", folded)


def check_url(value: str) -> str:
    """Accept an absolute http(s) URL with a host."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value.strip():
        raise ValueError(f"{value!r} is not a web address; write it as https://example.com/…")
    return value.strip()


WebUrl = Annotated[str, AfterValidator(check_url)]


def homepage_key(url: str) -> str:
    """The identity of a homepage: host without 'www.' plus path, case and slashes ignored.

    Vendors host many products on one domain (openai.com/index/gpt-4o, openai.com/codex) and
    model hubs host thousands (huggingface.co/org/model), so the path is part of the key;
    two homepages that differ only by 'www.', scheme, query, fragment or a trailing slash
    are the same product.
    """
    parts = urlsplit(url.strip().lower())
    host = (parts.hostname or "").removeprefix("www.")
    path = re.sub(r"/+", "/", parts.path).rstrip("/")
    for suffix in ("/index.html", "/index.htm"):
        path = path.removesuffix(suffix)
    return host + path


def domain_of(url: str) -> str:
    """The host of a URL without 'www.'."""
    return (urlsplit(url.strip().lower()).hostname or "").removeprefix("www.")
