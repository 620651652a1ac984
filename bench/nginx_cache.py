"""nginx in front: the documented proxy_cache against nginx serving the same bytes as files.

Side by side in one run, with wrk (one thread, 32 connections) on the tool and compare
pages of the sample catalog:

- **static**: nginx serving the two pages' bytes from disk (its best case for these bytes);
- **proxy_cache**: the nginx block of docs/deploy.md, as written except for addresses and
  paths, in front of one `shiporskip serve` (same nginx, same worker count);
- **app alone**: `shiporskip serve` (page cache on) with no proxy, and the same app under
  uvicorn with `--loop asyncio --http h11` and with `--loop uvloop --http httptools`.

Ratios: proxy_cache ÷ static (target ≥ 0.5), app alone ÷ static, uvloop+httptools ÷
asyncio+h11. The proxy only reaches the target if the app's pages say a shared cache may keep
them (`Cache-Control: public, s-maxage=…`, no Set-Cookie); the result records the header and
what nginx did (`X-Cache-Status`) so a figure is never read without it.

The nginx helpers here (`site_config`, `Nginx`) are also what tests/multinode uses: both run
the configuration the deploy guide gives, so the guide cannot drift from what is tested.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ROOT = Path(__file__).parents[1]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
MARKER = "<!-- deploy-nginx:"
TOOL = "/tools/claude-sonnet-4"
COMPARE = "/compare/claude-sonnet-4-vs-smolvlm2-2b"
PAGES = {"tool": TOOL, "compare": COMPARE}
CONCURRENCY = 32
SECONDS = 4
WARMUP = 1


# -- nginx ---------------------------------------------------------------------------------


def nginx_binary() -> str | None:
    """nginx on PATH, or where Debian puts it (/usr/sbin is not on every user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def documented_config() -> str:
    """The nginx block of docs/deploy.md, as written there."""
    text = DEPLOY_DOC.read_text()
    start = text.index(MARKER)
    match = re.search(r"```nginx\n(.*?)```", text[start:], re.S)
    if match is None:
        raise RuntimeError(f"no ```nginx block after {MARKER!r} in {DEPLOY_DOC}")
    return match.group(1)


def _replace(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.M)
    if count == 0:
        raise RuntimeError(f"docs/deploy.md's nginx block has no {pattern!r}: update {__name__}")
    return new


def site_config(nodes: Sequence[str], port: int, cache_dir: Path) -> str:
    """The documented block with its upstream servers replaced by `nodes` (host:port), its
    listen address by 127.0.0.1:`port` and its cache path by `cache_dir`; nothing else."""
    text = documented_config()
    servers = re.findall(r"^(\s*)server (\S+?:\d+)( [^;]*)?;\n", text, re.M)
    if not servers:
        raise RuntimeError("docs/deploy.md's nginx block has no upstream servers")
    indent, _, options = servers[0]
    lines = "".join(f"{indent}server {node}{options};\n" for node in nodes)
    text = re.sub(r"^\s*server \S+?:\d+( [^;]*)?;\n", "", text, flags=re.M)
    text = _replace(text, r"^(upstream \S+ \{\n)", r"\g<1>" + lines.replace("\\", "\\\\"))
    text = _replace(text, r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{port};")
    return _replace(text, r"/var/cache/nginx/shiporskip", str(cache_dir))


def static_config(port: int, root: Path) -> str:
    """nginx serving the files in `root` as they are."""
    return (
        f"server {{\n    listen 127.0.0.1:{port};\n    root {root};\n"
        "    location / { default_type text/html; }\n}\n"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Nginx:
    """nginx with its own prefix, configuration, pid file, logs and temp dirs under `root`,
    in the foreground (`daemon off`) so it is ours to stop; no root needed. `servers` are
    `http`-context blocks; `ports` are waited for before the block is entered."""

    def __init__(
        self, root: Path, servers: Sequence[str], ports: Sequence[int], workers: int = 1
    ) -> None:
        self.root = root
        self.servers = servers
        self.ports = ports
        self.workers = workers
        self.error_log = root / "error.log"
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        root = self.root
        # Started by root, nginx would run its workers as `nobody`, who cannot read a temp
        # dir made by root; run them as whoever starts it.
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "".join(
            f"    {name}_temp_path {root / 'tmp' / name};\n"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"{user}daemon off;\nworker_processes {self.workers};\npid {root / 'nginx.pid'};\n"
            f"error_log {self.error_log} warn;\n"
            "events { worker_connections 4096; }\n"
            "http {\n"
            f"    access_log off;\n{temp}"
            + "".join(f"    include {root / f'site{i}.conf'};\n" for i in range(len(self.servers)))
            + "}\n"
        )

    def __enter__(self) -> Nginx:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        for i, block in enumerate(self.servers):
            (self.root / f"site{i}.conf").write_text(block)
        conf = self.root / "nginx.conf"
        conf.write_text(self.config())
        command = [binary, "-p", f"{self.root}/", "-c", str(conf), "-e", str(self.error_log)]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration:\n{check.stderr}")
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 20
        waiting = list(self.ports)
        while waiting:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not start:\n{self.log()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", waiting[0])) == 0:
                    waiting.pop(0)
                    continue
            time.sleep(0.05)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

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
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def log(self) -> str:
        return self.error_log.read_text(errors="replace") if self.error_log.exists() else ""


# -- the bench -----------------------------------------------------------------------------


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server behind {url} did not start")
        time.sleep(0.2)


@contextlib.contextmanager
def _server(command: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wrk(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Requests per second from wrk (one thread, CONCURRENCY connections) after a warm-up."""
    args = ["wrk", "-t1", f"-c{CONCURRENCY}", "--timeout", "30s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    subprocess.run([*args, f"-d{WARMUP}s", url], capture_output=True, check=True)
    out = subprocess.run(
        [*args, f"-d{SECONDS}s", url], capture_output=True, text=True, check=True
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(rps.group(1)), "bad_status": int(bad.group(1)) if bad else 0}


def _visitor(base: str) -> dict[str, str]:
    """A returning visitor's cookie, as a reader who voted once sends it with every page."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/api/v1/session").raise_for_status()
        return {"Cookie": f"sos_voter={client.cookies['sos_voter']}"}


def run() -> dict[str, Any]:
    if nginx_binary() is None or shutil.which("wrk") is None:
        return {"skipped": "needs nginx and wrk (apt-get install nginx wrk)"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        static, cache = root / "static", root / "cache"
        static.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
        app_port, h11_port, fast_port = free_port(), free_port(), free_port()
        proxy_port, static_port = free_port(), free_port()
        env.update(
            SHIPORSKIP_DATA_DIR=str(root / "data"),
            SHIPORSKIP_LOG_LEVEL="warning",
            SHIPORSKIP_TRUSTED_PROXIES="127.0.0.1",
        )
        script = str(Path(sys.executable).with_name("shiporskip"))
        serve = [script, "serve", "--port", str(app_port)]
        results: dict[str, dict[str, Any]] = {}
        with _server(serve, env, app_port):  # loads the sample into the empty data dir
            app = f"http://127.0.0.1:{app_port}"
            visitor = _visitor(app)
            headers: dict[str, dict[str, str]] = {}
            for name, path in PAGES.items():
                page = httpx.get(app + path, headers=visitor, timeout=30)
                page.raise_for_status()
                (static / f"{name}.html").write_bytes(page.content)
                headers[name] = {
                    k: page.headers.get(k, "")
                    for k in ("cache-control", "vary", "set-cookie", "etag")
                }
            servers = [
                static_config(static_port, static),
                site_config([f"127.0.0.1:{app_port}"], proxy_port, cache),
            ]
            with Nginx(root / "nginx", servers, [proxy_port, static_port]):
                proxy = f"http://127.0.0.1:{proxy_port}"
                status = {}
                for name, path in PAGES.items():
                    httpx.get(proxy + path, headers=visitor, timeout=30)
                    again = httpx.get(proxy + path, headers=visitor, timeout=30)
                    same = again.content == (static / f"{name}.html").read_bytes()
                    status[name] = {"cache": again.headers.get("x-cache-status"), "same": same}
                for name, path in PAGES.items():
                    results[name] = {
                        "static": wrk(f"http://127.0.0.1:{static_port}/{name}.html", visitor),
                        "proxy_cache": wrk(proxy + path, visitor),
                        "app": wrk(app + path, visitor),
                    }
                    after = httpx.get(proxy + path, headers=visitor, timeout=30)
                    status[name]["cache_after"] = after.headers.get("x-cache-status")
            uvicorn = [sys.executable, "-m", "uvicorn", "shiporskip.web.asgi:create", "--factory"]
            uvicorn += ["--no-proxy-headers", "--log-level", "warning"]
            for label, port, options in (
                ("asyncio_h11", h11_port, ["--loop", "asyncio", "--http", "h11"]),
                ("uvloop_httptools", fast_port, ["--loop", "uvloop", "--http", "httptools"]),
            ):
                command = [*uvicorn, *options, "--port", str(port)]
                with _server(command, env, port):
                    for name, path in PAGES.items():
                        results[name][label] = wrk(f"http://127.0.0.1:{port}{path}", visitor)
    ratios = {
        name: {
            "proxy_cache/static": r["proxy_cache"]["rps"] / r["static"]["rps"],
            "app/static": r["app"]["rps"] / r["static"]["rps"],
            "uvloop_httptools/asyncio_h11": r["uvloop_httptools"]["rps"] / r["asyncio_h11"]["rps"],
        }
        for name, r in results.items()
    }
    return {
        "pages": PAGES,
        "page_headers": headers,
        "nginx_cache_status": status,
        "results": results,
        "ratios": ratios,
    }


def section(result: dict[str, Any]) -> list[str]:
    lines = [
        "## nginx in front: proxy_cache against static files",
        "",
        "wrk (1 thread, 32 connections, 4 s after a 1 s warm-up) in one run: nginx serving the "
        "page's bytes from disk (static); the nginx block of docs/deploy.md caching "
        "`shiporskip serve` (proxy_cache, same nginx); the app alone with its page cache "
        "(`shiporskip serve`, uvloop + httptools), and under uvicorn with asyncio + h11. "
        "Targets: proxy_cache ÷ static ≥ 0.5.",
        "",
    ]
    if "skipped" in result:
        return [*lines, f"Not measured: {result['skipped']}.", ""]
    lines += [
        "| Page | static req/s | proxy_cache ÷ static | app alone ÷ static "
        "| uvloop+httptools ÷ asyncio+h11 | nginx cache | app's Cache-Control |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in result["results"].items():
        ratio = result["ratios"][name]
        cache = result["nginx_cache_status"][name]
        lines.append(
            f"| {name} | {r['static']['rps']:,.0f} | {ratio['proxy_cache/static']:.3f} "
            f"| {ratio['app/static']:.4f} | {ratio['uvloop_httptools/asyncio_h11']:.2f} "
            f"| {cache['cache_after'] or '—'} | `{result['page_headers'][name]['cache-control']}` |"
        )
    lines.append("")
    return lines


if __name__ == "__main__":
    import json

    outcome = run()
    print(json.dumps(outcome, indent=2))
    print("\n".join(section(outcome)))
