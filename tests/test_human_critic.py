"""Human-as-VLM critic backend: preparation of the material, missing/unfilled/filled feedback."""

from __future__ import annotations

import pytest

from lm_server import make_clip
from vidreward.critic.base import CritiqueInput
from vidreward.critic.human import HumanCritic
from vidreward.errors import CritiqueError

REWARD = "import torch\n\ndef compute_reward(root_linvel):\n    r = root_linvel[:, 0]\n    return r, {'forward_velocity': r}\n"

FILLED = """# My feedback

## Problems
1. The robot shuffles; the spider lifts its legs high.
2. It drifts to the left.

## Rewrite component
1. forward_velocity: aim for about 1 body length per second.

## Remove component
None

## New component
- foot_clearance: reward feet being off the ground part of the time
"""


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return make_clip(d / "expert.mp4"), make_clip(d / "rollout.mp4", frames=16, burst=(2, 5))


def _input(clips, out_dir) -> CritiqueInput:
    return CritiqueInput(
        expert_clip=clips[0], rollout_video=clips[1], trajectory=out_dir / "trajectory.npz",
        reward_code=REWARD, train_log=None, out_dir=out_dir, robot="ant", task="Walk like the spider.",
    )


def test_absent_feedback_prepares_material_and_names_the_file(tmp_path, clips):
    feedback = tmp_path / "feedback" / "run" / "iter_0.md"
    out = tmp_path / "results" / "iter_0"
    with pytest.raises(CritiqueError) as exc:
        HumanCritic(feedback, frames=4).critique(_input(clips, out))
    msg = str(exc.value)
    template = out / "human" / "feedback_template.md"
    assert str(feedback) in msg and str(template) in msg

    human = out / "human"
    assert (human / "expert.mp4").read_bytes() == clips[0].read_bytes()
    assert (human / "robot.mp4").read_bytes() == clips[1].read_bytes()
    assert (human / "reward.py").read_text() == REWARD
    assert len(list((human / "storyboard").glob("expert_[0-9][0-9].png"))) == 4
    assert (human / "storyboard" / "robot_contact_sheet.png").is_file()
    text = template.read_text()
    for heading in ("## Problems", "## Rewrite component", "## Remove component", "## New component"):
        assert heading in text
    assert str(feedback) in text and "Walk like the spider." in text
    assert str(clips[0]) in text and str(clips[1]) in text
    side = feedback.parent / "iter_0.template.md"
    assert side.read_text() == text and str(side) in msg


def test_unfilled_template_is_rejected(tmp_path, clips):
    out = tmp_path / "iter_0"
    feedback = tmp_path / "iter_0.md"
    critic = HumanCritic(feedback, frames=3)
    critic.prepare(_input(clips, out))
    feedback.write_text((out / "human" / "feedback_template.md").read_text())
    with pytest.raises(CritiqueError) as exc:
        critic.critique(_input(clips, out))
    assert "unfilled" in str(exc.value) and str(feedback) in str(exc.value)


def test_filled_feedback_becomes_a_critique(tmp_path, clips):
    feedback = tmp_path / "iter_1.md"
    feedback.write_text(FILLED)
    critique = HumanCritic(feedback, frames=3).critique(_input(clips, tmp_path / "iter_1"))
    assert critique.backend == "human" and critique.gap is None
    assert [i.text for i in critique.problems] == [
        "The robot shuffles; the spider lifts its legs high.", "It drifts to the left."]
    assert critique.rewrite[0].component == "forward_velocity"
    assert critique.remove == []
    assert critique.new[0].component == "foot_clearance"
    assert critique.raw_text == FILLED


def test_feedback_without_headings_names_the_file(tmp_path, clips):
    feedback = tmp_path / "iter_2.md"
    feedback.write_text("Looks slow to me, make it faster.\n")
    with pytest.raises(CritiqueError, match="iter_2.md"):
        HumanCritic(feedback, frames=3).critique(_input(clips, tmp_path / "iter_2"))
