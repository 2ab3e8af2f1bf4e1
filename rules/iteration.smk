# One iteration of the bi-level search: reward code -> PPO -> rollout -> critique -> next reward.
# iter_<i> depends on iter_<i-1>; iter_0's reward comes from the task description.
# Every path is a pattern of vidreward.layout (IterationPaths); every value is typed settings.


rule initial_reward:
    input:
        clip=run_clip_video,
    output:
        reward=IterationPaths.pattern("reward", i="0"),
        validation=IterationPaths.pattern("validation", i="0"),
    log:
        IterationPaths.log_pattern("initial_reward", i="0"),
    conda:
        "../envs/vidreward.yaml"
    resources:
        llm_api=1,
    params:
        settings=run_settings,
        lm_cache_dir=config["lm_cache_dir"],
        lm_dir=IterationPaths.pattern("lm_dir", i="0"),
    script:
        "../scripts/initial_reward.py"


rule rewrite_reward:
    input:
        reward=previous("reward"),
        critique=previous("critique"),
        train_log=previous("train_log"),
        rollout=previous("rollout"),
        clip=run_clip_video,
    output:
        reward=IterationPaths.pattern("reward"),
        validation=IterationPaths.pattern("validation"),
    log:
        IterationPaths.log_pattern("rewrite_reward"),
    wildcard_constraints:
        i=r"[1-9]\d*",
    conda:
        "../envs/vidreward.yaml"
    resources:
        llm_api=1,
    params:
        settings=run_settings,
        lm_dir=IterationPaths.pattern("lm_dir"),
    script:
        "../scripts/rewrite_reward.py"


ruleorder: initial_reward > rewrite_reward


onstart:
    drop_stale_backups()


rule train_policy:
    input:
        reward=IterationPaths.pattern("reward"),
        init=warm_start_policy,
    # update(): Snakemake keeps these in place while the job runs (the code writes new ones under
    # temporary names and moves them in at the end) and restores its backup if the job fails, so a
    # forced rerun that fails or is killed leaves the previous iteration's artifacts intact.
    output:
        policy=update(IterationPaths.pattern("policy")),
        train_log=update(IterationPaths.pattern("train_log")),
        tb=update(directory(IterationPaths.pattern("tb"))),
    log:
        IterationPaths.log_pattern("train_policy"),
    benchmark:
        IterationPaths.benchmark_pattern("train_policy")
    conda:
        "../envs/vidreward.yaml"
    threads: TRAIN_THREADS
    params:
        settings=run_settings,
        iteration=iteration_index,
    script:
        "../scripts/train_policy.py"


rule render_rollout:
    input:
        policy=IterationPaths.pattern("policy"),
        reward=IterationPaths.pattern("reward"),
        evidence=run_clip_evidence,
    output:
        video=update(IterationPaths.pattern("rollout")),
        trajectory=update(IterationPaths.pattern("trajectory")),
    log:
        IterationPaths.log_pattern("render_rollout"),
    benchmark:
        IterationPaths.benchmark_pattern("render_rollout")
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=run_settings,
    script:
        "../scripts/render_rollout.py"


rule critique:
    input:
        clip=run_clip_video,
        rollout=IterationPaths.pattern("rollout"),
        trajectory=IterationPaths.pattern("trajectory"),
        reward=IterationPaths.pattern("reward"),
        train_log=IterationPaths.pattern("train_log"),
        feedback=human_feedback,
    output:
        critique=IterationPaths.pattern("critique"),
        markdown=IterationPaths.pattern("critique_md"),
        critic_dir=directory(IterationPaths.pattern("critic_dir")),
    log:
        IterationPaths.log_pattern("critique"),
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
        clip=run_clip_video,
        sidecar=run_clip_sidecar,
        reward=IterationPaths.pattern("reward"),
        validation=IterationPaths.pattern("validation"),
        policy=IterationPaths.pattern("policy"),
        train_log=IterationPaths.pattern("train_log"),
        tb=IterationPaths.pattern("tb"),
        rollout=IterationPaths.pattern("rollout"),
        trajectory=IterationPaths.pattern("trajectory"),
        critique=IterationPaths.pattern("critique"),
        markdown=IterationPaths.pattern("critique_md"),
        critic_dir=IterationPaths.pattern("critic_dir"),
        init=warm_start_policy,
    output:
        IterationPaths.pattern("provenance"),
    log:
        IterationPaths.log_pattern("provenance"),
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=run_settings,
        clip=clip_config_of_run,
        iteration=iteration_index,
        benchmarks=IterationPaths.benchmark_pattern(),
    script:
        "../scripts/provenance.py"
