"""Single-VLM ablation: one vision-language model watches both clips and writes the reward code.

There is no separate critic: the model sees frames of the expert clip and of the robot's rollout
(``videos``), the previous reward code, the environment context and the training statistics, and
answers with the new ``compute_reward`` directly; the rewrite prompt also shows the search history.
The ``critique`` argument of :meth:`rewrite` / ``propose_rewrites`` is ignored (the ablation has no
upper level). Extraction, validation, retries and the K candidates of ``propose_*`` (one seeded
sample each, duplicates dropped) are those of :class:`vidreward.rewriter.openai_rewriter.CodeWriter`;
the storyboards are made once per call and shown to every sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidreward.critic.base import Critique
from vidreward.errors import ConfigError
from vidreward.lm import render_prompt
from vidreward.lm.config import LMConfig
from vidreward.lm.frames import make_storyboard
from vidreward.rewriter.base import RewriteVideos, SearchHistory, TaskSpec
from vidreward.rewriter.openai_rewriter import OpenAIRewriter, history_text


class SingleModelRewriter(OpenAIRewriter):
    """``Rewriter`` for the Single-VLM ablation.

    ``initial``'s ``expert_clip`` (optional) lets it show the expert's frames too; its storyboard
    goes to ``storyboard_dir`` (or ``record_dir/../storyboard``). ``record_dir`` is the iteration's
    ``lm/`` folder; when None, ``videos.out_dir/lm`` is used in :meth:`rewrite` and
    ``propose_rewrites`` (which need ``videos``).
    """

    name = "single_model"
    system_prompt = "single_model_system"
    initial_kind = "single_initial"
    rewrite_kind = "single_rewrite"

    def __init__(
        self,
        cfg: LMConfig,
        record_dir: Path | None = None,
        storyboard_dir: Path | None = None,
        validate_timeout_s: float = 10.0,
        validate_memory_mb: int = 2048,
    ):
        super().__init__(cfg, record_dir, validate_timeout_s, validate_memory_mb)
        self.storyboard_dir = Path(storyboard_dir) if storyboard_dir is not None else None

    def _initial_messages(
        self, task: TaskSpec, env_context: str, expert_clip: Path | None
    ) -> list[dict[str, Any]]:
        after = render_prompt("single_model_initial_after", env_context=env_context.strip())
        if expert_clip is None:
            before = render_prompt("single_model_initial_no_video", task=task.description, robot=task.robot)
            content: str | list[dict[str, Any]] = before + "\n\n" + after
        else:
            sb_dir = self.storyboard_dir
            if sb_dir is None and self.writer.record_dir is not None:
                sb_dir = self.writer.record_dir.parent / "storyboard"
            expert = make_storyboard(Path(expert_clip), "expert", self.cfg.frames, sb_dir, label="Expert")
            content = [
                {
                    "type": "text",
                    "text": render_prompt(
                        "single_model_initial_before",
                        task=task.description,
                        robot=task.robot,
                        expert_count=len(expert.frames),
                        expert_duration=f"{expert.duration_s:.2f}",
                    ),
                },
                *expert.message_parts(),
                {"type": "text", "text": after},
            ]
        return [self._system(task.robot), {"role": "user", "content": content}]

    def _rewrite_messages(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: RewriteVideos | None,
        history: SearchHistory | None,
    ) -> tuple[list[dict[str, Any]], Path | None]:
        if videos is None:
            raise ConfigError(
                "rewriter backend 'single_model': rewrite() and propose_rewrites() need videos "
                "(expert_clip, rollout_video, out_dir) because the single model looks at both clips itself"
            )
        out_dir = Path(videos.out_dir)
        sb_dir = self.storyboard_dir or out_dir / "storyboard"
        expert = make_storyboard(videos.expert_clip, "expert", self.cfg.frames, sb_dir, label="Expert")
        rollout = make_storyboard(videos.rollout_video, "robot", self.cfg.frames, sb_dir, label="Robot")
        content = [
            {
                "type": "text",
                "text": render_prompt(
                    "single_model_rewrite_before",
                    task=task.description,
                    robot=task.robot,
                    expert_count=len(expert.frames),
                    expert_duration=f"{expert.duration_s:.2f}",
                ),
            },
            *expert.message_parts(),
            {
                "type": "text",
                "text": render_prompt(
                    "single_model_rewrite_between",
                    robot_count=len(rollout.frames),
                    robot_duration=f"{rollout.duration_s:.2f}",
                ),
            },
            *rollout.message_parts(),
            {
                "type": "text",
                "text": render_prompt(
                    "single_model_rewrite_after",
                    env_context=env_context.strip(),
                    previous_code=previous_code.strip(),
                    train_stats=train_stats.strip() or "(no training statistics available)",
                    history=history_text(history),
                ),
            },
        ]
        record_dir = None if self.writer.record_dir is not None else out_dir / "lm"
        return [self._system(task.robot), {"role": "user", "content": content}], record_dir
