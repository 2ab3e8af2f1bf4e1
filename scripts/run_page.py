"""Snakemake script for rule run_page: overview page of a run + the summary plot."""

from vidreward.logutil import stage_log
from vidreward.report import build_run_report

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    build_run_report(
        run_dir=snakemake.params.run_dir,
        expert_clip=snakemake.input.clip,
        summary_csv=snakemake.input.summary,
        page_dir=snakemake.output.page,
        plot_png=snakemake.output.plot,
        title=snakemake.params.title,
    )
