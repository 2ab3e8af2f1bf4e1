# One iteration of the bi-level search: reward code -> PPO -> rollout -> critique -> next reward.
# iter_<i> depends on iter_<i-1>; iter_0's reward comes from the task description.


rule initial_reward:
    input:
        clip=run_clip_video,
    output:
        reward="results/{run}/iter_0/reward.py",
        validation="results/{run}/iter_0/reward_validation.json",
    log:
        "results/{run}/logs/iter_0/initial_reward.log",
    conda:
        "../envs/vidreward.yaml"
    resources:
        llm_api=1,
    params:
        robot=lambda wildcards: run_settings(wildcards).robot,
        task=lambda wildcards: run_settings(wildcards).task,
        rewriter=lambda wildcards: section(wildcards, "rewriter"),
        lm_cache_dir=config["lm_cache_dir"],
        lm_dir="results/{run}/iter_0/lm",
    script:
        "../scripts/initial_reward.py"


rule rewrite_reward:
    input:
        reward=previous("reward.py"),
        critique=previous("critique.json"),
        train_log=previous("train_log.csv"),
        rollout=previous("rollout.mp4"),
        clip=run_clip_video,
    output:
        reward="results/{run}/iter_{i}/reward.py",
        validation="results/{run}/iter_{i}/reward_validation.json",
    log:
        "results/{run}/logs/iter_{i}/rewrite_reward.log",
    wildcard_constraints:
        i=r"[1-9]\d*",
    conda:
        "../envs/vidreward.yaml"
    resources:
        llm_api=1,
    params:
        robot=lambda wildcards: run_settings(wildcards).robot,
        task=lambda wildcards: run_settings(wildcards).task,
        rewriter=lambda wildcards: section(wildcards, "rewriter"),
        lm_cache_dir=config["lm_cache_dir"],
        lm_dir="results/{run}/iter_{i}/lm",
    script:
        "../scripts/rewrite_reward.py"


ruleorder: initial_reward > rewrite_reward


onstart:
    drop_stale_backups()


rule train_policy:
    input:
        reward="results/{run}/iter_{i}/reward.py",
        init=warm_start_policy,
    # update(): Snakemake keeps these in place while the job runs (the code writes new ones under
    # temporary names and moves them in at the end) and restores its backup if the job fails, so a
    # forced rerun that fails or is killed leaves the previous iteration's artifacts intact.
    output:
        policy=update("results/{run}/iter_{i}/policy.pth"),
        train_log=update("results/{run}/iter_{i}/train_log.csv"),
        tb=update(directory("results/{run}/iter_{i}/tb")),
    log:
        "results/{run}/logs/iter_{i}/train_policy.log",
    benchmark:
        "results/{run}/benchmarks/iter_{i}/train_policy.tsv"
    conda:
        "../envs/vidreward.yaml"
    threads: TRAIN_THREADS
    params:
        robot=lambda wildcards: run_settings(wildcards).robot,
        train=lambda wildcards: section(wildcards, "train"),
        seed=lambda wildcards: run_settings(wildcards).seed + int(wildcards.i),
    script:
        "../scripts/train_policy.py"


rule render_rollout:
    input:
        policy="results/{run}/iter_{i}/policy.pth",
        reward="results/{run}/iter_{i}/reward.py",
        evidence=run_clip_evidence,
    output:
        video=update("results/{run}/iter_{i}/rollout.mp4"),
        trajectory=update("results/{run}/iter_{i}/trajectory.npz"),
    log:
        "results/{run}/logs/iter_{i}/render_rollout.log",
    benchmark:
        "results/{run}/benchmarks/iter_{i}/render_rollout.tsv"
    conda:
        "../envs/vidreward.yaml"
    params:
        robot=lambda wildcards: run_settings(wildcards).robot,
        rollout=lambda wildcards: section(wildcards, "rollout"),
        seed=lambda wildcards: run_settings(wildcards).seed,
    script:
        "../scripts/render_rollout.py"


rule critique:
    input:
        clip=run_clip_video,
        rollout="results/{run}/iter_{i}/rollout.mp4",
        trajectory="results/{run}/iter_{i}/trajectory.npz",
        reward="results/{run}/iter_{i}/reward.py",
        train_log="results/{run}/iter_{i}/train_log.csv",
        feedback=human_feedback,
    output:
        critique="results/{run}/iter_{i}/critique.json",
        markdown="results/{run}/iter_{i}/critique.md",
        critic_dir=directory("results/{run}/iter_{i}/critic"),
    log:
        "results/{run}/logs/iter_{i}/critique.log",
    conda:
        "../envs/vidreward.yaml"
    resources:
        llm_api=1,
    params:
        robot=lambda wildcards: run_settings(wildcards).robot,
        task=lambda wildcards: run_settings(wildcards).task,
        critic=lambda wildcards: section(wildcards, "critic"),
        lm_cache_dir=config["lm_cache_dir"],
        feedback_path=lambda wildcards: f"{config['feedback_dir']}/{wildcards.run}/iter_{wildcards.i}.md",
    script:
        "../scripts/critique.py"


rule provenance:
    input:
        clip=run_clip_video,
        sidecar=run_clip_sidecar,
        reward="results/{run}/iter_{i}/reward.py",
        validation="results/{run}/iter_{i}/reward_validation.json",
        policy="results/{run}/iter_{i}/policy.pth",
        train_log="results/{run}/iter_{i}/train_log.csv",
        tb="results/{run}/iter_{i}/tb",
        rollout="results/{run}/iter_{i}/rollout.mp4",
        trajectory="results/{run}/iter_{i}/trajectory.npz",
        critique="results/{run}/iter_{i}/critique.json",
        markdown="results/{run}/iter_{i}/critique.md",
        critic_dir="results/{run}/iter_{i}/critic",
        init=warm_start_policy,
    output:
        "results/{run}/iter_{i}/provenance.json",
    log:
        "results/{run}/logs/iter_{i}/provenance.log",
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=lambda wildcards: json.dumps(
            vars(run_settings(wildcards)), sort_keys=True
        ),
        clip=lambda wildcards: json.dumps(
            config["clips"][clip_of_run(wildcards)], sort_keys=True
        ),
        benchmarks="results/{run}/benchmarks/iter_{i}",
    script:
        "../scripts/provenance.py"
