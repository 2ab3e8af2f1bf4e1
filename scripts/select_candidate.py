"""Snakemake script for rule select_candidate: the iteration's winner (or the kept incumbent)."""

from vidreward.layout import SELECTED
from vidreward.logutil import stage_log
from vidreward.search.stages import select_stage

out = snakemake.output  # noqa: F821 - injected by Snakemake
with stage_log(snakemake.log[0]):  # noqa: F821
    select_stage(
        settings=snakemake.params.settings,  # noqa: F821
        run=snakemake.wildcards.run,  # noqa: F821
        iteration=snakemake.params.iteration,  # noqa: F821
        proposals=snakemake.input.proposals,  # noqa: F821
        scores=list(snakemake.input.scores),  # noqa: F821
        screen_scores=list(snakemake.input.get("screen_scores", [])) or None,  # noqa: F821
        incumbent_selection=snakemake.input.incumbent[0] if snakemake.input.incumbent else None,  # noqa: F821
        selection_out=out.selection,
        outputs={name: out[name] for name in SELECTED},
    )
