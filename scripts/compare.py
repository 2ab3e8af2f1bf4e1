"""Snakemake script for rule compare: the matrix's table, bar figure and per-iteration curves."""

from vidreward.compare.table import compare_stage
from vidreward.logutil import stage_log

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    compare_stage(
        matrix=snakemake.params.matrix,
        summaries=list(snakemake.input.summaries),
        ratings_csv=snakemake.input.ratings,
        scores_out=snakemake.output.scores,
        table_csv=snakemake.output.table,
        table_md=snakemake.output.markdown,
        bars_png=snakemake.output.bars,
        curves_png=snakemake.output.curves,
    )
