"""The command line: output, --json, and one clear line for every user mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shiporskip.cli.main import main
from tests.factories import tool_data

ADD_SONAR = [
    "tools",
    "add",
    "--name",
    "Sonar API",
    "--vendor",
    "Perplexity",
    "--homepage",
    "https://sonar.perplexity.ai",
    "--category",
    "Search",
    "--tagline",
    "Web answers with citations",
    "--entry",
    "paid",
    "--plan",
    "Requests: 5 USD per 1000 requests",
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_show_list_cost_remove(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *ADD_SONAR)[0] == 0
    code, out, _ = run(capsys, "tools", "show", "sonar-api", "--json")
    assert code == 0 and json.loads(out)["vendor"] == "Perplexity"
    code, out, _ = run(capsys, "tools", "list", "--json")
    assert json.loads(out)["count"] == 1
    code, out, _ = run(capsys, "tools", "list", "--category", "search-apis")
    assert "sonar-api" in out
    code, out, _ = run(capsys, "tools", "cost", "sonar-api", "--usage", "50,000 requests")
    assert code == 0 and "Requests: $250 a month" in out and "cheapest" in out
    code, out, _ = run(capsys, "tools", "cost", "sonar-api", "--usage", "50k requests", "--json")
    assert json.loads(out)["plans"][0]["monthly_cost"] == "250"
    assert run(capsys, "tools", "remove", "sonar-api", "--yes")[0] == 0
    assert json.loads(run(capsys, "tools", "list", "--json")[1])["count"] == 0


def test_edit_changes_only_what_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, *ADD_SONAR)
    code, _, err = run(capsys, "tools", "edit", "sonar-api", "--tagline", "Search API")
    assert code == 0, err
    shown = json.loads(run(capsys, "tools", "show", "sonar-api", "--json")[1])
    assert shown["tagline"] == "Search API" and shown["vendor"] == "Perplexity"
    code, _, err = run(capsys, "tools", "edit", "sonar-api")
    assert code == 1 and "nothing to change" in err


def test_duplicate_add_points_at_the_existing_record(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, *ADD_SONAR)
    again = [*ADD_SONAR]
    again[again.index("Sonar API")] = "sonar api"
    code, _out, err = run(capsys, *again)
    assert code == 1
    assert "already in the catalog as 'sonar-api'" in err
    assert "shiporskip tools edit sonar-api" in err
    assert json.loads(run(capsys, "tools", "list", "--json")[1])["count"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tools", "show", "nope"], "no tool with slug 'nope'"),
        (["tools", "remove", "nope", "--yes"], "no tool with slug 'nope'"),
        (["tools", "list", "--category", "Crypto"], "unknown category 'Crypto'"),
        (["tools", "add", "--name", "X"], "missing --vendor, --homepage"),
        (["tools", "import", "/nonexistent.yaml"], "file not found"),
        (["tools", "export", "--format", "xml"], "--format 'xml' is not supported"),
        (["tools", "cost", "x", "--usage", "loads"], "--usage:"),
        (["--database-url", "postgresql+psycopg://u:pw@127.0.0.1:1/x", "tools", "list"], "cannot"),
    ],
)
def test_user_mistakes_are_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 1
    assert message in err
    assert "Traceback" not in err + out
    assert err.startswith("Error: ")


def test_bad_add_options_name_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*ADD_SONAR]
    args[args.index("https://sonar.perplexity.ai")] = "sonar dot ai"
    args[args.index("Requests: 5 USD per 1000 requests")] = "Requests: -5 per request"
    code, _, err = run(capsys, *args)
    assert code == 1
    assert "--homepage: 'sonar dot ai' is not a web address" in err
    assert "--plan" in err
    code, _, err = run(capsys, *[*ADD_SONAR[:-1], "whatever"])
    assert "--plan: cannot read plan 'whatever'" in err


def test_click_usage_errors_are_clear(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "tools", "frobnicate")
    assert code == 2 and "No such command 'frobnicate'" in err


def test_import_export_round_trip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "in.yaml"
    source.write_text(yaml.safe_dump({"tools": [tool_data("One"), tool_data("Two")]}))
    code, out, err = run(capsys, "tools", "import", str(source))
    assert code == 0, err
    assert "2 added, 0 updated" in out
    exported = tmp_path / "out.yaml"
    assert run(capsys, "tools", "export", "-o", str(exported))[0] == 0
    code, out, err = run(capsys, "tools", "import", str(exported))
    assert code == 1 and "already in the catalog" in err
    code, out, err = run(capsys, "tools", "import", str(exported), "--update")
    assert code == 0 and "0 added, 2 updated" in out


def test_settings_masks_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--database-url", "sqlite:////tmp/x.db", "settings", "--json")
    assert json.loads(out)["database_url"] == "sqlite:////tmp/x.db"
    code, out, _ = run(capsys, "--database-url", "postgresql://u:topsecret@h/db", "settings")
    assert code == 0 and "topsecret" not in out and "********" in out


def test_db_upgrade_status_and_categories(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "latest" in out
    status = json.loads(run(capsys, "db", "status", "--json")[1])
    assert status["revision"] == status["latest"]
    cats = json.loads(run(capsys, "categories", "list", "--json")[1])
    assert cats["count"] == len(cats["categories"]) >= 8


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("shiporskip")
    result = subprocess.run(
        [str(script), "tools", "show", "missing"],
        capture_output=True,
        text=True,
        env={"SHIPORSKIP_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "Error: no tool with slug 'missing'; see `shiporskip tools list`"
    )


def test_cost_of_seat_plans_at_three_seats(capsys: pytest.CaptureFixture[str]) -> None:
    sample = Path(__file__).parents[2] / "src" / "shiporskip" / "sample" / "catalog.yaml"
    assert run(capsys, "tools", "import", str(sample))[0] == 0
    code, out, _ = run(capsys, "tools", "cost", "cursor", "--usage", "3 seats")
    assert code == 0
    assert out.splitlines() == [
        "Cursor at 3 seats a month:",
        "  Hobby: doesn't cover this usage (the Hobby plan allows at most 1 seat; "
        "this usage needs 3 seats)",
        "    limit: at most 1 seat",
        "  Pro: $60 a month  ← cheapest",
        "  Ultra: $600 a month",
        "  Teams: $120 a month",
    ]
    code, out, _ = run(capsys, "tools", "cost", "cursor", "--usage", "1 seat")
    assert out.splitlines()[:3] == [
        "Cursor at 1 seat a month:",
        "  Hobby: $0 a month  ← cheapest",
        "    limit: at most 1 seat",
    ]
    code, out, _ = run(capsys, "tools", "cost", "cursor", "--usage", "3 seats", "--json")
    data = json.loads(out)
    assert data["usage_text"] == "3 seats" and data["cheapest"] == "Pro"
    hobby, pro = data["plans"][:2]
    assert hobby["covers"] is False and hobby["monthly_cost"] is None
    assert hobby["limits"] == ["at most 1 seat"]
    assert pro["monthly_cost"] == "60" and pro["covers"] is True
    code, out, _ = run(capsys, "tools", "cost", "github-copilot", "--usage", "1 request")
    assert out.splitlines()[0] == "GitHub Copilot at 1 request a month:"
