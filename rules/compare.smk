# A matrix's comparison (config `matrix`): the task x method table over seeds, its figures, the
# rating page and the aggregate of people's ratings. Paths: vidreward.layout.ComparisonPaths.


rule compare:
    input:
        summaries=matrix_summaries,
        ratings=ComparisonPaths.pattern("ratings_csv"),
    output:
        scores=ComparisonPaths.pattern("scores_csv"),
        table=report(
            ComparisonPaths.pattern("table_csv"),
            category="Comparison",
            caption="../report/comparison_table.rst",
        ),
        markdown=ComparisonPaths.pattern("table_md"),
        bars=report(
            ComparisonPaths.pattern("bars"),
            category="Comparison",
            caption="../report/comparison_bars.rst",
        ),
        curves=report(
            ComparisonPaths.pattern("curves"),
            category="Comparison",
            caption="../report/comparison_curves.rst",
        ),
    log:
        ComparisonPaths.pattern("compare_log"),
    conda:
        "../envs/vidreward.yaml"
    params:
        matrix=matrix_of,
    script:
        "../scripts/compare.py"


rule rating_page:
    input:
        rollouts=matrix_final_rollouts,
        experts=matrix_expert_clips,
    output:
        page=report(
            directory(ComparisonPaths.pattern("rating_page")),
            htmlindex="index.html",
            category="Comparison",
            caption="../report/rating_page.rst",
        ),
        key=ComparisonPaths.pattern("rating_key"),
    log:
        ComparisonPaths.pattern("rating_page_log"),
    conda:
        "../envs/vidreward.yaml"
    params:
        tasks=matrix_cells_field("task"),
        methods=matrix_cells_field("method"),
        seeds=matrix_cells_field("seed"),
        runs=matrix_cells_field("run"),
        shuffle_seed=matrix_rating_seed,
        ratings_file=matrix_ratings_file,
    script:
        "../scripts/rating_page.py"


rule aggregate_ratings:
    input:
        key=ComparisonPaths.pattern("rating_key"),
        ratings=matrix_ratings_if_any,
    output:
        table=ComparisonPaths.pattern("ratings_csv"),
    log:
        ComparisonPaths.pattern("ratings_log"),
    conda:
        "../envs/vidreward.yaml"
    script:
        "../scripts/aggregate_ratings.py"
