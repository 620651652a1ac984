"""The tool and compare pages read the database a fixed number of times, however many
critics, reviews, competitors and similar tools they show: a guard against one query per
item shown (N+1), by counting statements, never by timing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from shiporskip.runtime import Runtime
from shiporskip.sample_data import load_samples_if_empty
from shiporskip.web.app import create_app

TOOL = "/tools/claude-sonnet-4"  # seven reviews, named competitors, six similar tools
COMPARE = "/compare/claude-sonnet-4-vs-smolvlm2-2b"
# Statements per page: the tool, its reviews, the tools they name, the ranked peers (and
# the unranked ones when too few are ranked), the peers' panels, the community vote and
# the verdict history. Before the statements were merged: 11 and 6.
TOOL_STATEMENTS = 8
# Both tools, both panels, the community votes, the critics' pairwise picks.
COMPARE_STATEMENTS = 4


@pytest.fixture
def counted(runtime: Runtime) -> Iterator[tuple[TestClient, list[str]]]:
    """A client of the app over the sample content, every page rendered (no page cache),
    and the SQL statements run since the list was last cleared."""
    runtime.settings = replace(runtime.settings, page_cache_mb=0)
    load_samples_if_empty(runtime)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        with TestClient(create_app(runtime)) as client:
            yield client, statements
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)


def _statements(client: TestClient, statements: list[str], path: str) -> int:
    assert client.get(path).status_code == 200  # opens the pool's connections first
    statements.clear()
    response = client.get(path)
    assert response.status_code == 200
    return len(statements)


def test_tool_page_reads_a_fixed_number_of_times(
    counted: tuple[TestClient, list[str]],
) -> None:
    client, statements = counted
    page = client.get(f"/api/v1{TOOL}").json()
    # The page shows many items, so one query per item would exceed the bound.
    assert len(page["reviews"]) == 7 and len(page["similar"]) == 6
    assert len(page["compare_with"]) == 8
    assert _statements(client, statements, TOOL) <= TOOL_STATEMENTS, statements
    assert _statements(client, statements, f"/api/v1{TOOL}") <= TOOL_STATEMENTS, statements


def test_compare_page_reads_a_fixed_number_of_times(
    counted: tuple[TestClient, list[str]],
) -> None:
    client, statements = counted
    page = client.get(f"/api/v1{COMPARE}").json()
    assert len(page["scorecard"]["rows"]) == 7
    assert _statements(client, statements, COMPARE) <= COMPARE_STATEMENTS, statements
    assert _statements(client, statements, f"/api/v1{COMPARE}") <= COMPARE_STATEMENTS, statements
