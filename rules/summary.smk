# Run summary: a row per iteration (summary.csv) and DVC metrics (summary.json).


rule summary:
    input:
        all_iterations,
    output:
        table=report(
            RunPaths.pattern("summary_csv"),
            category="Summary",
            caption="../report/summary.rst",
        ),
        metrics=RunPaths.pattern("summary_json"),
    log:
        RunPaths.pattern("summary_log"),
    # local under a cluster executor: seconds of bookkeeping, not worth a queued job
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    script:
        "../scripts/summary.py"


# Opt-in (not in the default target): each iteration's selection replayed from
# robustness_episodes reset seeds and measured as the run scores a candidate.
rule robustness:
    input:
        unpack(robustness_inputs),
    output:
        episodes=directory(RunPaths.pattern("robustness_episodes")),
        table=report(
            RunPaths.pattern("robustness_csv"),
            category="Robustness",
            caption="../report/robustness.rst",
        ),
        summary=RunPaths.pattern("robustness_json"),
    log:
        RunPaths.pattern("robustness_log"),
    benchmark:
        RunPaths.pattern("robustness_benchmark")
    conda:
        "../envs/vidreward.yaml"
    params:
        settings=run_settings,
        episodes=config["robustness_episodes"],
    script:
        "../scripts/robustness.py"
