"""The interface every rewriter backend (lower level) implements."""

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

    def initial(self, task: TaskSpec, env_context: str) -> str:
        """Return the source of the iteration-0 ``reward.py``."""

    def rewrite(
        self,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: "RewriteVideos | None" = None,
    ) -> str:
        """Return the source of the next iteration's ``reward.py``.

        ``videos`` is given to backends that look at the clips themselves (single-model ablation).
        """
