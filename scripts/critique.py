"""Snakemake script for rule critique: the critique of the iteration's selected rollout."""

from vidreward.logutil import stage_log
from vidreward.stages import critique_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    critique_stage(
        settings=snakemake.params.settings,
        feedback_path=snakemake.params.feedback_path,
        expert_clip=snakemake.input.clip,
        rollout_video=snakemake.input.rollout,
        trajectory=snakemake.input.trajectory,
        reward_path=snakemake.input.reward,
        train_log=snakemake.input.train_log,
        selection=snakemake.input.selection,
        critique_out=snakemake.output.critique,
        markdown_out=snakemake.output.markdown,
        critic_dir=snakemake.output.critic_dir,
    )
