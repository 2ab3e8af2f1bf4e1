"""The interface every rewriter backend (lower level) implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vidreward.critic.base import Critique


@dataclass
class TaskSpec:
    """What the run asks for: the robot and a plain-language description of the behaviour."""

    robot: str
    description: str


class Rewriter(Protocol):
    name: str

    def initial(self, task: TaskSpec, env_context: str) -> str:
        """Return the source of the iteration-0 ``reward.py``."""

    def rewrite(
        self, previous_code: str, critique: Critique, env_context: str, train_stats: str
    ) -> str:
        """Return the source of the next iteration's ``reward.py``."""
