"""docs/settings.md, generated from the settings table so the page cannot drift from it.

Regenerate with `shiporskip settings --markdown > docs/settings.md`; a test fails when the
file differs from what this module writes.
"""

from __future__ import annotations

from shiporskip.settings import table

INTRO = """\
# Settings

<!-- Generated from src/shiporskip/settings.py by `shiporskip settings --markdown`; do not
edit by hand (tests/test_docs.py fails when this page is stale). -->

One table in `src/shiporskip/settings.py` defines every setting: name, type, default, what
it accepts and help. The same table drives validation, `shiporskip settings` and this page.

Precedence, lowest first: **defaults < config file < environment < command-line flag**.
The config file is `config.toml` in the data dir, or the file named by `SHIPORSKIP_CONFIG`:

```toml
port = 8080
log_level = "debug"
```

Every value is checked when settings load, before anything is written. Each bad value is
reported in one sentence, one line each, that names it as you wrote it (environment
variable, config file key or command-line flag) and says what to write instead; the command
exits with code 1:

```console
$ SHIPORSKIP_JOB_LEASE=0 shiporskip worker
Error: SHIPORSKIP_JOB_LEASE=0 is out of range; use a number greater than 0 and at most 86400
```

Secrets are never printed, not even in these messages.

"""

OUTRO = """
Booleans accept `true/false`, `yes/no`, `on/off` and `1/0` (any case). Numbers must be
finite (`nan` and `inf` are refused). Choices are matched without regard to case.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The settings page: intro, one table row per setting, notes."""
    lines = [
        "| Setting | Environment variable | Type | Default | Accepts | What it does |",
        "|---|---|---|---|---|---|",
    ]
    for row in table():
        kind = f"{row.type}, secret" if row.secret else row.type
        cells = [f"`{row.name}`", f"`{row.env}`", kind, row.default, row.allowed, row.help]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return INTRO + "\n".join(lines) + "\n" + OUTRO
