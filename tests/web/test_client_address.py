"""The client address through the real server: X-Forwarded-For counts only from a trusted proxy.

Per-address limits (votes, admin token guesses) and the vote audit log key on the client
address. A client that writes its own X-Forwarded-For must not get a fresh address per
request, nor pin its requests on someone else's: without `trusted_proxies` the header is
ignored; with it, only a listed peer's header is read, right to left past the proxies.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from shiporskip.cli.main import main
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.settings_checks import parse_networks
from shiporskip.web.proxies import ForwardedClient
from tests.factories import make_tool
from tests.live import LiveServer, assert_whole

TOKEN = "correct-horse-battery-staple"
SLUG = make_tool("Alpha").slug


@pytest.fixture
def data_dir(isolated_env: Path) -> Path:
    """A data dir whose database holds one tool (so no sample is loaded)."""
    runtime = open_runtime(load_settings())
    runtime.catalog.add(make_tool("Alpha"))
    runtime.close()
    return isolated_env


def vote(server: LiveServer, forwarded_for: str) -> int:
    """A new visitor votes once, sending the given X-Forwarded-For."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        token = client.get("/api/v1/session").json()["csrf_token"]
        response = client.post(
            f"/api/v1/tools/{SLUG}/vote",
            json={"vote": "ship"},
            headers={"X-CSRF-Token": token, "X-Forwarded-For": forwarded_for},
        )
    assert_whole(response)
    return response.status_code


def audited_addresses(server: LiveServer) -> list[str]:
    """The addresses the vote audit log stored, oldest first."""
    response = httpx.get(
        server.url("/api/v1/admin/votes/events"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200, response.text
    return [str(event["ip"]) for event in reversed(response.json()["events"])]


def guess(server: LiveServer, token: str, forwarded_for: str) -> int:
    response = httpx.get(
        server.url("/api/v1/admin/votes/events"),
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded_for},
    )
    assert_whole(response)
    return response.status_code


@pytest.mark.parametrize("args", [(), ("--workers", "2")], ids=["one-process", "two-workers"])
def test_a_forged_header_does_not_escape_the_vote_limit(
    data_dir: Path, args: tuple[str, ...]
) -> None:
    settings = {"vote_rate_ip": "3", "admin_token": TOKEN}
    with LiveServer(data_dir, settings, args=args) as server:
        statuses = [vote(server, f"203.0.113.{n}") for n in range(1, 7)]
        stored = audited_addresses(server)
    assert statuses == [200, 200, 200, 429, 429, 429], "one address, one limit"
    assert set(stored) == {"127.0.0.1"}, f"the audit log stored forged addresses: {stored}"


def test_a_forged_header_does_not_escape_the_admin_guess_limit(data_dir: Path) -> None:
    with LiveServer(data_dir, {"admin_token": TOKEN}) as server:
        statuses = [guess(server, "wrong-token-guess", f"198.51.100.{n}") for n in range(1, 8)]
        # The guesses count against the address they really came from, not a forged one.
        locked = guess(server, TOKEN, "192.0.2.1")
    assert statuses == [401] * 5 + [429] * 2
    assert locked == 429


def test_a_trusted_proxy_names_the_client(data_dir: Path) -> None:
    settings = {
        "vote_rate_ip": "1",
        "admin_token": TOKEN,
        "trusted_proxies": "127.0.0.1, 10.0.0.0/8",
    }
    with LiveServer(data_dir, settings) as server:
        statuses = [
            vote(server, "203.0.113.1"),
            vote(server, "203.0.113.2"),
            # What the client wrote stays on the left; the right-most untrusted address counts.
            vote(server, "192.0.2.99, 203.0.113.3, 10.1.2.3"),
            vote(server, "203.0.113.1"),
        ]
        stored = audited_addresses(server)
    assert statuses == [200, 200, 200, 429]
    assert stored == ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.1"]


def test_an_untrusted_peer_is_not_believed(data_dir: Path) -> None:
    """Trusting another proxy's address does not make the header from loopback count."""
    settings = {"vote_rate_ip": "1", "admin_token": TOKEN, "trusted_proxies": "10.0.0.0/8"}
    with LiveServer(data_dir, settings) as server:
        statuses = [vote(server, "203.0.113.1"), vote(server, "203.0.113.2")]
        stored = audited_addresses(server)
    assert statuses == [200, 429]
    assert stored == ["127.0.0.1", "127.0.0.1"]


@pytest.mark.parametrize(("trusted", "status"), [("", 403), ("127.0.0.1", 200)])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    data_dir: Path, trusted: str, status: int
) -> None:
    """The subscribe form accepts posts from the site's own origin; a client claiming https
    itself must not make an https origin (another site, to this server) look like its own."""
    with LiveServer(data_dir, {"trusted_proxies": trusted}) as server:
        response = httpx.post(
            server.url("/newsletter"),
            data={"email": "reader@example.com"},
            headers={"Origin": f"https://127.0.0.1:{server.port}", "X-Forwarded-Proto": "https"},
        )
    assert_whole(response)
    assert response.status_code == status, response.text[:300]


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.example.com", "127.0.0.1;10.0.0.1"])
def test_a_bad_trusted_proxies_value_is_one_sentence(
    value: str,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SHIPORSKIP_TRUSTED_PROXIES", value)
    code = main(["serve"])
    out, err = capsys.readouterr()
    assert code != 0
    assert f"SHIPORSKIP_TRUSTED_PROXIES={value}" in err
    assert "Traceback" not in err + out and len(err.strip().splitlines()) == 1
    assert not (isolated_env / "shiporskip.db").exists(), "nothing was created"


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7:5123", "203.0.113.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        ("10.0.0.3, 10.0.0.2", "10.0.0.3"),  # every hop a proxy: the first one
        ("203.0.113.7, not-an-address", None),  # a proxy passed on garbage: keep the peer
        ("", None),
    ],
)
def test_the_client_in_a_chain(header: str, client: str | None) -> None:
    middleware = ForwardedClient(app=None, trusted=parse_networks("127.0.0.1, 10.0.0.0/8"))  # type: ignore[arg-type]
    found = middleware.client(header)
    assert (None if found is None else str(found)) == client
