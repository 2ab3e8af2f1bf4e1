"""Snakemake script for rule robustness: each iteration's selection replayed from other reset seeds."""

from vidreward.logutil import stage_log
from vidreward.stages import robustness_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    robustness_stage(
        settings=snakemake.params.settings,
        policies=list(snakemake.input.policies),
        rewards=list(snakemake.input.rewards),
        train_logs=list(snakemake.input.train_logs),
        critiques=list(snakemake.input.critiques),
        expert_clip=snakemake.input.clip,
        expert_evidence=snakemake.input.evidence,
        expert_measurement=snakemake.input.measurement,
        episodes=snakemake.params.episodes,
        episodes_dir=snakemake.output.episodes,
        table_out=snakemake.output.table,
        summary_out=snakemake.output.summary,
        truth=snakemake.input.truth[0] if snakemake.input.truth else None,
    )
