"""Snakemake script for rules train_candidate / screen_candidate: PPO on a candidate's reward."""

from vidreward.logutil import stage_log
from vidreward.stages import train_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    train_stage(
        settings=snakemake.params.settings,
        iteration=snakemake.params.iteration,
        candidate=snakemake.params.candidate,
        rung=snakemake.params.rung,
        reward_path=snakemake.input.reward,
        init_checkpoint=snakemake.input.init or None,
        survivors=snakemake.input.get("survivors"),
        proposals=snakemake.input.get("proposals"),
        policy_out=snakemake.output.policy,
        train_log_out=snakemake.output.train_log,
        tb_out=snakemake.output.tb,
        threads=snakemake.threads,
    )
