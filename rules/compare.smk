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
