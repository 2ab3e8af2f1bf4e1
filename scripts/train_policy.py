"""Snakemake script for rule train_policy: rl-games PPO on the iteration's reward code."""

from vidreward.logutil import stage_log
from vidreward.stages import train_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    train_stage(
        settings=snakemake.params.settings,
        iteration=snakemake.params.iteration,
        reward_path=snakemake.input.reward,
        init_checkpoint=snakemake.input.init or None,
        policy_out=snakemake.output.policy,
        train_log_out=snakemake.output.train_log,
        tb_out=snakemake.output.tb,
        threads=snakemake.threads,
    )
