"""`serve` and `sample load`: the first run as people meet it.

Links in pages, feeds and mails follow the address the server listens on unless base_url is
set; a configured base_url that is not this server gets a one-line warning; the sample can
be loaded without serving.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from shiporskip.cli.main import base_url_warning, main
from shiporskip.settings import load_settings
from tests.factories import tool_data
from tests.live import LiveServer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        ({}, None),
        ({"port": 9000}, None),
        ({"base_url": "http://localhost:8000/"}, None),
        ({"host": "0.0.0.0", "base_url": "http://verdicts.lan:8000"}, None),
        ({"host": "0.0.0.0"}, "listening on every address, but links use http://127.0.0.1:8000"),
        (
            {"base_url": "https://verdicts.example.com"},
            "base_url https://verdicts.example.com is not this server's address and port "
            "(127.0.0.1:8000)",
        ),
        ({"base_url": "http://127.0.0.1:8000", "port": 8001}, "base_url http://127.0.0.1:8000 is"),
    ],
)
def test_base_url_warning(overrides: dict[str, object], warning: str | None) -> None:
    found = base_url_warning(load_settings(overrides=overrides))
    if warning is None:
        assert found is None
    else:
        assert found is not None and found.startswith(warning) and "\n" not in found


def test_links_follow_the_port_with_several_workers(tmp_path: Path) -> None:
    """Worker processes rebuild settings from the environment; links still name the port."""
    with LiveServer(tmp_path / "live", args=("--workers", "2")) as server:
        bodies = [httpx.get(server.url("/robots.txt")).text for _ in range(6)]
        sitemap = httpx.get(server.url("/sitemap.xml")).text
        tools_file = httpx.get(server.url("/sitemaps/2.xml")).text
    assert {body.strip().splitlines()[-1] for body in bodies} == {
        f"Sitemap: {server.base_url}/sitemap.xml"
    }
    assert f"<loc>{server.base_url}/sitemaps/2.xml</loc>" in sitemap and ":8000" not in sitemap
    assert f"<loc>{server.base_url}/tools/" in tools_file and ":8000" not in tools_file
    log = server.log()
    assert f"links use {server.base_url}" in log and "Warning" not in log
    assert "Loaded the sample content" in log


def test_serve_warns_about_a_base_url_that_is_not_its_address(tmp_path: Path) -> None:
    public = "https://verdicts.example.com"
    with LiveServer(tmp_path / "live", {"base_url": public, "load_sample": "no"}) as server:
        robots = httpx.get(server.url("/robots.txt")).text
    assert f"Sitemap: {public}/sitemap.xml" in robots
    warnings = [line for line in server.log().splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and f"base_url {public} is not this server's address" in warnings[0]


def test_bad_settings_stop_serve_before_anything_is_written(
    capsys: pytest.CaptureFixture[str], isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPORSKIP_BASE_URL", "not-a-url")
    code, out, err = run(capsys, "serve", "--port", "0")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "Error: SHIPORSKIP_BASE_URL=not-a-url is not a web address; write "
        "http(s)://HOST[:PORT][/PATH], e.g. https://verdicts.example.com",
        "--port 0 is out of range; use a number from 1 to 65535",
    ]
    assert not isolated_env.exists()


def test_sample_load_fills_an_empty_database_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sample", "load")
    assert code == 0 and out.startswith("Loaded the sample content: ")
    tools = int(out.split(": ")[1].split()[0])
    code, out, _ = run(capsys, "sample", "load")
    assert (code, out) == (0, f"The sample content is already loaded ({tools} tools).\n")
    code, out, _ = run(capsys, "tools", "cost", "perplexity-sonar-pro", "--usage", "1 request")
    assert code == 0 and "cheapest" in out


def test_sample_load_refuses_a_database_with_tools_of_its_own(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    catalog = tmp_path / "mine.yaml"
    catalog.write_text(yaml.safe_dump({"tools": [tool_data()]}))
    assert run(capsys, "tools", "import", str(catalog))[0] == 0
    code, out, err = run(capsys, "sample", "load")
    assert code == 1 and out == ""
    assert err.startswith("Error: the database already holds 1 tools of its own (e.g. ")
    assert "sample is not mixed in" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "tools", "list", "--json")
    assert '"count": 1' in out
