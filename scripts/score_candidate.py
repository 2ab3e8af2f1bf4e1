"""Snakemake script for rules score_candidate / score_screen: measure a candidate's rollout."""

from vidreward.logutil import stage_log
from vidreward.search.stages import score_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    score_stage(
        settings=snakemake.params.settings,
        candidate=snakemake.params.candidate,
        rung=snakemake.params.rung,
        expert_clip=snakemake.input.clip,
        rollout_video=snakemake.input.rollout,
        trajectory=snakemake.input.trajectory,
        reward_path=snakemake.input.reward,
        train_log=snakemake.input.train_log,
        truth=snakemake.input.truth[0] if snakemake.input.truth else None,
        score_out=snakemake.output.score,
        critique_out=snakemake.output.critique,
        markdown_out=snakemake.output.markdown,
        critic_dir=snakemake.output.critic_dir,
        survivors=snakemake.input.get("survivors"),
        policy=snakemake.input.policy,
        expert_evidence=snakemake.input.evidence,
        expert_measurement=snakemake.input.measurement,
    )
