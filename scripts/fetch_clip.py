"""Snakemake script for rule fetch_clip: get the expert clip's source video."""

from vidreward.logutil import stage_log
from vidreward.stages import fetch_stage

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    fetch_stage(
        clip=snakemake.params.clip,
        video_out=snakemake.output.video,
        info_out=snakemake.output.info,
        cache_dir=snakemake.params.cache_dir,
    )
