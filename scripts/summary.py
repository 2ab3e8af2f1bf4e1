"""Snakemake script for rule summary: a row per iteration + DVC metrics."""

from vidreward.logutil import stage_log
from vidreward.summary import write_summary

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    write_summary(
        provenance_files=list(snakemake.input),
        table_out=snakemake.output.table,
        metrics_out=snakemake.output.metrics,
    )
