"""Typed settings of the search within an iteration (``runs.<run>.search``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vidreward.errors import ConfigError

OBJECTIVES = {
    "gap": "the critic's measured gap between the candidate's rollout and the expert clip (lower wins)",
    "mean_return": "the mean episode return at the end of training (higher wins; Eureka's fitness, "
                   "blind to the clip)",
    "imitation": "the 0-1 imitation score of the candidate's rollout against the clip, from the clip's "
                 "truth where it has one, else from the video evidence (higher wins; Eureka-GT's "
                 "ground-truth fitness)",
}
"""Selection objectives (the schema's ``search.selection`` enum is generated from this)."""
COMPARABLE_ACROSS_REWARDS = frozenset({"gap", "imitation"})
"""Objectives whose values compare between different rewards (so an incumbent can be kept):
returns of different rewards do not."""


@dataclass(frozen=True)
class HalvingConfig:
    """Successive halving within an iteration: every candidate trains ``screen_fraction`` of the
    budget first and is scored; the best ``keep`` share (at least one) trains on to the full budget
    from its screening checkpoint, the rest stop there."""

    screen_fraction: float = 0.25
    """Share of ``train.total_env_steps`` every candidate trains before the cut (0-1, exclusive)."""
    keep: float = 0.5
    """Share of the candidates that continue after screening (rounded up, at least one)."""
    best_checkpoint: bool = True
    """Whether a candidate that trained on keeps its screening checkpoint when that measured better
    than its full training (the same reward's earlier policy; selection then takes that policy,
    rollout and critique)."""

    def survivors(self, candidates: int) -> int:
        """How many candidates continue after screening."""
        return max(1, math.ceil(self.keep * candidates))


@dataclass(frozen=True)
class SearchConfig:
    """How many reward candidates each iteration trains and how the winner is chosen."""

    candidates: int = 1
    """K: reward candidates per iteration, each trained, rolled out and scored on its own."""
    selection: str = "gap"
    """Objective that picks the winner (one of ``OBJECTIVES``)."""
    keep_best: bool = True
    """Best-so-far: when no candidate beats the incumbent (the previous iteration's selection), the
    incumbent's reward and policy carry over to the next iteration. Applies to objectives
    comparable across rewards (``gap``, ``imitation``), not to ``mean_return``."""
    halving: HalvingConfig | None = None
    """Optional successive-halving schedule (None: every candidate trains the full budget)."""
    runner_up_share: float = 0.0
    """Share of the K candidates (rounded down) proposed from the runner-up when the last iteration
    kept its incumbent: the best candidate that lost, its reward revised by its own critique and
    its policy the warm start, so a new behaviour that nearly won is refined instead of dropped.
    0 (default): every candidate moves on from the incumbent. On the default run 0.5 did not beat
    the incumbent in three tries (README, "What the default run does")."""

    episodes: int = 1
    """Rollouts each candidate is scored on: its own (the run's rollout seed) and ``episodes - 1``
    more of its policy from the next reset seeds (their videos and trajectories under the
    candidate's ``critic/episodes/``); the critique's robot descriptors, and so the gap, are the
    per-descriptor median over them, so one lucky reset state cannot win the selection."""

    def runner_up_candidates(self) -> int:
        """How many of the K candidates come from the runner-up when the incumbent was kept."""
        return math.floor(self.runner_up_share * self.candidates + 1e-9)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None, where: str = "search") -> "SearchConfig":
        raw = dict(raw or {})
        halving = raw.pop("halving", None)
        try:
            cfg = cls(**raw, halving=HalvingConfig(**halving) if isinstance(halving, dict) else None)
        except TypeError as exc:
            raise ConfigError(f"config {where}: {exc}") from exc
        if cfg.candidates < 1:
            raise ConfigError(f"config {where}.candidates: must be at least 1, got {cfg.candidates}")
        if cfg.selection not in OBJECTIVES:
            raise ConfigError(f"config {where}.selection: must be one of {sorted(OBJECTIVES)}")
        if isinstance(cfg.episodes, bool) or not isinstance(cfg.episodes, int) or cfg.episodes < 1:
            raise ConfigError(f"config {where}.episodes: must be a positive integer, got {cfg.episodes!r}")
        if not 0.0 <= cfg.runner_up_share < 1.0:
            raise ConfigError(f"config {where}.runner_up_share: must lie in [0, 1), got {cfg.runner_up_share}")
        if cfg.halving is not None:
            if not 0.0 < cfg.halving.screen_fraction < 1.0:
                raise ConfigError(f"config {where}.halving.screen_fraction: must lie in (0, 1)")
            if not 0.0 < cfg.halving.keep <= 1.0:
                raise ConfigError(f"config {where}.halving.keep: must lie in (0, 1]")
        return cfg

    @property
    def keeps_best(self) -> bool:
        """Whether the incumbent competes: ``keep_best`` and an objective comparable across rewards."""
        return self.keep_best and self.selection in COMPARABLE_ACROSS_REWARDS

    def better(self, a: float | None, b: float | None) -> bool:
        """Whether objective value ``a`` beats ``b`` (a missing value never wins)."""
        if a is None or (isinstance(a, float) and math.isnan(a)):
            return False
        if b is None or (isinstance(b, float) and math.isnan(b)):
            return True
        return a < b if self.lower_wins else a > b

    @property
    def lower_wins(self) -> bool:
        """Whether a lower objective value is better (the gap) or a higher one (the others)."""
        return self.selection == "gap"
