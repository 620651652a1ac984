"""Names, slugs, URLs and maker text: the normal forms that decide when two records are one
product, and what text from outside may hold."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 64
EXCERPT = 80
URL_MAX = 500  # the homepage column's width

# C0 and C1 control characters break XML (the feed, badges) and terminals; bidi overrides
# and isolates reorder what a reader sees; zero-width characters hide text. None belongs in
# maker text. U+FFFE and U+FFFF are not characters at all (and not allowed in XML).
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff"
_HIDDEN = "\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069"
_UNSHOWABLE = re.compile(f"[{_CONTROLS}{_HIDDEN}]")
_LINE_BREAKS = re.compile(r"\r\n?|[\t\n]")


def visible_text(text: str, *, multiline: bool = True) -> str:
    """Text without control, bidi-override or zero-width characters. Multi-line text keeps
    tabs and line breaks (as \\n); a single line gets a space for each."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = _LINE_BREAKS.sub(" ", text)
    return _UNSHOWABLE.sub("", text)


def shown(value: object) -> object:
    """A value as a template prints it (a Jinja `finalize`): text without the characters
    `visible_text` removes; markup stays markup (removing characters adds no markup)."""
    if isinstance(value, str) and value.isprintable():
        # Every character removed is unprintable (a control, a format character, a
        # non-character), so printable text is shown as it is: most of what a page prints,
        # a few hundred values, without a regex pass each.
        return value
    if hasattr(value, "__html__"):
        kind: Any = type(value)  # markupsafe.Markup, whose constructor takes the text
        return kind(visible_text(str(value)))
    return visible_text(value) if isinstance(value, str) else value


def has_unshowable(text: str) -> bool:
    """Whether text holds a control, bidi-override or zero-width character, or a line break."""
    return bool(_UNSHOWABLE.search(text)) or bool(_LINE_BREAKS.search(text))


def scrub_url(value: object) -> object:
    """A stored address with what `check_url` now refuses taken out (rows written before)."""
    return _LINE_BREAKS.sub("", _UNSHOWABLE.sub("", value)) if isinstance(value, str) else value


def excerpt(text: str, width: int = EXCERPT) -> str:
    """At most `width` characters of text an error message quotes, '…' marking a cut."""
    return text if len(text) <= width else text[:width] + "…"


def _cleaned(multiline: bool) -> BeforeValidator:
    return BeforeValidator(
        lambda v: visible_text(v, multiline=multiline) if isinstance(v, str) else v
    )


# Maker text as it is accepted: cleaned at the boundary, whatever the source (an import, a
# submission, an admin edit, a stored row read back).
CLEAN_LINE = _cleaned(multiline=False)
CLEAN_TEXT = _cleaned(multiline=True)
MakerLine = Annotated[str, CLEAN_LINE]
MakerText = Annotated[str, CLEAN_TEXT]
# An optional field's length limit goes inside the cleaning, or pydantic reports it as a
# count of "items": `Annotated[Annotated[str, Field(max_length=60)], CLEAN_LINE] | None`.


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
            f"slug {excerpt(slug)!r} may hold only lowercase letters, digits and single hyphens, "
            f"e.g. {slugify(slug) or 'my-tool'!r}"
        )
    if len(slug) > SLUG_MAX:
        raise ValueError(f"slug {excerpt(slug)!r} is longer than {SLUG_MAX} characters")
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
    """Accept an absolute http(s) URL with a host, and nothing hidden in it."""
    shown = excerpt(value.strip())
    if has_unshowable(value.strip()):
        raise ValueError(
            f"{visible_text(shown)!r} holds a control, invisible or direction-changing "
            "character; type the address again by hand"
        )
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or " " in value.strip():
        raise ValueError(f"{shown!r} is not a web address; write it as https://example.com/…")
    if len(value.strip()) > URL_MAX:
        raise ValueError(f"{shown!r} is longer than {URL_MAX} characters; use a shorter address")
    if not host.isascii() and any(not ch.isprintable() for ch in host):
        raise ValueError(f"the host of {shown!r} holds unprintable characters; fix the address")
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
