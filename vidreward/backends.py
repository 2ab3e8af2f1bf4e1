"""Build the critic (upper level) and rewriter (lower level) a run's settings ask for.

``CRITIC_BACKENDS`` and ``REWRITER_BACKENDS`` are the registries the config schema's backend enums
are generated from; ``LM_BACKENDS`` are the ones that call a language model (``LMConfig``).
``oracle`` (the expert from the clip's truth file, the robot from its trajectory: an upper bound
without perception) is never a default: a run asks for it by name. ``statistics`` is Eureka's
reflection: feedback from the training statistics alone, no video."""

from __future__ import annotations

from pathlib import Path

from vidreward.errors import ConfigError

CRITIC_BACKENDS = ("analytic", "openai", "human", "oracle", "statistics")
REWRITER_BACKENDS = ("analytic", "openai", "single_model", "analytic_single")
LM_BACKENDS = frozenset({"openai", "single_model"})


def make_critic(cfg, feedback_path: Path, truth_path: Path | str | None = None):
    """The critic of ``cfg`` (a :class:`vidreward.config.CriticConfig`); ``truth_path`` is the run's
    clip's truth file (``clips.<clip>.truth``), which the ``oracle`` backend reads."""
    if cfg.backend == "analytic":
        from vidreward.critic.analytic import AnalyticCritic

        return AnalyticCritic()
    if cfg.backend == "openai":
        from vidreward.critic.openai_critic import OpenAICritic

        return OpenAICritic(cfg.lm)
    if cfg.backend == "human":
        from vidreward.critic.human import HumanCritic

        return HumanCritic(Path(feedback_path))
    if cfg.backend == "oracle":
        from vidreward.critic.oracle import OracleCritic

        if truth_path is None:
            raise ConfigError("config critic.backend: 'oracle' reads the expert's motion from the run's "
                              "clip's truth file, and the clip declares none (set clips.<clip>.truth)")
        return OracleCritic(Path(truth_path))
    if cfg.backend == "statistics":
        from vidreward.critic.statistics import StatisticsCritic

        return StatisticsCritic()
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
    if cfg.backend == "analytic_single":
        from vidreward.rewriter.single_analytic import SingleAnalyticRewriter

        return SingleAnalyticRewriter()
    if cfg.backend == "single_model":
        from vidreward.rewriter.single_model import SingleModelRewriter

        return SingleModelRewriter(cfg.lm, record_dir=record_dir, storyboard_dir=record_dir / "storyboard")
    raise ConfigError(f"config rewriter.backend: unknown backend {cfg.backend!r}")
