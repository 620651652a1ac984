"""Pages that are the same bytes for every visitor, so any cache may keep them.

A shared page (`Site.render(..., shared=True)`: tool, compare, home, critics, categories,
methodology, the tools index, search) carries nothing about who asks: no CSRF token, no
pressed vote button, no signed form token, no cookie. The visitor's own state comes from
`GET /api/v1/me`, which `static/site.js` calls; forms posted from these pages are checked by
their Origin instead of a token (`identity.check_origin`). So the page goes out with
`Cache-Control: public, s-maxage=…` and a strong ETag that is a hash of its bytes, and a
proxy cache or CDN in front may serve it to anyone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shiporskip.settings import Settings


def cache_control(settings: Settings) -> str:
    """What a shared page tells caches: shared caches may keep it `shared_cache_seconds` and
    serve it stale `shared_stale_seconds` more while they refetch; browsers revalidate."""
    fresh = settings.shared_cache_seconds
    if not fresh:
        return "no-cache"
    value = f"public, max-age=0, s-maxage={fresh}"
    if settings.shared_stale_seconds:
        value += f", stale-while-revalidate={settings.shared_stale_seconds}"
    return value


def entity_tag(body: bytes) -> bytes:
    """The strong ETag of a body: a hash of its bytes."""
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


@dataclass(frozen=True, slots=True)
class SharedPage:
    """A rendered shared page as the page cache keeps and sends it."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # of the response, ETag included
    body: bytes
    etag: bytes
    size: int  # bytes held, for the cache's memory bound
    shows_votes: bool  # community vote counts are on the page

    @classmethod
    def of(
        cls, body: bytes, status: int, headers: list[tuple[bytes, bytes]], shows_votes: bool
    ) -> SharedPage:
        tag = entity_tag(body)
        kept = tuple((k, v) for k, v in headers if k.lower() not in (b"etag", b"content-length"))
        return cls(
            status=status,
            headers=(*kept, (b"etag", tag)),
            body=body,
            etag=tag,
            size=len(body) + 512,
            shows_votes=shows_votes,
        )
