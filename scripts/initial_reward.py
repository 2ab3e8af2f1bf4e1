"""Snakemake script for rule initial_reward: iteration 0's reward code from the task."""

from vidreward.logutil import stage_log
from vidreward.stages import initial_reward_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    initial_reward_stage(
        settings=snakemake.params.settings,
        expert_clip=snakemake.input.clip,
        lm_cache_dir=snakemake.params.lm_cache_dir,
        lm_dir=snakemake.params.lm_dir,
        reward_out=snakemake.output.reward,
        validation_out=snakemake.output.validation,
    )
