"""Request bodies through the real server: too large is refused while it arrives, not after.

An unauthenticated POST of many megabytes to a small form must not be read into memory:
with a Content-Length over the limit it is answered 413 at once, and a chunked body (no
Content-Length) is answered 413 as soon as it passes the limit. The server's peak memory
(VmHWM of the `shiporskip serve` process) shows whether the body was buffered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer, assert_whole

MB = 1024 * 1024
BIG = 20 * MB
# Allocator noise and a few rendered pages; a buffered 20 MB body costs at least 20 MB.
MARGIN = 8 * MB
LIMITS = {
    "/signin": "2 KB",
    "/newsletter": "4 KB",
    "/api/v1/newsletter": "4 KB",
    "/api/v1/tools/alpha/vote": "2 KB",
}
SMALL_ROUTES = tuple(LIMITS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("limits"), {"load_sample": "no"}) as live:
        yield live


def peak_memory(server: LiveServer) -> int:
    """The serve process's peak resident memory in bytes, after resetting the peak."""
    assert server.process is not None
    proc = Path(f"/proc/{server.process.pid}")
    (proc / "clear_refs").write_text("5")  # 5: reset the peak (VmHWM) to the current RSS
    return _hwm(proc)


def _hwm(proc: Path) -> int:
    for line in (proc / "status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


def growth(server: LiveServer, before: int) -> int:
    assert server.process is not None
    return _hwm(Path(f"/proc/{server.process.pid}")) - before


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


def post(server: LiveServer, path: str, content: bytes | Iterator[bytes]) -> httpx.Response:
    """POST a body; the server may close the connection before reading all of it."""
    kind = "application/json" if path.startswith("/api/") else "application/x-www-form-urlencoded"
    with httpx.Client(timeout=60) as client:
        response = client.post(server.url(path), content=content, headers={"content-type": kind})
    assert_whole(response)
    return response


def assert_refusal(response: httpx.Response, path: str, limit: str) -> None:
    assert response.status_code == 413, response.text[:500]
    if path.startswith("/api/"):
        error = response.json()["error"]
    else:
        assert response.headers["content-type"].startswith("text/html")
        error = response.text
    assert f"larger than {limit}" in error and "send a shorter one" in error


@pytest.mark.parametrize("path", SMALL_ROUTES)
def test_a_huge_declared_body_is_refused_unread(server: LiveServer, path: str) -> None:
    before = peak_memory(server)
    response = post(server, path, b"x" * BIG)
    grew = growth(server, before)
    assert grew < MARGIN, f"the server grew by {grew // 1024} KB for a refused body"
    assert_refusal(response, path, LIMITS[path])


@pytest.mark.parametrize("path", SMALL_ROUTES)
def test_a_huge_chunked_body_is_refused_as_it_arrives(server: LiveServer, path: str) -> None:
    before = peak_memory(server)
    response = post(server, path, chunks(BIG))
    grew = growth(server, before)
    assert grew < MARGIN, f"the server grew by {grew // 1024} KB for a refused body"
    assert_refusal(response, path, LIMITS[path])


def test_every_route_has_the_ceiling(server: LiveServer) -> None:
    """A route that declares no smaller limit still refuses more than max_body_kb."""
    before = peak_memory(server)
    response = post(server, "/api/v1/no-such-route", b"x" * BIG)
    assert_refusal(response, "/api/", "1024 KB")
    assert growth(server, before) < MARGIN


def test_max_body_kb_lowers_the_ceiling(tmp_path: Path) -> None:
    settings = {"load_sample": "no", "max_body_kb": "64"}
    with LiveServer(tmp_path / "data", settings) as live:
        refused = post(live, "/no-such-page", b"name=" + b"x" * (70 * 1024))
        small = post(live, "/signin", b"x" * 3000)
    assert_refusal(refused, "/no-such-page", "64 KB")
    assert_refusal(small, "/signin", "2 KB")


def test_a_small_body_still_reaches_the_route(server: LiveServer) -> None:
    response = post(server, "/api/v1/newsletter", b'{"email": "not an address"}')
    assert response.status_code == 422, response.text
