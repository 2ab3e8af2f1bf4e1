# One iteration of the bi-level search: K reward candidates -> PPO -> rollout -> score each ->
# select the winner (or keep the incumbent) -> critique -> the next iteration's K candidates.
# iter_<i> depends on iter_<i-1>; iter_0's candidates come from the task description. Each
# candidate is its own chain of jobs under iter_<i>/cand_<k>/, so candidates run in parallel.
# Every path is a pattern of vidreward.layout (IterationPaths); every value is typed settings.


rule initial_rewards:
    input:
        clip=run_clip_video,
    output:
        proposals=IterationPaths.pattern("proposals", i="0"),
    log:
        IterationPaths.log_pattern("propose_rewards", i="0"),
    # local under a cluster executor: a model backend calls its endpoint over the network
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    resources:
        llm_api=1,
    params:
        settings=run_settings,
        iteration=0,
        lm_cache_dir=config["lm_cache_dir"],
        lm_dir=IterationPaths.pattern("lm_dir", i="0"),
    script:
        "../scripts/propose_rewards.py"


rule rewrite_rewards:
    input:
        reward=previous("reward"),
        critique=previous("critique"),
        train_log=previous("train_log"),
        rollout=previous("rollout"),
        selection=previous("selection"),
        clip=run_clip_video,
        runner_up=runner_up_sources,
    output:
        proposals=IterationPaths.pattern("proposals"),
    log:
        IterationPaths.log_pattern("propose_rewards"),
    wildcard_constraints:
        i=r"[1-9]\d*",
    # local under a cluster executor: a model backend calls its endpoint over the network
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    resources:
        llm_api=1,
    params:
        settings=run_settings,
        iteration=iteration_index,
        lm_cache_dir=config["lm_cache_dir"],
        lm_dir=IterationPaths.pattern("lm_dir"),
    script:
        "../scripts/propose_rewards.py"


ruleorder: initial_rewards > rewrite_rewards


onstart:
    drop_stale_backups()


rule candidate_reward:
    input:
        proposals=IterationPaths.pattern("proposals"),
    output:
        reward=IterationPaths.pattern("reward", candidate="{k}"),
        validation=IterationPaths.pattern("validation", candidate="{k}"),
    log:
        IterationPaths.log_pattern("candidate_reward", candidate="{k}"),
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    params:
        candidate=candidate_index,
    script:
        "../scripts/candidate_reward.py"


rule train_candidate:
    input:
        unpack(candidate_train_inputs),
    # update(): Snakemake keeps these in place while the job runs (the code writes new ones under
    # temporary names and moves them in at the end) and restores its backup if the job fails, so a
    # forced rerun that fails or is killed leaves the previous artifacts intact.
    output:
        policy=update(IterationPaths.pattern("policy", candidate="{k}")),
        train_log=update(IterationPaths.pattern("train_log", candidate="{k}")),
        tb=update(directory(IterationPaths.pattern("tb", candidate="{k}"))),
    log:
        IterationPaths.log_pattern("train_policy", candidate="{k}"),
    benchmark:
        IterationPaths.benchmark_pattern("train_policy", candidate="{k}")
    conda:
        "../envs/vidreward.yaml"
    threads: TRAIN_THREADS
    params:
        settings=run_settings,
        iteration=iteration_index,
        candidate=candidate_index,
        rung=None,
    script:
        "../scripts/train_policy.py"


use rule train_candidate as screen_candidate with:
    input:
        unpack(candidate_warm_start_inputs),
    output:
        policy=update(
            IterationPaths.pattern("policy", candidate="{k}", rung=SCREEN_DIR)
        ),
        train_log=update(
            IterationPaths.pattern("train_log", candidate="{k}", rung=SCREEN_DIR)
        ),
        tb=update(
            directory(IterationPaths.pattern("tb", candidate="{k}", rung=SCREEN_DIR))
        ),
    log:
        IterationPaths.log_pattern("train_policy", candidate="{k}", rung=SCREEN_DIR),
    benchmark:
        IterationPaths.benchmark_pattern(
            "train_policy", candidate="{k}", rung=SCREEN_DIR
        )
    params:
        settings=run_settings,
        iteration=iteration_index,
        candidate=candidate_index,
        rung=SCREEN_DIR,


rule render_candidate:
    input:
        unpack(candidate_render_inputs),
    output:
        video=update(IterationPaths.pattern("rollout", candidate="{k}")),
        trajectory=update(IterationPaths.pattern("trajectory", candidate="{k}")),
    log:
        IterationPaths.log_pattern("render_rollout", candidate="{k}"),
    benchmark:
        IterationPaths.benchmark_pattern("render_rollout", candidate="{k}")
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=run_settings,
        candidate=candidate_index,
    script:
        "../scripts/render_rollout.py"


use rule render_candidate as render_screen with:
    input:
        policy=IterationPaths.pattern("policy", candidate="{k}", rung=SCREEN_DIR),
        reward=IterationPaths.pattern("reward", candidate="{k}"),
        evidence=run_clip_evidence,
    output:
        video=update(
            IterationPaths.pattern("rollout", candidate="{k}", rung=SCREEN_DIR)
        ),
        trajectory=update(
            IterationPaths.pattern("trajectory", candidate="{k}", rung=SCREEN_DIR)
        ),
    log:
        IterationPaths.log_pattern("render_rollout", candidate="{k}", rung=SCREEN_DIR),
    benchmark:
        IterationPaths.benchmark_pattern(
            "render_rollout", candidate="{k}", rung=SCREEN_DIR
        )


rule score_candidate:
    input:
        unpack(candidate_score_inputs),
    output:
        score=IterationPaths.pattern("score", candidate="{k}"),
        critique=IterationPaths.pattern("critique", candidate="{k}"),
        markdown=IterationPaths.pattern("critique_md", candidate="{k}"),
        critic_dir=directory(IterationPaths.pattern("critic_dir", candidate="{k}")),
    log:
        IterationPaths.log_pattern("score", candidate="{k}"),
    benchmark:
        IterationPaths.benchmark_pattern("score", candidate="{k}")
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=run_settings,
        candidate=candidate_index,
        rung=None,
    script:
        "../scripts/score_candidate.py"


use rule score_candidate as score_screen with:
    input:
        clip=run_clip_video,
        rollout=IterationPaths.pattern("rollout", candidate="{k}", rung=SCREEN_DIR),
        trajectory=IterationPaths.pattern(
            "trajectory", candidate="{k}", rung=SCREEN_DIR
        ),
        reward=IterationPaths.pattern("reward", candidate="{k}"),
        train_log=IterationPaths.pattern("train_log", candidate="{k}", rung=SCREEN_DIR),
        policy=IterationPaths.pattern("policy", candidate="{k}", rung=SCREEN_DIR),
        truth=run_clip_truth,
        evidence=run_clip_evidence,
        measurement=run_clip_measurement,
    output:
        score=IterationPaths.pattern("score", candidate="{k}", rung=SCREEN_DIR),
        critique=IterationPaths.pattern("critique", candidate="{k}", rung=SCREEN_DIR),
        markdown=IterationPaths.pattern("critique_md", candidate="{k}", rung=SCREEN_DIR),
        critic_dir=directory(
            IterationPaths.pattern("critic_dir", candidate="{k}", rung=SCREEN_DIR)
        ),
    log:
        IterationPaths.log_pattern("score", candidate="{k}", rung=SCREEN_DIR),
    benchmark:
        IterationPaths.benchmark_pattern("score", candidate="{k}", rung=SCREEN_DIR)
    params:
        settings=run_settings,
        candidate=candidate_index,
        rung=SCREEN_DIR,


rule halve_candidates:
    input:
        scores=screen_scores,
    output:
        IterationPaths.pattern("survivors"),
    log:
        IterationPaths.log_pattern("halve_candidates"),
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=run_settings,
    script:
        "../scripts/halve_candidates.py"


rule select_candidate:
    input:
        unpack(selection_inputs),
    output:
        selection=IterationPaths.pattern("selection"),
        reward=IterationPaths.pattern("reward"),
        validation=IterationPaths.pattern("validation"),
        policy=IterationPaths.pattern("policy"),
        train_log=IterationPaths.pattern("train_log"),
        rollout=IterationPaths.pattern("rollout"),
        trajectory=IterationPaths.pattern("trajectory"),
    log:
        IterationPaths.log_pattern("select_candidate"),
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=run_settings,
        iteration=iteration_index,
    script:
        "../scripts/select_candidate.py"


rule critique:
    input:
        unpack(critique_inputs),
    output:
        critique=IterationPaths.pattern("critique"),
        markdown=IterationPaths.pattern("critique_md"),
        critic_dir=directory(IterationPaths.pattern("critic_dir")),
    log:
        IterationPaths.log_pattern("critique"),
    # local under a cluster executor: a model backend calls its endpoint over the network
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    resources:
        llm_api=1,
    params:
        settings=run_settings,
        feedback_path=feedback_path,
    script:
        "../scripts/critique.py"


rule provenance:
    input:
        unpack(provenance_inputs),
    output:
        IterationPaths.pattern("provenance"),
    log:
        IterationPaths.log_pattern("provenance"),
    # local under a cluster executor: seconds of bookkeeping, not worth a queued job
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=run_settings,
        clip=clip_config_of_run,
        iteration=iteration_index,
        benchmarks=IterationPaths.benchmark_pattern(),
    script:
        "../scripts/provenance.py"
