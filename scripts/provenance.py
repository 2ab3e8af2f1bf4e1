"""Snakemake script for rule provenance: hashes, config, seeds, versions, commit, wall time."""

from vidreward.logutil import stage_log
from vidreward.provenance import write_provenance

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    write_provenance(
        out_path=snakemake.output[0],
        inputs=dict(snakemake.input.items()),
        settings=snakemake.params.settings,
        clip=snakemake.params.clip,
        iteration=snakemake.params.iteration,
        benchmarks_dir=snakemake.params.benchmarks,
    )
