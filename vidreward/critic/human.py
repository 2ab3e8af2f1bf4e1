"""Human-as-VLM baseline: a person watches both clips and writes the four-part feedback.

``critique`` prepares ``<out_dir>/human/``: links (or copies) of the expert clip and the rollout,
storyboards of both (the frames a model would see, plus contact sheets), the current reward code and
``feedback_template.md``. When ``feedback_path`` holds filled-in feedback it is parsed like a model's
answer and returned (backend ``"human"``); otherwise ``CritiqueError`` says which file to write.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from vidreward.critic.base import Critique, CritiqueInput
from vidreward.errors import CritiqueError
from vidreward.critic.parse import count_items, parse_critique
from vidreward.fsutil import atomic_write_text
from vidreward.lm import render_prompt
from vidreward.lm.frames import make_storyboard

TEMPLATE_NAME = "feedback_template.md"


def _place(src: Path, dst: Path) -> Path:
    """Hard-link ``src`` to ``dst`` (same file system), else copy; replaces an older ``dst``."""
    src = Path(src)
    if not src.is_file():
        raise CritiqueError(f"{src}: video for the human critic does not exist")
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


class HumanCritic:
    """``Critic`` whose feedback a person writes into ``feedback_path``."""

    name = "human"

    def __init__(self, feedback_path: Path, frames: int = 8):
        self.feedback_path = Path(feedback_path)
        self.frames = frames

    def prepare(self, inp: CritiqueInput) -> Path:
        """Write what a person needs into ``<out_dir>/human/``; return the template's path."""
        human_dir = Path(inp.out_dir) / "human"
        storyboard_dir = human_dir / "storyboard"
        human_dir.mkdir(parents=True, exist_ok=True)
        expert = _place(Path(inp.expert_clip), human_dir / f"expert{Path(inp.expert_clip).suffix}")
        robot = _place(Path(inp.rollout_video), human_dir / f"robot{Path(inp.rollout_video).suffix}")
        make_storyboard(expert, "expert", self.frames, storyboard_dir, label="Expert")
        make_storyboard(robot, "robot", self.frames, storyboard_dir, label="Robot")
        reward_file = human_dir / "reward.py"
        atomic_write_text(reward_file, inp.reward_code.rstrip() + "\n")
        template = human_dir / TEMPLATE_NAME
        text = render_prompt(
            "human_feedback_template",
            iteration_label=Path(inp.out_dir).name,
            human_dir=human_dir,
            expert_video=f"{expert.name} (original: {Path(inp.expert_clip)})",
            robot_video=f"{robot.name} (original: {Path(inp.rollout_video)})",
            storyboard_dir=storyboard_dir,
            reward_file=reward_file.name,
            task=inp.task.strip(),
            robot=inp.robot,
            feedback_path=self.feedback_path,
        )
        atomic_write_text(template, text)
        # A second copy next to the feedback file: it survives a workflow engine that deletes the
        # outputs (out_dir) of the failed critique step.
        atomic_write_text(self.side_template, text)
        return template

    @property
    def side_template(self) -> Path:
        """``<feedback dir>/<feedback stem>.template.md``: the template beside the file to write."""
        return self.feedback_path.with_name(self.feedback_path.stem + ".template.md")

    def critique(self, inp: CritiqueInput) -> Critique:
        template = self.prepare(inp)
        how = (
            f"copy the template {template} (also at {self.side_template}) to {self.feedback_path}, "
            f"fill in the four sections "
            f"(Problems / Rewrite component / Remove component / New component) after watching the "
            f"videos in {template.parent}, then rerun"
        )
        if not self.feedback_path.is_file():
            raise CritiqueError(f"{self.feedback_path}: no human feedback yet; {how}")
        try:
            text = self.feedback_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CritiqueError(f"{self.feedback_path}: cannot read human feedback ({exc})") from exc
        critique = parse_critique(text, source=str(self.feedback_path), backend="human")
        if count_items(critique) == 0:
            raise CritiqueError(
                f"{self.feedback_path}: the feedback file is still the unfilled template "
                f"(no items under any heading); {how}"
            )
        return critique
