"""docs/deploy.md cannot drift: the settings, commands and files it names exist, and its nginx
block is the one the scaled-out test and bench/nginx_cache.py run."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from bench.nginx_cache import DEPLOY_DOC, documented_config, site_config

from shiporskip.cli.main import app
from shiporskip.settings import table

ROOT = Path(__file__).parents[2]


def test_every_setting_the_guide_names_exists() -> None:
    named = set(re.findall(r"SHIPORSKIP_[A-Z_]+", DEPLOY_DOC.read_text()))
    known = {row.env for row in table()}
    assert named and named <= known, sorted(named - known)


def test_every_command_the_guide_runs_exists() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    used = set(
        re.findall(r"^\s*(?:SHIPORSKIP_\S+ )*shiporskip (\w+)", DEPLOY_DOC.read_text(), re.M)
    )
    used |= set(re.findall(r"`shiporskip (\w+)", DEPLOY_DOC.read_text()))
    assert used and used <= set(commands), sorted(used - set(commands))


def test_every_file_the_guide_names_exists() -> None:
    named = re.findall(r"`((?:tests|bench|docs)/[\w/.]+)`", DEPLOY_DOC.read_text())
    assert named
    for path in named:
        assert (ROOT / path).exists(), path


def test_the_tested_config_is_the_documented_one_with_addresses_and_paths_replaced() -> None:
    documented = documented_config()
    tested = site_config(["127.0.0.1:7001", "127.0.0.1:7002"], 7000, Path("/tmp/cache"))
    for directive in (
        "proxy_cache_lock on;",
        "proxy_cache_background_update on;",
        "proxy_cache_use_stale updating error timeout",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header Host $host;",
    ):
        assert directive in documented and directive in tested, directive
    assert "server 127.0.0.1:7001 max_fails" in tested and "server 127.0.0.1:7002" in tested
    assert "listen 127.0.0.1:7000;" in tested and "/tmp/cache levels" in tested
    unchanged = [line for line in tested.splitlines() if line not in documented.splitlines()]
    assert len(unchanged) == 4, unchanged  # two servers, the listen line, the cache path
