from pathlib import Path

import pytest

from shiporskip.errors import UserError
from shiporskip.settings import Settings, load_settings, mask_url, table


def test_defaults_put_sqlite_in_the_data_dir(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == isolated_env
    assert settings.sqlalchemy_url == f"sqlite:///{isolated_env / 'shiporskip.db'}"
    assert settings.port == 8000 and settings.load_sample is True


def test_precedence_default_file_env_cli(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    (isolated_env / "config.toml").write_text('port = 7001\nhost = "0.0.0.0"\nlog_level = "debug"')
    env = {"SHIPORSKIP_DATA_DIR": str(isolated_env), "SHIPORSKIP_PORT": "7002"}
    settings = load_settings(env=env, overrides={"port": 7003})
    assert settings.port == 7003
    assert load_settings(env=env).port == 7002
    assert load_settings(env=env).host == "0.0.0.0"
    assert load_settings(env={"SHIPORSKIP_DATA_DIR": str(isolated_env)}).port == 7001
    assert load_settings(env={"SHIPORSKIP_DATA_DIR": str(isolated_env)}).log_level == "debug"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHIPORSKIP_PORT": "eighty"}, "SHIPORSKIP_PORT has port='eighty', which is not a whole"),
        ({"SHIPORSKIP_PORT": "70000"}, "out of range"),
        ({"SHIPORSKIP_LOAD_SAMPLE": "perhaps"}, "not true or false"),
        ({"SHIPORSKIP_LOG_LEVEL": "loud"}, "use debug, info, warning or error"),
        ({"SHIPORSKIP_CONFIG": "/nonexistent/config.toml"}, "does not exist"),
        ({"SHIPORSKIP_PAGE_CACHE_MB": "-1"}, "cannot be negative; use 0 to turn the page cache"),
        ({"SHIPORSKIP_PAGE_CACHE_MB": "lots"}, "SHIPORSKIP_PAGE_CACHE_MB has page_cache_mb='lots'"),
    ],
)
def test_bad_settings_name_the_variable_and_fix(env: dict[str, str], message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_settings(env=env)


def test_bad_config_file(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    config = isolated_env / "config.toml"
    config.write_text("port = [unclosed")
    with pytest.raises(UserError, match="is not valid TOML"):
        load_settings()
    config.write_text("colour = 'red'")
    with pytest.raises(UserError, match="unknown setting 'colour'"):
        load_settings()


def test_secrets_are_masked() -> None:
    settings = load_settings(overrides={"database_url": "postgresql://u:s3cret@h/db"})
    shown = settings.masked()
    assert shown["database_url"] == "postgresql://u:********@h/db"
    assert "s3cret" not in str(shown)
    assert mask_url("sqlite:///x.db") == "sqlite:///x.db"


def test_table_covers_every_field_with_help() -> None:
    rows = table()
    assert [r.name for r in rows] == list(Settings.__dataclass_fields__)
    assert all(r.help and r.env.startswith("SHIPORSKIP_") for r in rows)
