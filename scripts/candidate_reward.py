"""Snakemake script for rule candidate_reward: one candidate's reward.py from proposals.json."""

from vidreward.logutil import stage_log
from vidreward.search.stages import candidate_reward_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    candidate_reward_stage(
        proposals=snakemake.input.proposals,
        candidate=snakemake.params.candidate,
        reward_out=snakemake.output.reward,
        validation_out=snakemake.output.validation,
    )
