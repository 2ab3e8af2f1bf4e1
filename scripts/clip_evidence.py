"""Snakemake script for rule clip_evidence: the expert clip's motion evidence (camera style ...)."""

from vidreward.logutil import stage_log
from vidreward.stages import clip_evidence_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    clip_evidence_stage(
        video=snakemake.input.video,  # noqa: F821
        evidence_out=snakemake.output.evidence,  # noqa: F821
        measurement_out=snakemake.output.measurement,  # noqa: F821
    )
