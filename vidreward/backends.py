"""Build the critic (upper level) and rewriter (lower level) a run's settings ask for.

``CRITIC_BACKENDS`` and ``REWRITER_BACKENDS`` are the registries the config schema's backend enums
are generated from; ``LM_BACKENDS`` are the ones that call a language model (``LMConfig``)."""

from __future__ import annotations

from pathlib import Path

from vidreward.errors import ConfigError

CRITIC_BACKENDS = ("analytic", "openai", "human")
REWRITER_BACKENDS = ("analytic", "openai", "single_model")
LM_BACKENDS = frozenset({"openai", "single_model"})


def make_critic(cfg, feedback_path: Path):
    """The critic of ``cfg`` (a :class:`vidreward.config.CriticConfig`)."""
    if cfg.backend == "analytic":
        from vidreward.critic.analytic import AnalyticCritic

        return AnalyticCritic()
    if cfg.backend == "openai":
        from vidreward.critic.openai_critic import OpenAICritic

        return OpenAICritic(cfg.lm)
    if cfg.backend == "human":
        from vidreward.critic.human import HumanCritic

        return HumanCritic(Path(feedback_path))
    raise ConfigError(f"config critic.backend: unknown backend {cfg.backend!r}")


def make_rewriter(cfg, record_dir: Path):
    """The rewriter of ``cfg`` (a :class:`vidreward.config.RewriterConfig`), recording into
    ``record_dir`` (the iteration's ``lm/`` folder).

    Each input reaches the rewriter through one door: its settings here; the robot and the task
    as the :class:`vidreward.rewriter.base.TaskSpec` of each ``initial`` / ``rewrite`` call; the
    expert clip as ``initial``'s ``expert_clip`` and (with the rollout) ``rewrite``'s
    ``RewriteVideos``."""
    if cfg.backend == "analytic":
        from vidreward.rewriter.analytic import AnalyticRewriter

        return AnalyticRewriter()
    if cfg.backend == "openai":
        from vidreward.rewriter.openai_rewriter import OpenAIRewriter

        return OpenAIRewriter(cfg.lm, record_dir=record_dir)
    if cfg.backend == "single_model":
        from vidreward.rewriter.single_model import SingleModelRewriter

        return SingleModelRewriter(cfg.lm, record_dir=record_dir, storyboard_dir=record_dir / "storyboard")
    raise ConfigError(f"config rewriter.backend: unknown backend {cfg.backend!r}")
