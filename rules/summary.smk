# Run summary: a row per iteration (summary.csv) and DVC metrics (summary.json).


rule summary:
    input:
        all_iterations,
    output:
        table=report(
            "results/{run}/summary.csv",
            category="Summary",
            caption="../report/summary.rst",
        ),
        metrics="results/{run}/summary.json",
    log:
        "results/{run}/logs/summary.log",
    conda:
        "../envs/vidreward.yaml"
    params:
        run_dir="results/{run}",
        iterations=lambda wildcards: config["runs"][wildcards.run]["iterations"],
    script:
        "../scripts/summary.py"
