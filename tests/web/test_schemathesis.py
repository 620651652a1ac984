"""The JSON API against its own OpenAPI schema, fuzzed through the real server.

`schemathesis run` reads the schema that `shiporskip serve` publishes at `/openapi.json`
(SQLite, then PostgreSQL) and, for every operation, sends the schema's examples, its boundary
cases (the coverage phase) and a bounded number of generated requests, valid and invalid.
Every answer must be no server error, and have a status code, content type, headers and body
that the schema declares for that operation. Generation is deterministic (a fixed seed,
derandomized), so a failure found here is found again by the next run.

It runs the `schemathesis` command, not the pytest plugin: the plugin's fixture loader
(`schemathesis.pytest.from_fixture`, needed because the server starts in a fixture) reads
`request.node._nodeid`, which pytest 9.2 no longer has. The command runs in the test's
temporary folder, so no stray `schemathesis.toml` changes what it does.

The client is a visitor with a cookie and its CSRF token, and holds the admin token, so the
vote, submission and admin operations are fuzzed past their checks. Fuzzing casts hundreds
of votes from one address in a minute: the server runs with vote rate limits far above the
defaults, or every vote after the twentieth would be a (declared) 429 and the vote logic
behind the limit would go unfuzzed. Submissions (5 an hour per address) and subscriptions
(5 at once per address) have fixed limits: their 429s are declared answers, checked too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer, seeded_site
from tests.web.test_live_crawl import seed

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
ADMIN_TOKEN = "fuzz-admin-token-0123456789"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SEED = 20261203
# Generated requests per operation, on top of its examples and coverage cases. With the
# whole schema this keeps a run near two minutes per database.
MAX_EXAMPLES = 30
# What every answer is checked for. Not the checks that need the schema to say which inputs
# the server refuses (negative_data_rejection, positive_data_acceptance): a slug that is a
# valid `string` still answers 404 when no tool has it.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
# Well above what fuzzing from one address casts in a minute (see the module's docstring).
SETTINGS = {"admin_token": ADMIN_TOKEN, "vote_rate_voter": "100000", "vote_rate_ip": "100000"}


@dataclass
class Live:
    server: LiveServer
    seeds: dict[str, str]
    name: str


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    with seeded_site(request.param, tmp_path / "data", SETTINGS, seed) as (server, seeds):
        yield Live(server, seeds, request.param)


def with_examples(schema: dict[str, Any], seeds: dict[str, str]) -> dict[str, Any]:
    """The schema with the seeded names as path parameter examples: the examples phase then
    reaches real tools, issues and submissions (200 answers and their bodies), which random
    strings almost never name."""
    for operation in (op for path in schema["paths"].values() for op in path.values()):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] in seeds:
                parameter["example"] = seeds[parameter["name"]]
    return schema


def test_every_api_answer_is_what_the_schema_declares(live: Live, tmp_path: Path) -> None:
    with httpx.Client(base_url=live.server.base_url, timeout=30) as client:
        schema = with_examples(client.get("/openapi.json").json(), live.seeds)
        visitor = client.get("/api/v1/session")
    (tmp_path / "openapi.json").write_text(json.dumps(schema))
    report = tmp_path / "report.json"
    command = [
        str(SCHEMATHESIS),
        "run",
        "openapi.json",
        f"--url={live.server.base_url}",
        f"--checks={','.join(CHECKS)}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--generation-deterministic",
        "--no-shrink",
        "--phases=examples,coverage,fuzzing",
        "--workers=1",
        "--report=json",
        f"--report-json-path={report}",
        "--no-color",
        f"--header=Authorization: Bearer {ADMIN_TOKEN}",
        f"--header=X-CSRF-Token: {visitor.json()['csrf_token']}",
        f"--header=Cookie: {visitor.headers['set-cookie'].split(';')[0]}",
    ]
    started = time.monotonic()
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    took = time.monotonic() - started
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
    failures = run.stdout[run.stdout.find("=== FAILURES") :]
    assert run.returncode == 0, f"schemathesis on {live.name}:\n{failures[:30000]}{run.stderr}"
    found = json.loads(report.read_text())
    cases, operations = found["test_cases"], found["operations"]
    print(f"\n{live.name}: {took:.0f} s, {cases['generated']} requests, none failed")
    assert operations["tested"] == operations["total"] > 20, operations
