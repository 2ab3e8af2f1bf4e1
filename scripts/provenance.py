"""Snakemake script for rule provenance: hashes, config, seeds, versions, commit, wall time."""

from vidreward.logutil import stage_log
from vidreward.provenance import write_provenance

with stage_log(snakemake.log[0]):  # noqa: F821 - injected by Snakemake
    write_provenance(
        out_path=snakemake.output[0],
        inputs=dict(snakemake.input.items()),
        settings_json=snakemake.params.settings,
        clip_json=snakemake.params.clip,
        benchmarks_dir=snakemake.params.benchmarks,
    )
