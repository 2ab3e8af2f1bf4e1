# Review pages for the Snakemake report (`--report report.html` or `.zip` after a run): per
# iteration the expert clip and the rollout side by side, storyboard, critique, reward code + diff,
# training curves; per run an overview of all iterations and the summary plot.


rule iteration_page:
    input:
        reward="results/{run}/iter_{i}/reward.py",
        rollout="results/{run}/iter_{i}/rollout.mp4",
        critique="results/{run}/iter_{i}/critique.json",
        markdown="results/{run}/iter_{i}/critique.md",
        train_log="results/{run}/iter_{i}/train_log.csv",
        critic_dir="results/{run}/iter_{i}/critic",
        clip=run_clip_video,
        previous_reward=previous_reward_if_any,
        code=report_code,
    output:
        report(
            directory("results/{run}/report/iter_{i}"),
            htmlindex="index.html",
            category="{run}",
            subcategory="Iterations",
            caption="../report/iteration.rst",
            labels={"run": "{run}", "iteration": "{i}"},
        ),
    log:
        "results/{run}/logs/iter_{i}/iteration_page.log",
    conda:
        "../envs/vidreward.yaml"
    params:
        iter_dir=lambda wildcards, input: os.path.dirname(input.reward),
        prev_iter_dir=previous_iter_dir_if_any,
        title="{run}: iteration {i}",
    script:
        "../scripts/iteration_page.py"


rule run_page:
    input:
        summary="results/{run}/summary.csv",
        clip=run_clip_video,
        code=report_code,
    output:
        page=report(
            directory("results/{run}/report/overview"),
            htmlindex="index.html",
            category="{run}",
            subcategory="Overview",
            caption="../report/overview.rst",
            labels={"run": "{run}", "page": "all iterations"},
        ),
        plot=report(
            "results/{run}/report/summary.png",
            category="{run}",
            subcategory="Overview",
            caption="../report/summary_plot.rst",
            labels={"run": "{run}", "page": "gap per iteration"},
        ),
    log:
        "results/{run}/logs/run_page.log",
    conda:
        "../envs/vidreward.yaml"
    params:
        run_dir=lambda wildcards, input: os.path.dirname(input.summary),
        title="{run}: all iterations",
    script:
        "../scripts/run_page.py"
