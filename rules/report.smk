# Review pages for the Snakemake report (`--report report.html` or `.zip` after a run): per
# iteration the expert clip and the rollout side by side, storyboard, critique, reward code + diff,
# training curves; per run an overview of all iterations and the summary plot.


rule iteration_page:
    input:
        reward=IterationPaths.pattern("reward"),
        rollout=IterationPaths.pattern("rollout"),
        critique=IterationPaths.pattern("critique"),
        markdown=IterationPaths.pattern("critique_md"),
        train_log=IterationPaths.pattern("train_log"),
        critic_dir=IterationPaths.pattern("critic_dir"),
        selection=IterationPaths.pattern("selection"),
        candidates=candidate_rollouts,
        clip=run_clip_video,
        previous_reward=previous_reward_if_any,
        code=report_code,
    output:
        report(
            directory(RunPaths.pattern("report_iteration")),
            htmlindex="index.html",
            category="{run}",
            subcategory="Iterations",
            caption="../report/iteration.rst",
            labels={"run": "{run}", "iteration": "{i}"},
        ),
    log:
        IterationPaths.log_pattern("iteration_page"),
    # local under a cluster executor: seconds of bookkeeping, not worth a queued job
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    params:
        iter_dir=iteration_dir_of_input,
        prev_iter_dir=previous_iter_dir_if_any,
        title="{run}: iteration {i}",
    script:
        "../scripts/iteration_page.py"


rule run_page:
    input:
        summary=RunPaths.pattern("summary_csv"),
        clip=run_clip_video,
        code=report_code,
    output:
        page=report(
            directory(RunPaths.pattern("report_overview")),
            htmlindex="index.html",
            category="{run}",
            subcategory="Overview",
            caption="../report/overview.rst",
            labels={"run": "{run}", "page": "all iterations"},
        ),
        plot=report(
            RunPaths.pattern("report_plot"),
            category="{run}",
            subcategory="Overview",
            caption="../report/summary_plot.rst",
            labels={"run": "{run}", "page": "gap per iteration"},
        ),
    log:
        RunPaths.pattern("run_page_log"),
    # local under a cluster executor: seconds of bookkeeping, not worth a queued job
    localrule: True
    conda:
        "../envs/vidreward.yaml"
    params:
        run_dir=run_dir_of_input,
        title="{run}: all iterations",
    script:
        "../scripts/run_page.py"
