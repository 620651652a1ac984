"""Render the review prompt from its data file, and fingerprint what a review depends on."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from shiporskip.domain.categories import BY_SLUG
from shiporskip.domain.pricing import ENTRY_LABELS
from shiporskip.domain.reviews import BODY_WORDS
from shiporskip.domain.tools import Tool
from shiporskip.domain.untrusted import Fence, clean
from shiporskip.panel.critics import Critic

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@cache
def _template_source() -> str:
    return resources.files("shiporskip.prompts").joinpath("review.yaml").read_text("utf-8")


@cache
def _templates() -> dict[str, Any]:
    data = yaml.safe_load(_template_source())
    return {key: _ENV.from_string(data[key]) for key in ("system", "user", "repair")}


def prompt_version(critic: Critic) -> str:
    """A short hash of the prompt template and the critic's definition."""
    digest = hashlib.sha256(_template_source().encode())
    digest.update(json.dumps(critic.model_dump(mode="json"), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def input_hash(tool: Tool, critic: Critic, model_label: str) -> str:
    """Same tool facts, critic, prompt version and model: same hash, so not sent twice."""
    facts = tool.model_dump(mode="json", exclude={"sample"})
    payload = json.dumps(
        [facts, critic.id, prompt_version(critic), model_label], sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Prompt:
    system: str
    user: str
    fence: Fence


def build_prompt(tool: Tool, critic: Critic, *, today: date, fence: Fence | None = None) -> Prompt:
    """The system and user messages for one critic, with maker text fenced."""
    fence = fence or Fence.new()
    fenced = {
        "tagline": fence.wrap("tagline", tool.tagline),
        "description": fence.wrap("description", tool.description or "(none)"),
        "pricing_note": fence.wrap("pricing note", tool.pricing.note) if tool.pricing.note else "",
    }
    plans = []
    for plan in tool.pricing.plans:
        line = f"{clean(plan.name)}: {plan.describe()} ({plan.period.value})"
        if plan.note:
            line += " " + fence.wrap(f"plan {plan.name} note", plan.note).replace("\n", " ")
        plans.append(line)
    safe_tool = tool.model_copy(update={"name": clean(tool.name), "vendor": clean(tool.vendor)})
    low, high = BODY_WORDS
    context = {
        "critic": critic,
        "tool": safe_tool,
        "category": BY_SLUG[tool.category].name,
        "entry": ENTRY_LABELS[tool.pricing.entry],
        "plans": plans,
        "fenced": fenced,
        "fence": fence,
        "today": today.isoformat(),
        "min_words": low,
        "max_words": high,
    }
    templates = _templates()
    return Prompt(
        system=templates["system"].render(context).strip(),
        user=templates["user"].render(context).strip(),
        fence=fence,
    )


def repair_message(critic: Critic, error: str) -> str:
    return str(_templates()["repair"].render({"critic": critic, "error": error})).strip()
