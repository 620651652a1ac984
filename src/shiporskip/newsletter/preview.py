"""Preview a week's digest as files: the HTML a subscriber would see, and the text part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shiporskip.errors import UserError
from shiporskip.newsletter.digest import Digest, build_digest
from shiporskip.newsletter.render import mail_html, mail_text, render_issue
from shiporskip.newsletter.weeks import IsoWeek, check_started, resolve_week
from shiporskip.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Preview:
    digest: Digest
    html: Path
    text: Path


def _paths(runtime: Runtime, week: IsoWeek, output: Path | None) -> tuple[Path, Path]:
    if output is None:
        folder = runtime.settings.data_dir / "digests"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{week}.html", folder / f"{week}.txt"
    if output.suffix.lower() == ".txt":
        raise UserError(
            f"--output {output} names the HTML file; use e.g. {output.with_suffix('.html')}"
        )
    if not output.parent.is_dir():
        raise UserError(f"cannot write {output}: the folder {output.parent} does not exist")
    return output, output.with_suffix(".txt")


def write_preview(
    runtime: Runtime, week: str | IsoWeek | None = None, output: Path | None = None
) -> Preview:
    """Build a week's digest (default: the last complete week) and write HTML and text files."""
    now = datetime.now(UTC)
    iso = resolve_week(week, now)
    check_started(iso, now)
    html_path, text_path = _paths(runtime, iso, output)
    digest = build_digest(runtime, iso, now)
    base = runtime.settings.base_url
    content = render_issue(digest, base)
    try:
        html_path.write_text(mail_html(content, base, None), encoding="utf-8")
        text_path.write_text(mail_text(content, base, None), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write the preview to {html_path}: {exc.strerror or exc}") from None
    return Preview(digest, html_path, text_path)
