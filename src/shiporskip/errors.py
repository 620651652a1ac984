"""Errors a user can fix: shown as one clear sentence, never as a traceback."""


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
