"""Snakemake script for rules render_candidate / render_screen: deterministic rollout -> rollout.mp4 + trajectory.npz."""

from vidreward.logutil import stage_log
from vidreward.stages import render_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    render_stage(
        settings=snakemake.params.settings,
        policy_path=snakemake.input.policy,
        reward_path=snakemake.input.reward,
        video_out=snakemake.output.video,
        trajectory_out=snakemake.output.trajectory,
        expert_evidence=snakemake.input.evidence,
        candidate=snakemake.params.candidate,
        survivors=snakemake.input.get("survivors"),
    )
