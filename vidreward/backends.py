"""Build the critic (upper level) and rewriter (lower level) a run's config asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidreward.errors import ConfigError


def _lm_config(cfg: dict[str, Any], lm_cache_dir: str | Path):
    from vidreward.lm.config import LMConfig

    settings = {k: v for k, v in cfg.items() if k != "backend"}
    settings.setdefault("cache_dir", str(lm_cache_dir))
    return LMConfig.from_dict(settings)


def make_critic(cfg: dict[str, Any], lm_cache_dir: str | Path, feedback_path: Path):
    backend = cfg.get("backend", "analytic")
    if backend == "analytic":
        from vidreward.critic.analytic import AnalyticCritic

        return AnalyticCritic()
    if backend == "openai":
        from vidreward.critic.openai_critic import OpenAICritic

        return OpenAICritic(_lm_config(cfg, lm_cache_dir))
    if backend == "human":
        from vidreward.critic.human import HumanCritic

        return HumanCritic(Path(feedback_path))
    raise ConfigError(f"config critic.backend: unknown backend {backend!r}")


def make_rewriter(
    cfg: dict[str, Any],
    robot: str,
    lm_cache_dir: str | Path,
    record_dir: Path,
    task: str = "",
    expert_clip: Path | None = None,
):
    """``task`` and ``expert_clip`` give model backends the run's goal (and, for the
    single-model ablation, the clip itself from the first iteration on)."""
    backend = cfg.get("backend", "analytic")
    if backend == "analytic":
        from vidreward.rewriter.analytic import AnalyticRewriter

        return AnalyticRewriter(robot)
    if backend == "openai":
        from vidreward.rewriter.openai_rewriter import OpenAIRewriter

        return OpenAIRewriter(
            _lm_config(cfg, lm_cache_dir), robot, record_dir=record_dir, task=task
        )
    if backend == "single_model":
        from vidreward.rewriter.single_model import SingleModelRewriter

        return SingleModelRewriter(
            _lm_config(cfg, lm_cache_dir),
            robot,
            record_dir=record_dir,
            task=task,
            expert_clip=expert_clip,
            storyboard_dir=record_dir / "storyboard",
        )
    raise ConfigError(f"config rewriter.backend: unknown backend {backend!r}")
