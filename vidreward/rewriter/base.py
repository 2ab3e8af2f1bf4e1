"""The interface every rewriter backend (lower level) implements.

Each input reaches a rewriter through one door: the backend's own settings (language-model
settings, where to record) through its constructor; the robot and the task through the
:class:`TaskSpec` that both :meth:`Rewriter.initial` and :meth:`Rewriter.rewrite` take; the expert
clip through ``initial``'s ``expert_clip`` and, with the rollout video, through ``rewrite``'s
:class:`RewriteVideos`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vidreward.critic.base import Critique


@dataclass
class TaskSpec:
    """What the run asks for: the robot and a plain-language description of the behaviour."""

    robot: str
    description: str


@dataclass
class RewriteVideos:
    """The two clips of an iteration, for rewriters that see video directly."""

    expert_clip: Path
    rollout_video: Path
    out_dir: Path


class Rewriter(Protocol):
    name: str

    def initial(self, task: TaskSpec, env_context: str, expert_clip: Path | None = None) -> str:
        """Return the source of the iteration-0 ``reward.py``.

        ``expert_clip`` is given to backends that look at the clip themselves (single-model
        ablation)."""

    def rewrite(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: "RewriteVideos | None" = None,
    ) -> str:
        """Return the source of the next iteration's ``reward.py``.

        ``videos`` is given to backends that look at the clips themselves (single-model ablation).
        """
