"""Snakemake script for rule trim_clip: cut the expert segment, set fps and size."""

from vidreward.logutil import stage_log
from vidreward.stages import trim_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    trim_stage(
        clip=snakemake.params.clip,
        video_in=snakemake.input.video,
        info_in=snakemake.input.info,
        video_out=snakemake.output.video,
        sidecar_out=snakemake.output.sidecar,
    )
