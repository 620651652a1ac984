"""Pages rendered once for every visitor, then filled in for each one.

A public page is the same for everybody except three small parts: the vote forms' CSRF
token (bound to the visitor id), which button the visitor has pressed on each vote box,
and the newsletter form's signed token. Templates render those parts as placeholders;
`SharedPage` keeps the rendered bytes split at them, and `fill` puts in one visitor's
values, so a page can be cached once and served to anyone. Placeholders begin with a
random prefix made per process, so maker text that imitates one stays plain text.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from shiporskip.newsletter.tokens import FORM_MAX_AGE

# A cached newsletter token must stay younger than its maximum age: a page's tag changes
# every half of that age.
TOKEN_PERIOD = FORM_MAX_AGE // 2
CHOICE_TEMPLATE = "_partials/vote_choice.html"
CSRF, NEWSLETTER, CHOICE = b"csrf", b"newsletter", b"choice"


class Marks:
    """The placeholders of this process."""

    def __init__(self) -> None:
        prefix = "sos" + secrets.token_hex(8)
        self.csrf = f"{prefix}:csrf::"
        self.newsletter = f"{prefix}:newsletter::"
        self._choice = f"{prefix}:choice:"
        self.pattern = re.compile(rf"{prefix}:(csrf|newsletter|choice):([a-z0-9-]*):".encode())

    def choice(self, slug: str) -> str:
        """Where the visitor's Ship/Skip buttons for a tool go."""
        return f"{self._choice}{slug}:"


@dataclass(frozen=True, slots=True)
class Visitor:
    """One visitor's values for the placeholders of a page."""

    voter: str | None  # None when the page has nothing bound to a visitor
    new: bool  # the id was made for this request: its cookie must be sent
    votes: Mapping[str, str]  # slug -> "ship" | "skip", for the page's vote boxes
    csrf: str
    newsletter: str


@dataclass(frozen=True, slots=True)
class SharedPage:
    """A rendered page split at its placeholders: literal, kind, argument, literal, ..."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # of the response, without content-length
    pieces: tuple[bytes, ...]
    slugs: tuple[str, ...]  # tools with a vote box on the page
    needs_voter: bool  # the page has a CSRF token or a vote box
    has_tokens: bool  # the page has a signed, timestamped form token
    digest: bytes  # of the bytes as rendered, placeholders included (kept pages only)
    size: int  # bytes held, for the cache's memory bound
    shows_votes: bool  # community vote counts are on the page

    @classmethod
    def parse(
        cls,
        marks: Marks,
        body: bytes,
        status: int,
        headers: list[tuple[bytes, bytes]],
        shows_votes: bool = True,
        kept: bool = True,
    ) -> SharedPage:
        """Split a rendered body; `kept=False` for a page filled once and sent, which needs
        no digest (its tag is a hash of the filled body)."""
        pieces = tuple(marks.pattern.split(body))
        kinds = pieces[1::3]
        args = pieces[2::3]
        slugs = tuple(
            dict.fromkeys(a.decode() for k, a in zip(kinds, args, strict=True) if k == CHOICE)
        )
        described = tuple((k, v) for k, v in headers if k.lower() != b"content-length")
        return cls(
            status=status,
            headers=described,
            pieces=pieces,
            slugs=slugs,
            needs_voter=bool(slugs) or CSRF in kinds,
            has_tokens=CSRF in kinds or NEWSLETTER in kinds,
            digest=hashlib.blake2b(body, digest_size=16).digest() if kept else b"",
            size=len(body) + 64 * len(pieces) + 256,
            shows_votes=shows_votes or bool(slugs),
        )

    def fill(self, visitor: Visitor, choices: Mapping[str | None, bytes]) -> bytes:
        """The page as this visitor sees it."""
        pieces = self.pieces
        out = [pieces[0]]
        csrf = visitor.csrf.encode()
        newsletter = visitor.newsletter.encode()
        for i in range(1, len(pieces), 3):
            kind = pieces[i]
            if kind == CSRF:
                out.append(csrf)
            elif kind == NEWSLETTER:
                out.append(newsletter)
            else:
                out.append(choices[visitor.votes.get(pieces[i + 1].decode())])
            out.append(pieces[i + 2])
        return b"".join(out)

    def etag(self, visitor: Visitor, now: float | None = None) -> bytes:
        """A strong tag that changes whenever this visitor's copy would differ in substance.

        The signed tokens differ on every fill (they carry a timestamp) yet stay valid, so
        the tag covers what they are bound to instead: the visitor id and the current half
        of the newsletter token's lifetime.
        """
        digest = hashlib.blake2b(self.digest, digest_size=16)
        if self.needs_voter:
            mine = ",".join(f"{s}={visitor.votes.get(s, '')}" for s in self.slugs)
            digest.update(f"\n{visitor.voter}\n{mine}".encode())
        if self.has_tokens:
            period = int(time.time() if now is None else now) // TOKEN_PERIOD
            digest.update(f"\n{period}".encode())
        return b'"' + digest.hexdigest().encode() + b'"'
