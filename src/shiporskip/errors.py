"""Errors a user can fix: shown as one clear sentence, never as a traceback."""

import re


class UserError(Exception):
    """A mistake in input or configuration; the message names what is wrong and the fix."""


class DuplicateToolError(UserError):
    """A tool that already exists in the catalog was added again."""

    def __init__(self, message: str, existing_slug: str) -> None:
        super().__init__(message)
        self.existing_slug = existing_slug
        self.index: int | None = None  # position in an import batch, when there is one


class NotFoundError(UserError):
    """A slug or id that names nothing."""


# "; see `shiporskip tools list`", "; run `shiporskip review x` again to retry ...": advice
# for the operator at a terminal, which a reader of the site can neither follow nor use.
_CLI_HINT = re.compile(
    r"[;,]?\s*(?:\b(?:see|run|use|try|with)\s+)?`shiporskip\b[^`]*`[^;.]*", re.IGNORECASE
)


def without_cli_hints(message: str) -> str:
    """The message for a reader of the site: the same sentence without command-line advice."""
    return _CLI_HINT.sub("", message).strip() or "the request could not be completed"
