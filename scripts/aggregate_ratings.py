"""Snakemake script for rule aggregate_ratings: mean and 95 % interval of the human ratings per
task x method.

input: ``key`` (the rating page's key) and optional ``ratings`` (the ratings file: a path, or an
empty list while nobody has rated). output: ``table`` (CSV: task, method, n_ratings, rating_mean,
rating_ci_low, rating_ci_high).
"""

from vidreward.compare.rating import aggregate_stage
from vidreward.logutil import stage_log

ratings = snakemake.input.get("ratings")  # noqa: F821 - injected by Snakemake
if not isinstance(ratings, str):  # a list from an input function: empty, or the one file
    ratings = ratings[0] if ratings else None
with stage_log(snakemake.log[0]):  # noqa: F821
    aggregate_stage(
        key=snakemake.input.key,  # noqa: F821
        ratings=ratings,
        table_out=snakemake.output.table,  # noqa: F821
    )
