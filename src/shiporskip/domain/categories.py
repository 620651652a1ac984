"""The controlled category taxonomy and its aliases."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shiporskip.domain.text import excerpt
from shiporskip.errors import UserError


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    name: str
    description: str
    aliases: tuple[str, ...] = ()


CATEGORIES: tuple[Category, ...] = (
    Category(
        "models",
        "Models",
        "Foundation and open-weight models: language, vision-language and multimodal.",
        (
            "AI/ML Models",
            "Open-Weight Models",
            "Open Weights",
            "LLM",
            "LLMs",
            "Foundation Models",
            "Language Models",
            "Vision-Language Models",
            "VLM",
        ),
    ),
    Category(
        "search-apis",
        "Search & Grounding APIs",
        "APIs that answer from live web search with citations.",
        ("Search APIs", "Grounding", "Web Search", "Research APIs", "Search"),
    ),
    Category(
        "coding-agents",
        "Coding Agents",
        "Assistants and agents that read, write and run code.",
        ("Coding Assistants", "AI Coding", "Code Assistants", "Code Generation", "IDE"),
    ),
    Category(
        "assistants",
        "Assistants",
        "General chat assistants for knowledge work.",
        ("Chatbots", "Chat", "AI Assistants", "Productivity Assistants"),
    ),
    Category(
        "image",
        "Image Generation",
        "Text-to-image and image editing models and apps.",
        ("Image", "Image Models", "Text-to-Image", "Art", "Design"),
    ),
    Category(
        "voice",
        "Voice & Audio",
        "Speech recognition, text-to-speech, voice cloning and music.",
        ("Audio", "Speech", "TTS", "Text-to-Speech", "Speech-to-Text", "Transcription", "Music"),
    ),
    Category(
        "video",
        "Video",
        "Video generation and editing.",
        ("Video Generation", "Text-to-Video"),
    ),
    Category(
        "developer-tools",
        "Developer Tools",
        "SDKs, frameworks, inference servers and platforms for building with AI.",
        ("Dev Tools", "DevTools", "Frameworks", "Infrastructure", "Inference", "MLOps"),
    ),
    Category(
        "agents",
        "Agents & Automation",
        "Agents that act on the web or in business workflows.",
        ("Agents", "Automation", "Workflow Automation", "AI Agents"),
    ),
    Category(
        "writing",
        "Writing & Research",
        "Writing, note-taking and research assistants.",
        ("Writing", "Research", "Notes", "Knowledge Management"),
    ),
)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower().replace("&", "and"))


_BY_KEY: dict[str, Category] = {}
for _category in CATEGORIES:
    for _label in (_category.slug, _category.name, *_category.aliases):
        _BY_KEY.setdefault(_key(_label), _category)

BY_SLUG: dict[str, Category] = {c.slug: c for c in CATEGORIES}


def valid_names() -> str:
    """The valid category names, for error messages."""
    return ", ".join(f"{c.name} ({c.slug})" for c in CATEGORIES)


def resolve_category(label: str) -> Category:
    """Map a slug, name or alias to its category, or raise naming the valid ones."""
    found = _BY_KEY.get(_key(label))
    if found is None:
        raise UserError(f"unknown category {excerpt(label)!r}; use one of: {valid_names()}")
    return found
