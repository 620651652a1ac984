from pathlib import Path

import pytest
import yaml

from shiporskip.errors import UserError
from shiporskip.panel.critics import find_critic, load_critics

BUILTIN = ["builder", "skeptic", "futurist", "buyer", "operator", "user", "scientist"]


def test_seven_builtin_critics_in_panel_order() -> None:
    critics = load_critics()
    assert [c.id for c in critics] == BUILTIN
    for critic in critics:
        assert len(critic.excited_about) == 3 and len(critic.tired_of) == 3
        assert critic.review_shape and critic.motto and critic.lens
    assert {c.id for c in critics if c.prediction == "required"} == {"skeptic", "futurist"}


def copy_builtin(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for critic in load_critics():
        (directory / f"{critic.id}.yaml").write_text(yaml.safe_dump(critic.model_dump(mode="json")))


def test_operator_can_edit_add_and_retire(tmp_path: Path) -> None:
    copy_builtin(tmp_path)
    skeptic = yaml.safe_load((tmp_path / "skeptic.yaml").read_text())
    skeptic["motto"] = "Edited motto."
    (tmp_path / "skeptic.yaml").write_text(yaml.safe_dump(skeptic))
    user = yaml.safe_load((tmp_path / "user.yaml").read_text())
    user["retired"] = True
    (tmp_path / "user.yaml").write_text(yaml.safe_dump(user))
    lawyer = {**skeptic, "id": "lawyer", "name": "Lee Lawyer", "role": "Lawyer · licence check"}
    (tmp_path / "lawyer.yaml").write_text(yaml.safe_dump(lawyer))
    critics = load_critics(tmp_path)
    assert [c.id for c in critics] == [
        "builder",
        "skeptic",
        "futurist",
        "buyer",
        "operator",
        "scientist",
        "lawyer",
    ]
    assert find_critic(critics, "skeptic").motto == "Edited motto."
    assert "user" in [c.id for c in load_critics(tmp_path, include_retired=True)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mood": "grumpy"}, "mood: is not a known field"),
        ({"excited_about": ["one", "two"]}, "needs exactly 3 items"),
        ({"id": "Bad Id"}, "id:"),
        ({"prediction": "sometimes"}, "prediction:"),
        ({"id": "other"}, "must match the file name"),
    ],
)
def test_bad_critic_files_are_refused_naming_file_and_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    copy_builtin(tmp_path)
    data = yaml.safe_load((tmp_path / "builder.yaml").read_text())
    data.update(change)
    (tmp_path / "builder.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(UserError, match=message) as info:
        load_critics(tmp_path)
    assert "builder.yaml" in str(info.value)


def test_missing_or_empty_critics_dir(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_critics(tmp_path / "nope")
    with pytest.raises(UserError, match=r"holds no \.yaml critic files"):
        load_critics(tmp_path)
    (tmp_path / "broken.yaml").write_text("id: [")
    with pytest.raises(UserError, match="invalid YAML"):
        load_critics(tmp_path)


def test_unknown_critic_lists_the_panel() -> None:
    with pytest.raises(UserError, match="no critic 'poet'; the panel is: builder, skeptic"):
        find_critic(load_critics(), "poet")
