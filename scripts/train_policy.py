"""Snakemake script for rule train_policy: rl-games PPO on the iteration's reward code."""

from vidreward.logutil import stage_log
from vidreward.stages import train_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    train_stage(
        robot=snakemake.params.robot,
        train_json=snakemake.params.train,
        seed=snakemake.params.seed,
        reward_path=snakemake.input.reward,
        init_checkpoint=snakemake.input.init or None,
        policy_out=snakemake.output.policy,
        threads=snakemake.threads,
    )
