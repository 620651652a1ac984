import pytest
from pydantic import ValidationError

from shiporskip.domain.tools import Tool
from tests.factories import make_tool, tool_data


def test_slug_is_derived_from_the_name_and_category_resolved() -> None:
    tool = make_tool("Claude Sonnet 4", category="AI/ML Models")
    assert tool.slug == "claude-sonnet-4"
    assert tool.category == "models"


def test_tool_data_round_trips() -> None:
    tool = make_tool(
        "Round Trip",
        aliases=["RT"],
        licence="MIT",
        links={"docs": "https://example.com/docs"},
        launch_date="2025-01-02",
    )
    assert Tool.model_validate(tool.to_data()) == tool


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"homepage": "not a url"}, "is not a web address"),
        ({"homepage": "ftp://example.com"}, "is not a web address"),
        ({"category": "Nope"}, "unknown category"),
        ({"category": 5}, "must be a category name"),
        ({"slug": "bad slug"}, "lowercase letters"),
        ({"slug": "a-vs-b"}, "reserved for comparison pages"),
        ({"name": "!!!"}, "at least one letter or digit"),
        ({"tagline": "x" * 141}, "at most 140 characters"),
        ({"launch_date": "yesterday"}, "valid date"),
        ({"open_weights": "maybe"}, "valid boolean"),
        ({"pricing": {"entry": "open-source"}}, "needs a licence"),
        ({"pricing": {"entry": "gratis"}}, "Input should be"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_tools_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Tool.model_validate({**tool_data("Bad"), **overrides})
