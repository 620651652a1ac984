"""Shared fixtures. Tests never touch the developer's home: the data dir is a temp dir."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette import testclient

from shiporskip.runtime import Runtime, open_runtime
from shiporskip.settings import load_settings
from tests.framing import FramingCheck

POSTGRES_URL = os.environ.get(
    "SHIPORSKIP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


# What `FramingCheck` found during the current test; `framing` reads and empties it.
FRAMING_PROBLEMS: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _check_testclient_framing() -> Iterator[None]:
    """Every TestClient's app, whoever builds it, is wrapped in `FramingCheck`."""
    original = testclient._TestClientTransport.__init__

    def wrapped(self: testclient._TestClientTransport, app: Any, *args: Any, **kw: Any) -> None:
        original(self, FramingCheck(app, FRAMING_PROBLEMS), *args, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(testclient._TestClientTransport, "__init__", wrapped)
        yield


@pytest.fixture(autouse=True)
def framing() -> Iterator[list[str]]:
    """Fails the test when an in-process response's Content-Length was not its body's
    length: uvicorn would have cut that response or sent it empty."""
    FRAMING_PROBLEMS.clear()
    yield FRAMING_PROBLEMS
    found = list(FRAMING_PROBLEMS)
    FRAMING_PROBLEMS.clear()
    if found:
        pytest.fail(
            "responses whose Content-Length is not the length of their body:\n" + "\n".join(found),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data dir and no SHIPORSKIP_* variables from the outside."""
    for key in list(os.environ):
        if key.startswith("SHIPORSKIP_") and key != "SHIPORSKIP_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("SHIPORSKIP_DATA_DIR", str(data_dir))
    return data_dir


def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    try:
        admin = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with admin.connect():
            pass
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}; set CI=true to require it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Both databases the schema must work on."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture
def runtime(database_url: str, isolated_env: Path) -> Iterator[Runtime]:
    rt = open_runtime(load_settings(overrides={"database_url": database_url}))
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def sqlite_runtime(isolated_env: Path) -> Iterator[Runtime]:
    rt = open_runtime(load_settings())
    try:
        yield rt
    finally:
        rt.close()
