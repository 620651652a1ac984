"""Per-client allowances hold across servers: two nodes on one database share them.

Kept in each process's memory, the admin-guess limit (5 in 15 minutes) allowed 5 guesses
per process, so `serve --workers N` or N nodes multiplied it. Two real servers are used
rather than workers of one, because which worker accepts a connection is up to the kernel.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from tests.live import LiveServer, assert_whole

TOKEN = "correct-horse-battery-staple"


def guess(server: LiveServer, token: str) -> int:
    response = httpx.get(
        server.url("/api/v1/admin/votes/events"), headers={"Authorization": f"Bearer {token}"}
    )
    assert_whole(response)
    return response.status_code


def test_two_nodes_share_the_admin_guess_allowance(
    database_url: str, isolated_env: Path, tmp_path: Path
) -> None:
    settings = {
        "database_url": database_url,
        "load_sample": "no",
        "admin_token": TOKEN,
        "secret_key": "one-secret-key-for-the-whole-cluster",
    }
    open_runtime(load_settings(overrides=settings)).close()  # migrated once, before the nodes
    with (
        LiveServer(tmp_path / "node-a", settings) as node_a,
        LiveServer(tmp_path / "node-b", settings) as node_b,
    ):
        first = [guess(node_a, "wrong-guess-on-node-a") for _ in range(3)]
        then = [guess(node_b, "wrong-guess-on-node-b") for _ in range(3)]
        right_token_on_a = guess(node_a, TOKEN)
    assert first == [401, 401, 401]
    assert then == [401, 401, 429], "node B must know of node A's failures"
    assert right_token_on_a == 429, "locked out on every node until the window ends"
