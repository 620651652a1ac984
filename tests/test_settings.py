from dataclasses import fields
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


# Garbage for every kind of setting: the exact sentence a user sees, naming the variable
# as written and the fix.
BAD_ENV = [
    ("PORT", "eighty", "SHIPORSKIP_PORT=eighty is not a whole number; write e.g. 8080"),
    ("PORT", "1.5", "SHIPORSKIP_PORT=1.5 is not a whole number; write e.g. 8080"),
    ("PORT", "70000", "SHIPORSKIP_PORT=70000 is out of range; use a number from 1 to 65535"),
    ("PORT", "0", "SHIPORSKIP_PORT=0 is out of range; use a number from 1 to 65535"),
    ("SMTP_PORT", "-25", "SHIPORSKIP_SMTP_PORT=-25 is out of range; use a number from 1 to 65535"),
    (
        "LOAD_SAMPLE",
        "perhaps",
        "SHIPORSKIP_LOAD_SAMPLE=perhaps is not true or false; write true/false, yes/no, "
        "on/off or 1/0",
    ),
    ("LOAD_SAMPLE", "", "SHIPORSKIP_LOAD_SAMPLE= is not true or false"),
    (
        "LOG_LEVEL",
        "loud",
        "SHIPORSKIP_LOG_LEVEL=loud is not allowed; use debug, info, warning or error",
    ),
    (
        "JOB_ENGINE",
        "redis",
        "SHIPORSKIP_JOB_ENGINE=redis is not allowed; use embedded or procrastinate",
    ),
    (
        "SMTP_SECURITY",
        "ssl",
        "SHIPORSKIP_SMTP_SECURITY=ssl is not allowed; use starttls, tls or none",
    ),
    (
        "STRUCTURED_OUTPUT",
        "telepathy",
        "SHIPORSKIP_STRUCTURED_OUTPUT=telepathy is not allowed; use auto, json_schema, "
        "json_object_schema, tool, json_object or prompt",
    ),
    (
        "DIGEST_DAY",
        "someday",
        "SHIPORSKIP_DIGEST_DAY=someday is not allowed; use monday, tuesday, wednesday, "
        "thursday, friday, saturday or sunday",
    ),
    (
        "DAILY_TIME",
        "25:99",
        "SHIPORSKIP_DAILY_TIME=25:99 is not a time of day; write HH:MM from 00:00 to 23:59 "
        "(UTC), or off",
    ),
    ("DAILY_TIME", "6pm", "SHIPORSKIP_DAILY_TIME=6pm is not a time of day"),
    (
        "BASE_URL",
        "not-a-url",
        "SHIPORSKIP_BASE_URL=not-a-url is not a web address; write http(s)://HOST[:PORT][/PATH], "
        "e.g. https://verdicts.example.com",
    ),
    ("BASE_URL", "ftp://example.com", "SHIPORSKIP_BASE_URL=ftp://example.com is not a web"),
    ("BASE_URL", "https://", "SHIPORSKIP_BASE_URL=https:// is not a web address"),
    ("BASE_URL", "https://x.org:99999", "SHIPORSKIP_BASE_URL=https://x.org:99999 is not a web"),
    ("BASE_URL", "https://x.org/?ref=1", "has a query or fragment, which links would break on"),
    ("BASE_URL", "https://x.org/#top", "has a query or fragment"),
    ("BASE_URL", "https://u:pw@x.org", "is not a plain web address"),
    ("LLM_BASE_URL", "localhost:8080", "SHIPORSKIP_LLM_BASE_URL=localhost:8080 is not a web"),
    (
        "LLM_TIMEOUT",
        "nan",
        "SHIPORSKIP_LLM_TIMEOUT=nan is not a finite number; use a number greater than 0 and "
        "at most 3600",
    ),
    ("LLM_TIMEOUT", "inf", "SHIPORSKIP_LLM_TIMEOUT=inf is not a finite number"),
    ("LLM_TIMEOUT", "0", "SHIPORSKIP_LLM_TIMEOUT=0 is out of range; use a number greater than 0"),
    ("LLM_TIMEOUT", "soon", "SHIPORSKIP_LLM_TIMEOUT=soon is not a number; write e.g. 60"),
    ("LLM_TEMPERATURE", "-inf", "SHIPORSKIP_LLM_TEMPERATURE=-inf is not a finite number"),
    ("LLM_TEMPERATURE", "3", "SHIPORSKIP_LLM_TEMPERATURE=3 is out of range; use a number from 0"),
    ("LLM_RETRIES", "-1", "use a number from 0 to 20 (0 turns retries off)"),
    ("LLM_CONCURRENCY", "-1", "SHIPORSKIP_LLM_CONCURRENCY=-1 is out of range"),
    ("LLM_MAX_TOKENS", "0", "SHIPORSKIP_LLM_MAX_TOKENS=0 is out of range"),
    ("JOB_MAX_ATTEMPTS", "0", "SHIPORSKIP_JOB_MAX_ATTEMPTS=0 is out of range"),
    ("JOB_RETRY_DELAY", "-5", "SHIPORSKIP_JOB_RETRY_DELAY=-5 is out of range"),
    ("JOB_LEASE", "0", "SHIPORSKIP_JOB_LEASE=0 is out of range; use a number greater than 0"),
    ("JOB_LEASE", "NaN", "SHIPORSKIP_JOB_LEASE=NaN is not a finite number"),
    ("MAIL_RATE", "0", "SHIPORSKIP_MAIL_RATE=0 is out of range"),
    ("MAIL_RATE", "inf", "SHIPORSKIP_MAIL_RATE=inf is not a finite number"),
    ("PAGE_CACHE_MB", "-1", "use a number from 0 to 65536 (0 turns the page cache off)"),
    ("PAGE_CACHE_MB", "lots", "SHIPORSKIP_PAGE_CACHE_MB=lots is not a whole number"),
    (
        "SITEMAP_URLS_PER_FILE",
        "60000",
        "SHIPORSKIP_SITEMAP_URLS_PER_FILE=60000 is out of range; use a number from 10 to 50000",
    ),
    (
        "SHARED_CACHE_SECONDS",
        "-5",
        "SHIPORSKIP_SHARED_CACHE_SECONDS=-5 is out of range; use a number from 0 to 86400 "
        "(0: shared caches revalidate every time)",
    ),
    ("SHARED_CACHE_SECONDS", "soon", "SHIPORSKIP_SHARED_CACHE_SECONDS=soon is not a whole number"),
    (
        "SHARED_STALE_SECONDS",
        "100000",
        "SHIPORSKIP_SHARED_STALE_SECONDS=100000 is out of range; use a number from 0 to 86400 "
        "(0 turns it off)",
    ),
    ("VOTE_MIN_COUNT", "0", "SHIPORSKIP_VOTE_MIN_COUNT=0 is too small; use 1 or more"),
    ("VOTE_RATE_VOTER", "-3", "SHIPORSKIP_VOTE_RATE_VOTER=-3 is too small; use 1 or more"),
    ("VOTE_RATE_IP", "0", "SHIPORSKIP_VOTE_RATE_IP=0 is too small; use 1 or more"),
    ("MAIL_REQUESTS_IP", "0", "SHIPORSKIP_MAIL_REQUESTS_IP=0 is out of range; use a number from 1"),
    ("MAIL_REQUESTS_IP", "many", "SHIPORSKIP_MAIL_REQUESTS_IP=many is not a whole number"),
    ("TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES=10.0.0.0/33 has '10.0.0.0/33', which"),
    ("TRUSTED_PROXIES", "127.0.0.1 10.0.0.1", "is not an IP address or network; list IP addresses"),
    ("MAX_BODY_KB", "8", "SHIPORSKIP_MAX_BODY_KB=8 is out of range; use a number from 64 to"),
    ("MAIL_FROM", "nobody", "SHIPORSKIP_MAIL_FROM=nobody is not one mail address; write e.g."),
    ("MAIL_FROM", "a@x.org, b@x.org", "is not one mail address"),
    ("LLM_PRICES", "[1, 2]", "SHIPORSKIP_LLM_PRICES=[1, 2] is not a price table; write JSON"),
    ("LLM_PRICES", '{"m": [1, NaN]}', "is not a price table"),
    ("MODEL", "gpt-4o", "SHIPORSKIP_MODEL=gpt-4o is not a model; write KIND:MODEL with KIND"),
    ("MODEL", "openai:", "SHIPORSKIP_MODEL=openai: is not a model"),
    ("HOST", "http://0.0.0.0", "SHIPORSKIP_HOST=http://0.0.0.0 is not a host name or address"),
    ("CRITICS_DIR", "/nonexistent/critics", "is not a directory; create it or leave the"),
    ("DATA_DIR", " ", "SHIPORSKIP_DATA_DIR=  is empty; give a directory you can write to"),
    ("DATABASE_URL", "postgresql://u:pw@h:x/db", "is not a database URL"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_ENV, ids=lambda v: str(v)[:40])
def test_bad_settings_name_the_variable_and_fix(
    name: str, value: str, message: str, isolated_env: Path
) -> None:
    with pytest.raises(UserError) as caught:
        load_settings(env={"SHIPORSKIP_DATA_DIR": str(isolated_env), f"SHIPORSKIP_{name}": value})
    text = str(caught.value)
    assert text.startswith(f"SHIPORSKIP_{name}=") and message in text
    assert "\n" not in str(caught.value)
    assert not isolated_env.exists()


def test_every_kind_of_setting_has_bad_input_tested() -> None:
    tested = {name.lower() for name, _, _ in BAD_ENV}
    free_text = {"smtp_host", "smtp_user", "smtp_password", "critic_models"}
    free_text |= {"openai_api_key", "anthropic_api_key", "llm_server_keys"}  # tests/llm/test_keys
    free_text |= {"llm_stream"}  # a boolean like load_sample, tested there
    free_text |= {"admin_token", "secret_key"}  # in test_secrets_stay_hidden_in_errors
    assert set(Settings.__dataclass_fields__) - tested - free_text == set()


def test_secrets_stay_hidden_in_errors() -> None:
    for name, value in [("ADMIN_TOKEN", "short-pass"), ("SECRET_KEY", "tiny-key")]:
        with pytest.raises(UserError) as caught:
            load_settings(env={f"SHIPORSKIP_{name}": value})
        assert str(caught.value).startswith(f"SHIPORSKIP_{name}=******** is shorter than 16")
        assert value not in str(caught.value)
    with pytest.raises(UserError) as caught:
        load_settings(env={"SHIPORSKIP_DATABASE_URL": "postgresql://u:s3cret@h:x/db"})
    assert "s3cret" not in str(caught.value) and "u:********@h:x" in str(caught.value)
    with pytest.raises(UserError) as caught:
        load_settings(env={"SHIPORSKIP_DATABASE_URL": "postgresql://u:s3cret@[::1/db"})
    assert str(caught.value).startswith("SHIPORSKIP_DATABASE_URL=******** is not a database URL")


def test_all_bad_values_are_reported_together_naming_their_source(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    config = isolated_env / "config.toml"
    config.write_text('daily_time = "noon"\nllm_timeout = -1\nlog_level = "debug"\n')
    with pytest.raises(UserError) as caught:
        load_settings(
            env={"SHIPORSKIP_DATA_DIR": str(isolated_env), "SHIPORSKIP_JOB_ENGINE": "celery"},
            overrides={"port": "0", "base_url": "example.com"},
        )
    lines = str(caught.value).splitlines()
    assert lines == [
        "SHIPORSKIP_JOB_ENGINE=celery is not allowed; use embedded or procrastinate",
        "--port 0 is out of range; use a number from 1 to 65535",
        "--base-url example.com is not a web address; write http(s)://HOST[:PORT][/PATH], "
        "e.g. https://verdicts.example.com",
        f'daily_time = "noon" in config file {config} is not a time of day; write HH:MM from '
        "00:00 to 23:59 (UTC), or off",
        f"llm_timeout = -1 in config file {config} is out of range; use a number greater "
        "than 0 and at most 3600",
    ]
    config.write_text("port = true\n")
    with pytest.raises(UserError, match=r"port = true in config file .* is not a whole number"):
        load_settings()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[("TRUE", True), ("yes", True), ("On", True), ("1", True)],
        *[("false", False), ("NO", False), ("off", False), ("0", False)],
    ],
)
def test_boolean_spellings(raw: str, expected: bool) -> None:
    assert load_settings(env={"SHIPORSKIP_LOAD_SAMPLE": raw}).load_sample is expected


def test_values_are_normalised() -> None:
    env = {
        "SHIPORSKIP_DAILY_TIME": "6:05",
        "SHIPORSKIP_DIGEST_DAY": "Friday",
        "SHIPORSKIP_LOG_LEVEL": "DEBUG",
    }
    settings = load_settings(env=env)
    assert (settings.daily_time, settings.digest_day, settings.log_level) == (
        "06:05",
        "friday",
        "debug",
    )
    assert load_settings(env={"SHIPORSKIP_DAILY_TIME": "OFF"}).daily_time == "off"


def test_defaults_pass_their_own_rules() -> None:
    defaults = Settings()
    for f in fields(Settings):
        value = getattr(defaults, f.name)
        assert f.metadata["rule"].apply(value) == value, f.name


def test_base_url_follows_host_and_port_unless_set(isolated_env: Path) -> None:
    assert load_settings().base_url == "http://127.0.0.1:8000"
    assert load_settings(overrides={"port": 8123}).base_url == "http://127.0.0.1:8123"
    assert load_settings(overrides={"host": "0.0.0.0"}).base_url == "http://127.0.0.1:8000"
    assert load_settings(overrides={"host": "::1", "port": 9}).base_url == "http://[::1]:9"
    assert load_settings(overrides={"host": "example.org"}).base_url == "http://example.org:8000"
    explicit = {"SHIPORSKIP_BASE_URL": "https://verdicts.example.com"}
    assert (
        load_settings(env=explicit, overrides={"port": 1}).base_url
        == explicit["SHIPORSKIP_BASE_URL"]
    )
    isolated_env.mkdir(parents=True)
    (isolated_env / "config.toml").write_text("port = 7001\n")
    assert load_settings().base_url == "http://127.0.0.1:7001"


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
