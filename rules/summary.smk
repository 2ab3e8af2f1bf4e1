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
