"""Fixtures for end-to-end tests against a real local LLM (llama.cpp) on a tiny model.

Needs the `local` extra (llama-cpp-python[server]) and the dev group (gguf): both are
installed by `uv sync --all-extras`. Without them these tests skip, except in CI
(CI=true), where they fail: CI must run them.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
SERVER_START_TIMEOUT = 60.0


def require_llm_packages() -> None:
    """Skip (or, in CI, fail) when llama-cpp-python or gguf is not installed."""
    missing = [name for name in ("llama_cpp", "gguf") if importlib.util.find_spec(name) is None]
    if not missing:
        return
    message = (
        f"{' and '.join(missing)} not importable: install with "
        "`uv sync --all-extras` (extra `local` and the dev group)"
    )
    if IN_CI:
        pytest.fail(f"{message}; the local-LLM tests are required in CI (CI=true)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random llama model in GGUF format, built once per session."""
    require_llm_packages()
    from tests.llm.tinymodel import build_tiny_gguf

    return build_tiny_gguf(tmp_path_factory.mktemp("tiny-llm") / "tiny.gguf")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def llama_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the tiny model.

    Yields the base URL for an OpenAI client, like "http://127.0.0.1:PORT/v1".
    """
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(tiny_gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "8192",  # the review prompt is a few thousand byte-level tokens for this tokenizer
    ]
    base_url = f"http://127.0.0.1:{port}/v1"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while not _server_answers(f"{base_url}/models"):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = log_path.read_text(errors="replace")[-4000:]
                    pytest.fail(
                        f"llama_cpp.server did not answer on {base_url} "
                        f"(exit code {process.poll()}):\n{output}"
                    )
                time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
