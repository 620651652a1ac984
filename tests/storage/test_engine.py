from pathlib import Path

import pytest

from shiporskip.cli.main import main
from shiporskip.errors import UserError
from shiporskip.runtime import open_runtime
from shiporskip.settings import load_settings
from shiporskip.storage.engine import create_engine


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_unreachable_database_is_one_clear_sentence_with_password_masked() -> None:
    url = "postgresql+psycopg://bob:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(UserError) as info:
        create_engine(url)
    message = str(info.value)
    assert message.startswith("cannot connect to database postgresql+psycopg://bob:********@")
    assert "hunter2" not in message
    assert "SHIPORSKIP_DATABASE_URL" in message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url at all", "cannot be parsed"),
        ("mysql+nosuchdriver://x@y/z", "driver that is not installed"),
    ],
)
def test_bad_database_urls(url: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        create_engine(url)


def test_unwritable_data_dir_is_refused_before_anything_is_created(tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings = load_settings(overrides={"data_dir": str(blocker / "data")})
    with pytest.raises(UserError, match=r"is not writable.*set SHIPORSKIP_DATA_DIR"):
        open_runtime(settings)


def test_sqlite_file_in_a_missing_folder_is_refused_and_nothing_is_created(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "missing"
    url = f"sqlite:///{missing / 'sub' / 'x.db'}"
    with pytest.raises(UserError) as info:
        create_engine(url)
    message = str(info.value)
    assert f"the folder {missing / 'sub'} for database" in message
    assert "create it first" in message and "data dir" in message
    assert not missing.exists()


def test_cli_refuses_a_database_url_in_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent"
    url = f"sqlite:///{missing / 'x.db'}"
    assert main(["--database-url", url, "tools", "list"]) == 1
    err = capsys.readouterr().err
    assert f"the folder {missing} for database" in err.replace("\n", "")
    assert "Traceback" not in err
    assert not missing.exists()
