"""Snakemake script for rule halve_candidates: which candidates train on after screening."""

from vidreward.logutil import stage_log
from vidreward.search.stages import halve_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    halve_stage(
        settings=snakemake.params.settings,
        screen_scores=list(snakemake.input.scores),
        survivors_out=snakemake.output[0],
    )
