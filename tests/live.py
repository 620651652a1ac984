"""The real server as people meet it: `shiporskip serve` (uvicorn) in its own process.

`LiveServer` starts the installed `shiporskip` command on a free port with its own data
dir and only the settings a test gives it, waits for `/healthz`, and on the way out stops
it and fails the test if the server logged a traceback or an HTTP framing error (the
in-process client hides both).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx
import pytest

COMMAND = Path(sys.executable).with_name("shiporskip")
# What uvicorn or the app writes when a response went wrong on the wire.
LOG_FAILURES = ("Traceback", "LocalProtocolError", "Exception in ASGI application")

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """`shiporskip serve` on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(
        self,
        data_dir: Path,
        settings: Mapping[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
        self.env["SHIPORSKIP_DATA_DIR"] = str(data_dir)
        for name, value in (settings or {}).items():
            self.env[f"SHIPORSKIP_{name.upper()}"] = value
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [str(COMMAND), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, so `stop` can end worker processes the server
                # left behind (uvicorn's workers outlive a parent that was killed).
                start_new_session=True,
            )
        self._wait_for_health()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if kind is None:
            self.assert_clean_log()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Workers still running once the server is gone were left behind: end them too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_clean_log(self) -> None:
        """No traceback and no framing error in the server's log."""
        text = self.log()
        found = [marker for marker in LOG_FAILURES if marker in text]
        assert not found, f"the server logged {found}:\n{text[-6000:]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def _wait_for_health(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"the server did not answer /healthz within 60 s:\n{self.log()}")


def assert_whole(response: httpx.Response) -> None:
    """The body arrived complete: as many bytes as the server declared."""
    declared = response.headers.get("content-length")
    if declared is not None and response.request.method != "HEAD" and response.status_code != 304:
        assert int(declared) == len(response.content), (
            f"{response.request.method} {response.url}: declared {declared} bytes, "
            f"got {len(response.content)}"
        )


# Paths other sites may frame (the embed widget, the badge).
FRAMED_PATHS = ("/embed/", "/badge/")


def assert_security_headers(response: httpx.Response, https: bool = False) -> None:
    """The headers every answer carries (`web/headers.py`): a Content-Security-Policy that
    runs no inline script, nosniff, a Referrer-Policy, framing refused except for embeds,
    and HSTS when (and only when) the site's base_url is `https`."""
    where = f"{response.request.method} {response.url} ({response.status_code})"
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy"), where
    policy = headers.get("content-security-policy", "")
    directives = {p.split()[0]: p.split()[1:] for p in policy.split(";") if p.strip()}
    assert "default-src" in directives, f"{where}: policy {policy!r}"
    scripts = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert directives.get("object-src", directives["default-src"]) == ["'none'"], where
    assert directives.get("base-uri") == ["'none'"], where
    assert "form-action" in directives, where
    if response.url.path.startswith(FRAMED_PATHS):
        assert directives.get("frame-ancestors") != ["'none'"], where
        assert "x-frame-options" not in headers, where
    else:
        assert directives.get("frame-ancestors") == ["'none'"], where
        assert headers.get("x-frame-options") == "DENY", where
    hsts = headers.get("strict-transport-security")
    assert hsts == ("max-age=31536000" if https else None), f"{where}: HSTS {hsts!r}"


@contextlib.contextmanager
def seeded_site(
    database: str,
    data_dir: Path,
    settings: Mapping[str, str],
    seed: Callable[[Path, str | None], T],
) -> Iterator[tuple[LiveServer, T]]:
    """A real server on `database` ("sqlite", or "postgresql" in a schema of its own),
    with what `seed(data_dir, database_url)` wrote before it started."""
    from tests.conftest import postgres_schema_url  # conftest imports this module's users

    schemas = postgres_schema_url() if database == "postgresql" else None
    database_url = next(schemas) if schemas else None
    try:
        seeds = seed(data_dir, database_url)
        if database_url:
            settings = {**settings, "database_url": database_url}
        with LiveServer(data_dir, settings) as server:
            yield server, seeds
    finally:
        if schemas is not None:
            schemas.close()
