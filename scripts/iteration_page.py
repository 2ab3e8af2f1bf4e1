"""Snakemake script for rule iteration_page: the review page of one iteration."""

from pathlib import Path

from vidreward.logutil import stage_log
from vidreward.report.iteration_page import build_iteration_page

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    prev = snakemake.params.prev_iter_dir
    build_iteration_page(
        iter_dir=Path(snakemake.params.iter_dir),
        expert_clip=Path(snakemake.input.clip),
        out_dir=Path(snakemake.output[0]),
        prev_iter_dir=Path(prev) if prev else None,
        title=snakemake.params.title,
    )
