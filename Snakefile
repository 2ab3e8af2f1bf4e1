# vidreward: learn robot reward code from an expert video by bi-level search.
# This file only sets the config, validates it and includes the rules.
from vidreward.compare.matrix import expand_matrix
from vidreward.config import apply_params, validate_config


configfile: "config/config.yaml"


apply_params(config, "params.yaml")
expand_matrix(config)
validate_config(config)


include: "rules/common.smk"
include: "rules/clips.smk"
include: "rules/iteration.smk"
include: "rules/summary.smk"
include: "rules/report.smk"
include: "rules/compare.smk"


rule all:
    default_target: True
    input:
        final_targets(),
