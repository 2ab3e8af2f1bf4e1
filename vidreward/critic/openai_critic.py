"""Critic backend: a vision-language model at an OpenAI-compatible endpoint writes the feedback.

The model sees sampled frames of the expert clip and of the robot's rollout (saved as the
iteration's storyboard), the task and the current reward code, and answers in four sections
(Problems / Rewrite component / Remove component / New component). An answer without those
sections is sent back once per remaining try (``LMConfig.max_tries``) with a request to reformat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidreward.critic.base import Critique, CritiqueInput
from vidreward.errors import CritiqueError
from vidreward.lm import render_prompt
from vidreward.lm.client import LMClient
from vidreward.lm.config import LMConfig
from vidreward.lm.frames import Storyboard, make_storyboard


def critic_messages(
    task: str, robot: str, reward_code: str, expert: Storyboard, rollout: Storyboard
) -> list[dict[str, Any]]:
    """System + user messages (text, expert frames, robot frames, reward code) for the critic."""
    content: list[dict[str, Any]] = [
        {
            "type": "text",
            "text": render_prompt(
                "critic_user_before",
                task=task,
                robot=robot,
                expert_count=len(expert.frames),
                expert_duration=f"{expert.duration_s:.2f}",
                robot_count=len(rollout.frames),
                robot_duration=f"{rollout.duration_s:.2f}",
            ),
        },
        *expert.message_parts(),
        {"type": "text", "text": render_prompt("critic_user_between", robot=robot)},
        *rollout.message_parts(),
        {"type": "text", "text": render_prompt("critic_user_after", reward_code=reward_code.strip())},
    ]
    return [
        {"role": "system", "content": render_prompt("critic_system", robot=robot)},
        {"role": "user", "content": content},
    ]


class OpenAICritic:
    """``Critic`` backed by a vision-language model; see the module docstring."""

    name = "openai"

    def __init__(self, cfg: LMConfig):
        self.cfg = cfg

    def critique(self, inp: CritiqueInput) -> Critique:
        from vidreward.critic.parse import parse_critique

        out_dir = Path(inp.out_dir)
        storyboard_dir = out_dir / "storyboard"
        expert = make_storyboard(inp.expert_clip, "expert", self.cfg.frames, storyboard_dir, label="Expert")
        rollout = make_storyboard(inp.rollout_video, "robot", self.cfg.frames, storyboard_dir, label="Robot")
        task = inp.task.strip()
        messages = critic_messages(task, inp.robot, inp.reward_code, expert, rollout)

        errors: list[str] = []
        with LMClient(self.cfg, record_dir=out_dir / "lm") as client:
            for attempt in range(1, self.cfg.max_tries + 1):
                resp = client.chat(messages, purpose=f"critic_try{attempt}")
                source = (
                    f"critic answer of {self.cfg.model!r} at {client.endpoint} "
                    f"(request {resp.request_hash[:16]}"
                    + (f", record {resp.record_path}" if resp.record_path else "")
                    + ")"
                )
                try:
                    critique = parse_critique(resp.text, source=source, backend="openai")
                except CritiqueError as exc:
                    errors.append(f"try {attempt}: {exc}")
                    messages = messages + [
                        {"role": "assistant", "content": resp.text},
                        {"role": "user", "content": render_prompt("critic_format_retry", error=str(exc))},
                    ]
                    continue
                critique.gap = None
                return critique
        raise CritiqueError(
            f"{self.cfg.model!r} at {client.endpoint}: no usable four-part feedback after "
            f"{self.cfg.max_tries} tries: " + " | ".join(errors)
        )
