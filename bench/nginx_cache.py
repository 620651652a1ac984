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
SECONDS = 2
WARMUP = 1
ROUNDS = 3


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
        self,
        root: Path,
        servers: Sequence[str],
        ports: Sequence[int],
        workers: int = 1,
        access_log: bool = False,
    ) -> None:
        self.root = root
        self.access_log = access_log
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
            + (
                "    log_format cache '$server_port $upstream_cache_status';\n"
                f"    access_log {root / 'access.log'} cache buffer=256k flush=1s;\n"
                if self.access_log
                else "    access_log off;\n"
            )
            + temp
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

    def cache_statuses(self, port: int) -> dict[str, int]:
        """How the requests to `port` were served (`$upstream_cache_status`, "-" for none),
        from the access log (with `access_log=True`; complete once nginx has stopped)."""
        counts: dict[str, int] = {}
        path = self.root / "access.log"
        for line in path.read_text().splitlines() if path.exists() else []:
            served_port, _, status = line.partition(" ")
            if served_port == str(port):
                counts[status] = counts.get(status, 0) + 1
        return counts


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
def _server(command: list[str], env: dict[str, str]) -> Iterator[int]:
    """A server process started with `--port N` in its command, until /healthz answers;
    yields its pid."""
    port = command[command.index("--port") + 1]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wrk(
    url: str, headers: dict[str, str], warm: bool = True, warm_only: bool = False
) -> dict[str, Any]:
    """Requests per second from wrk (one thread, CONCURRENCY connections), after a warm-up."""
    args = ["wrk", "-t1", f"-c{CONCURRENCY}", "--timeout", "30s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if warm or warm_only:
        subprocess.run([*args, f"-d{WARMUP}s", url], capture_output=True, check=True)
    if warm_only:
        return {}
    out = subprocess.run(
        [*args, f"-d{SECONDS}s", url], capture_output=True, text=True, check=True
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    done = re.search(r"(\d+) requests in", out)
    return {
        "rps": float(rps.group(1)),
        "requests": int(done.group(1)) if done else 0,
        "bad_status": int(bad.group(1)) if bad else 0,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _visitor(base: str) -> dict[str, str]:
    """A returning visitor's cookie, as a reader who voted once sends it with every page."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/api/v1/session").raise_for_status()
        return {"Cookie": f"sos_voter={client.cookies['sos_voter']}"}


TARGETS = ("static", "proxy_cache", "app", "asyncio_h11", "uvloop_httptools")
CACHED = ("HIT", "STALE", "UPDATING", "REVALIDATED")


def run() -> dict[str, Any]:
    if nginx_binary() is None or shutil.which("wrk") is None:
        return {"skipped": "needs nginx and wrk (apt-get install nginx wrk)"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        static, cache = root / "static", root / "cache"
        static.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPORSKIP_")}
        ports = {name: free_port() for name in TARGETS}

        def port_of(name: str) -> list[str]:
            return ["--port", str(ports[name])]

        env.update(
            SHIPORSKIP_DATA_DIR=str(root / "data"),
            SHIPORSKIP_LOG_LEVEL="warning",
            SHIPORSKIP_TRUSTED_PROXIES="127.0.0.1",
        )
        script = str(Path(sys.executable).with_name("shiporskip"))
        uvicorn = [sys.executable, "-m", "uvicorn", "shiporskip.web.asgi:create", "--factory"]
        uvicorn += ["--no-proxy-headers", "--log-level", "warning"]
        with contextlib.ExitStack() as stack:
            # `serve` first: it migrates and loads the sample into the empty data dir.
            pids = {"app": stack.enter_context(_server([script, "serve", *port_of("app")], env))}
            for name, options in (
                ("asyncio_h11", ["--loop", "asyncio", "--http", "h11"]),
                ("uvloop_httptools", ["--loop", "uvloop", "--http", "httptools"]),
            ):
                pids[name] = stack.enter_context(_server([*uvicorn, *options, *port_of(name)], env))
            app = f"http://127.0.0.1:{ports['app']}"
            visitor = _visitor(app)
            headers: dict[str, dict[str, str]] = {}
            for name, path in PAGES.items():
                page = httpx.get(app + path, headers=visitor, timeout=30)
                page.raise_for_status()
                (static / f"{name}.html").write_bytes(page.content)
                headers[name] = {
                    k: page.headers.get(k, "") for k in ("cache-control", "vary", "set-cookie")
                }
            servers = [
                static_config(ports["static"], static),
                site_config([f"127.0.0.1:{ports['app']}"], ports["proxy_cache"], cache),
            ]
            nginx = Nginx(
                root / "nginx", servers, [ports["static"], ports["proxy_cache"]], access_log=True
            )
            stack.enter_context(nginx)
            proxy = f"http://127.0.0.1:{ports['proxy_cache']}"
            same = {
                name: httpx.get(proxy + path, headers=visitor, timeout=30).content
                == (static / f"{name}.html").read_bytes()
                for name, path in PAGES.items()
            }
            urls = {
                name: {
                    target: f"http://127.0.0.1:{port}"
                    + (f"/{name}.html" if target == "static" else path)
                    for target, port in ports.items()
                }
                for name, path in PAGES.items()
            }
            # Rounds alternate the targets, so a burst of other work on the machine lowers
            # one round of each rather than one target; each target's best round counts.
            rounds: dict[str, dict[str, list[float]]] = {
                name: {t: [] for t in TARGETS} for name in PAGES
            }
            # The app servers' own CPU time per request: less moved by other work on the
            # machine than their rate, so the event loop and parser are compared by it too.
            cpu: dict[str, dict[str, list[float]]] = {
                name: {t: [0.0, 0.0] for t in pids} for name in PAGES
            }
            for number in range(ROUNDS):
                for name in PAGES:
                    for target in TARGETS:
                        if number == 0:
                            wrk(urls[name][target], visitor, warm_only=True)
                        used = cpu_seconds(pids[target]) if target in pids else 0.0
                        figure = wrk(urls[name][target], visitor, warm=False)
                        if figure["bad_status"]:
                            raise RuntimeError(f"{target} {name}: {figure['bad_status']} bad")
                        rounds[name][target].append(figure["rps"])
                        if target in pids:
                            cpu[name][target][0] += cpu_seconds(pids[target]) - used
                            cpu[name][target][1] += figure["requests"]
            nginx.stop()
            served = nginx.cache_statuses(ports["proxy_cache"])
    best = {name: {t: max(r) for t, r in by.items()} for name, by in rounds.items()}
    per_cpu = {
        name: {t: done / max(seconds, 1e-9) for t, (seconds, done) in by.items()}
        for name, by in cpu.items()
    }
    ratios = {
        name: {
            "proxy_cache/static": b["proxy_cache"] / b["static"],
            "app/static": b["app"] / b["static"],
            "uvloop_httptools/asyncio_h11": b["uvloop_httptools"] / b["asyncio_h11"],
            "uvloop_httptools/asyncio_h11 per CPU second": per_cpu[name]["uvloop_httptools"]
            / per_cpu[name]["asyncio_h11"],
        }
        for name, b in best.items()
    }
    total = sum(served.values())
    return {
        "pages": PAGES,
        "page_headers": headers,
        "same_bytes_through_nginx": same,
        "nginx_cache_statuses": served,
        "served_from_nginx_cache": sum(served.get(s, 0) for s in CACHED) / total if total else 0,
        "rounds": rounds,
        "best_rps": best,
        "requests_per_cpu_second": per_cpu,
        "ratios": ratios,
    }


def section(result: dict[str, Any]) -> list[str]:
    lines = [
        "## nginx in front: proxy_cache against static files",
        "",
        f"wrk (1 thread, {CONCURRENCY} connections, {SECONDS} s a round, best of {ROUNDS} "
        "rounds that alternate the targets) on the sample's tool and compare pages, in one "
        "run: nginx serving the page's bytes from disk (static); the nginx block of "
        "docs/deploy.md caching one `shiporskip serve` (proxy_cache, same nginx, one worker "
        "process); the app alone with its page cache (`shiporskip serve`: uvicorn with uvloop "
        "and httptools); and the same app under uvicorn with `--loop asyncio --http h11` and "
        "with `--loop uvloop --http httptools`. Target: proxy_cache ÷ static ≥ 0.5.",
        "",
    ]
    if "skipped" in result:
        return [*lines, f"Not measured: {result['skipped']}.", ""]
    lines += [
        "| Page | static req/s | proxy_cache ÷ static | app alone ÷ static "
        "| uvloop+httptools ÷ asyncio+h11, req/s | the same, requests per server CPU second |",
        "|---|---|---|---|---|---|",
    ]
    for name, best in result["best_rps"].items():
        ratio = result["ratios"][name]
        lines.append(
            f"| {name} | {best['static']:,.0f} | {ratio['proxy_cache/static']:.2f} "
            f"| {ratio['app/static']:.3f} | {ratio['uvloop_httptools/asyncio_h11']:.2f} "
            f"| {ratio['uvloop_httptools/asyncio_h11 per CPU second']:.2f} |"
        )
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(result["nginx_cache_statuses"].items()))
    control = {h["cache-control"] for h in result["page_headers"].values()}
    lines += [
        "",
        f"The pages said `Cache-Control: {', '.join(sorted(control))}`; nginx answered "
        f"{result['served_from_nginx_cache']:.1%} of the proxy_cache requests from its cache "
        f"({statuses}). uvloop and httptools are installed with shiporskip, so "
        "`shiporskip serve` uses them.",
        "",
    ]
    return lines


if __name__ == "__main__":
    import json

    outcome = run()
    print(json.dumps(outcome, indent=2))
    print("\n".join(section(outcome)))
