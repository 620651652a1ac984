"""Critics are data: one YAML file each, validated on load (unknown keys rejected)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shiporskip.errors import NotFoundError, UserError


class Critic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")
    name: str = Field(min_length=1, max_length=60)
    role: str = Field(min_length=1, max_length=80)
    motto: str = Field(min_length=1, max_length=160)
    lens: str = Field(min_length=1, max_length=800)
    excited_about: tuple[str, str, str]
    tired_of: tuple[str, str, str]
    review_shape: tuple[str, ...] = Field(min_length=1, max_length=8)
    rules: tuple[str, ...] = Field(default=(), max_length=8)
    prediction: Literal["required", "optional", "never"] = "optional"
    retired: bool = False

    @field_validator("excited_about", "tired_of", mode="before")
    @classmethod
    def _three(cls, value: object) -> object:
        if isinstance(value, list | tuple) and len(value) != 3:
            raise ValueError(f"needs exactly 3 items, found {len(value)}")
        return value

    @property
    def label(self) -> str:
        return self.role.split("·")[0].strip()


BUILTIN_ORDER = ("builder", "skeptic", "futurist", "buyer", "operator", "user", "scientist")


def _files(directory: Path | None) -> list[Path]:
    if directory is None:
        root = resources.files("shiporskip.critics")
        with resources.as_file(root) as path:
            return sorted(Path(path).glob("*.yaml"))
    if not directory.is_dir():
        raise UserError(
            f"critics dir {directory} does not exist; create it or unset SHIPORSKIP_CRITICS_DIR"
        )
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def load_critic(path: Path) -> Critic:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"critic file {path}: invalid YAML ({exc}); fix the syntax") from None
    if not isinstance(data, dict):
        raise UserError(f"critic file {path}: expected a mapping of field: value")
    try:
        critic = Critic.model_validate(data)
    except ValidationError as exc:
        from shiporskip.catalog import describe_validation_error

        problems = "; ".join(describe_validation_error(exc))
        raise UserError(f"critic file {path}: {problems}") from None
    if critic.id != path.stem:
        raise UserError(
            f"critic file {path}: id {critic.id!r} must match the file name; "
            f"rename the file to {critic.id}.yaml"
        )
    return critic


def load_critics(directory: Path | None = None, *, include_retired: bool = False) -> list[Critic]:
    """The panel: built-in critics, or the operator's own directory of critic files."""
    critics = [load_critic(p) for p in _files(directory)]
    if not critics:
        raise UserError(f"critics dir {directory} holds no .yaml critic files; add at least one")
    rank = {cid: i for i, cid in enumerate(BUILTIN_ORDER)}
    critics.sort(key=lambda c: (rank.get(c.id, len(rank)), c.id))
    return [c for c in critics if include_retired or not c.retired]


def find_critic(critics: list[Critic], critic_id: str) -> Critic:
    for critic in critics:
        if critic.id == critic_id:
            return critic
    valid = ", ".join(c.id for c in critics)
    raise NotFoundError(f"no critic {critic_id!r}; the panel is: {valid}")
