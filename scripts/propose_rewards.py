"""Snakemake script for rules initial_rewards / rewrite_rewards: K reward candidates."""

from vidreward.logutil import stage_log
from vidreward.search.stages import PreviousIteration, propose_rewards_stage

inp = snakemake.input  # noqa: F821 - injected by Snakemake
with stage_log(snakemake.log[0]):  # noqa: F821
    propose_rewards_stage(
        settings=snakemake.params.settings,  # noqa: F821
        iteration=snakemake.params.iteration,  # noqa: F821
        expert_clip=inp.clip,
        lm_dir=snakemake.params.lm_dir,  # noqa: F821
        lm_cache_dir=snakemake.params.lm_cache_dir,  # noqa: F821
        proposals_out=snakemake.output.proposals,  # noqa: F821
        previous=PreviousIteration(inp.reward, inp.critique, inp.train_log, inp.rollout, inp.selection)
        if "selection" in inp.keys()
        else None,
    )
