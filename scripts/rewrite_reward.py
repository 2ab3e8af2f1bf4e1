"""Snakemake script for rule rewrite_reward: previous reward + critique -> next reward code."""

from vidreward.logutil import stage_log
from vidreward.stages import rewrite_reward_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    rewrite_reward_stage(
        settings=snakemake.params.settings,
        previous_reward=snakemake.input.reward,
        critique_path=snakemake.input.critique,
        train_log=snakemake.input.train_log,
        expert_clip=snakemake.input.clip,
        rollout_video=snakemake.input.rollout,
        lm_dir=snakemake.params.lm_dir,
        reward_out=snakemake.output.reward,
        validation_out=snakemake.output.validation,
    )
