"""Maker text is data, never instructions.

Descriptions, pricing notes and anything else a tool's maker wrote reach the critics only
after three steps: hidden text is removed (`clean`), attempts to instruct the reader are
detected and recorded on the tool (`find_injections`), and the text is fenced between
delimiters that carry a random nonce per call (`fence`), so no text written in advance
can close the fence.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

# Characters that render as nothing (or reorder what renders) and so can hide text from a
# human reviewer while a model still reads it.
_INVISIBLE = re.compile(
    "["
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
    "]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HTML_COMMENT = re.compile(r"<!--.*?(-->|$)", re.S)
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0(?![.\d])",
    re.I,
)
_VOID = {"br", "img", "hr", "meta", "link", "input", "source", "wbr", "area", "base", "col"}


class _VisibleText(HTMLParser):
    """Keep the text a browser would show; drop hidden elements, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        attributes = dict(attrs)
        hidden = (
            tag in ("script", "style", "template", "noscript")
            or "hidden" in attributes
            or attributes.get("aria-hidden") == "true"
            or bool(_HIDDEN_STYLE.search(attributes.get("style") or ""))
        )
        if self.hidden_depth or hidden:
            self.hidden_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth:
            self.out.append(data)


def clean(text: str) -> str:
    """Remove invisible characters, control characters, HTML comments and hidden markup."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    if "<" in text and re.search(r"<[a-zA-Z/!]", text):
        parser = _VisibleText()
        parser.feed(text)
        parser.close()
        text = "".join(parser.out)
    return re.sub(r"[ \t]+\n", "\n", text).strip()


@dataclass(frozen=True, slots=True)
class InjectionFlag:
    """A place where maker text tries to instruct the critics."""

    field: str
    reason: str
    excerpt: str

    def to_data(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "excerpt": self.excerpt}


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.I))
    for reason, pattern in (
        (
            "tells the reader to ignore its instructions",
            r"\b(ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}\b"
            r"(previous|prior|above|earlier|all|any|your|system|these|the)\b[^.\n]{0,30}\b"
            r"(instruction|prompt|rule|direction|guideline|message|context)s?",
        ),
        (
            "asks for a particular verdict or score",
            r"\b(vote|verdict|rate|rating|score|mark|grade|review)\b[^.\n]{0,30}"
            r"(\bship\b|\bskip\b|\b100\b|\b10\s*/\s*10\b|\bfive stars\b|\bmaximum\b|\bhighest\b|"
            r"\bperfect\b|\bpositive(ly)?\b)",
        ),
        (
            "addresses the reviewer as an AI",
            r"\b(as an ai|you are (now |an? )|dear (ai|assistant|model|reviewer|critic)s?|"
            r"(ai|llm|language model|assistant|critic)s?\s*(reading|reviewing) this|"
            r"note to (the )?(ai|llm|model|reviewer|critic)s?)",
        ),
        (
            "imitates a prompt role or delimiter",
            r"(<\|?/?\s*(system|assistant|user|im_start|im_end|endoftext)\s*\|?>|"
            r"^\s*(system|assistant)\s*:|\[/?(inst|sys)\]|<<<|>>>|"
            r"\b(begin|end)[\s_-]*(untrusted|system|instructions?|prompt)\b)",
        ),
        (
            "gives new instructions",
            r"\b(new|updated|real|actual|hidden|secret)\s+(instructions?|task|rules?|orders?)\b|"
            r"\b(respond|reply|answer|output|print|return)\s+(only|with|exactly)\b[^.\n]{0,40}"
            r"(json|verdict|ship|text|the following)",
        ),
        (
            "asks to reveal or change the prompt",
            r"\b(reveal|print|repeat|show|leak)\b[^.\n]{0,30}"
            r"\b(system prompt|instructions|prompt)\b|\bjailbreak\b|\bdeveloper mode\b",
        ),
    )
)


def find_injections(field: str, text: str) -> list[InjectionFlag]:
    """Flag text that tries to instruct the critics (checked on the raw and cleaned text)."""
    flags: list[InjectionFlag] = []
    raw = unicodedata.normalize("NFKC", text)
    visible = clean(text)
    hidden_removed = _INVISIBLE.sub("", raw) != raw or _HTML_COMMENT.search(raw) is not None
    if hidden_removed or (visible != raw.strip() and "<" in raw):
        flags.append(InjectionFlag(field, "contains hidden or invisible text", _excerpt(raw, 0)))
    candidates = (_INVISIBLE.sub("", raw), visible)
    seen: set[str] = set()
    for reason, pattern in _PATTERNS:
        for candidate in candidates:
            match = pattern.search(candidate)
            if match and reason not in seen:
                seen.add(reason)
                flags.append(InjectionFlag(field, reason, _excerpt(candidate, match.start())))
    return flags


def _excerpt(text: str, start: int, width: int = 80) -> str:
    begin = max(0, start - 10)
    snippet = _INVISIBLE.sub("", text[begin : begin + width]).replace("\n", " ")
    return ("…" if begin else "") + snippet + ("…" if begin + width < len(text) else "")


@dataclass(frozen=True, slots=True)
class Fence:
    """Delimiters with a per-call random nonce."""

    nonce: str

    @classmethod
    def new(cls) -> Fence:
        return cls(secrets.token_hex(8))

    @property
    def open_tag(self) -> str:
        return f"⟦maker-text {self.nonce}⟧"

    @property
    def close_tag(self) -> str:
        return f"⟦/maker-text {self.nonce}⟧"

    def wrap(self, field: str, text: str) -> str:
        """Fence one field; the nonce cannot occur inside, and look-alike brackets are defused."""
        body = clean(text).replace("⟦", "[").replace("⟧", "]")
        if self.nonce in body:  # only possible if the text already knew the nonce
            body = body.replace(self.nonce, "[removed]")
        return f"{self.open_tag} field={field}\n{body}\n{self.close_tag}"
