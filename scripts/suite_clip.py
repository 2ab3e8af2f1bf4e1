"""Snakemake script for rule suite_clip: render one clip of the ground-truth suite with its truth."""

from pathlib import Path

from vidreward.logutil import stage_log
from vidreward.perception.suite import write_clip

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    write_clip(snakemake.wildcards.suite_clip, Path(snakemake.output.video).parent)  # noqa: F821
