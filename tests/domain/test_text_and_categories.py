import pytest

from shiporskip.domain.categories import CATEGORIES, resolve_category
from shiporskip.domain.text import check_slug, homepage_key, name_key, slugify
from shiporskip.errors import UserError


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("AI/ML Models", "models"),
        ("Open-Weight Models", "models"),
        ("open weight models", "models"),
        ("Models", "models"),
        ("models", "models"),
        ("Developer Tools", "developer-tools"),
        ("Search & Grounding APIs", "search-apis"),
        ("Text-to-Speech", "voice"),
    ],
)
def test_aliases_map_to_one_category(label: str, slug: str) -> None:
    assert resolve_category(label).slug == slug


def test_unknown_category_lists_the_valid_ones() -> None:
    with pytest.raises(UserError) as info:
        resolve_category("Quantum Blockchain")
    message = str(info.value)
    assert "unknown category 'Quantum Blockchain'" in message
    for category in CATEGORIES:
        assert category.slug in message


def test_aliases_are_unambiguous() -> None:
    seen: dict[str, str] = {}
    for category in CATEGORIES:
        for label in (category.slug, category.name, *category.aliases):
            key = name_key(label.replace("&", "and"))
            assert seen.setdefault(key, category.slug) == category.slug, label


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Claude Sonnet 4", "claude-sonnet-4"),
        ("SmolVLM2-2B", "smolvlm2-2b"),
        ("Grok vs Gemini", "grok-versus-gemini"),
        ("Ünïcode Tool!!", "unicode-tool"),
        ("C++ Helper", "c-plus-plus-helper"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert check_slug(slug) == slug


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Has Spaces", "lowercase letters, digits and single hyphens"),
        ("UPPER", "lowercase"),
        ("a--b", "single hyphens"),
        ("-lead", "single hyphens"),
        ("cursor-vs-copilot", "reserved for comparison pages"),
        ("vs-code", "reserved"),
        ("x" * 65, "longer than 64"),
        ("semi;colon", "lowercase"),
    ],
)
def test_bad_slugs_are_refused(slug: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_slug(slug)


def test_name_key_ignores_case_space_and_punctuation() -> None:
    assert name_key("SmolVLM2-2B") == name_key("smolvlm2 2b") == "smolvlm22b"
    assert name_key("Claude 4 Sonnet") != name_key("Claude Sonnet 4")


def test_homepage_key_ignores_scheme_www_slash_query() -> None:
    assert (
        homepage_key("https://www.Cursor.com/")
        == homepage_key("http://cursor.com?ref=x#top")
        == "cursor.com"
    )
    assert homepage_key("https://huggingface.co/a/b") != homepage_key("https://huggingface.co/c/d")
