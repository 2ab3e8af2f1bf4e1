"""Snakemake script for rule rating_page: the blind human rating page of the comparison and its key.

input: ``rollouts`` (each run's final selected rollout video) and ``experts`` (the expert clip of
each rollout's task), parallel lists. params: ``tasks``, ``methods``, ``seeds``, ``runs``, parallel
to ``rollouts``; optional ``shuffle_seed`` (default 0) and ``ratings_file`` (the path the page names
for a downloaded ratings file). output: ``page`` (directory) and ``key`` (outside ``page``).
"""

from vidreward.compare.rating import rating_page_stage
from vidreward.logutil import stage_log

params = snakemake.params  # noqa: F821 - injected by Snakemake
with stage_log(snakemake.log[0]):  # noqa: F821
    rating_page_stage(
        rollouts=list(snakemake.input.rollouts),  # noqa: F821
        experts=list(snakemake.input.experts),  # noqa: F821
        tasks=list(params.tasks),
        methods=list(params.methods),
        seeds=list(params.seeds),
        runs=list(params.runs),
        page_out=snakemake.output.page,  # noqa: F821
        key_out=snakemake.output.key,  # noqa: F821
        shuffle_seed=params.get("shuffle_seed", 0),
        ratings_file=params.get("ratings_file"),
    )
