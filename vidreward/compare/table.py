"""The comparison of a matrix: per-run scores, the task x method table (mean and 95 % interval over
seeds, plus the human ratings), a bar figure and score-per-iteration curves.

Every method is scored by the one imitation score (:mod:`vidreward.imitation`) of its final
selection: against the clip's truth where the clip has one, else against the clip's motion
evidence (``imitation_source`` says which). The interval is Student's t over the seeds
(:func:`vidreward.compare.stats.mean_ci95`), clipped to the score's range 0-1.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vidreward.compare.matrix import Cell, MatrixConfig
from vidreward.compare.methods import METHODS
from vidreward.compare.stats import mean_ci95
from vidreward.errors import ConfigError
from vidreward.fsutil import atomic_file, atomic_write_text

RATING_COLUMNS = ("n_ratings", "rating_mean", "rating_ci_low", "rating_ci_high")


def _summary(path: str | Path, cell: Cell) -> pd.DataFrame:
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"{path}: cannot read the summary of run {cell.run}: {exc}") from exc
    if "imitation_score" not in table:
        raise ConfigError(f"{path}: run {cell.run} has no imitation_score column (no iteration "
                          "was scored)")
    return table


def run_scores(cells: list[Cell], summaries: list[str | Path]) -> pd.DataFrame:
    """One row per run and iteration: task, method, seed, run, iteration, imitation score and its
    source, gap, and whether it is the run's final iteration."""
    rows = []
    for cell, path in zip(cells, summaries, strict=True):
        table = _summary(path, cell)
        last = int(table["iteration"].max())
        for _, r in table.iterrows():
            rows.append({"task": cell.task, "method": cell.method, "seed": cell.seed, "run": cell.run,
                         "iteration": int(r["iteration"]), "imitation_score": r["imitation_score"],
                         "imitation_source": r.get("imitation_source"), "gap": r.get("gap"),
                         "final": int(r["iteration"]) == last})
    return pd.DataFrame(rows)


def method_table(matrix: MatrixConfig, scores: pd.DataFrame, ratings: pd.DataFrame | None) -> pd.DataFrame:
    """Task x method: the final imitation score's mean and 95 % interval over seeds, and the
    ratings' (``RATING_COLUMNS``; 0 ratings and NaN where nobody rated)."""
    final = scores[scores["final"]]
    rows = []
    for task in matrix.tasks:
        for method in matrix.methods:
            sel = final[(final["task"] == task) & (final["method"] == method)]
            mean, low, high, n = mean_ci95(sel["imitation_score"].tolist())
            low, high = max(low, 0.0), min(high, 1.0)  # the score's range (NaN stays NaN)
            sources = sorted({str(s) for s in sel["imitation_source"].dropna()})
            rows.append({"task": task, "method": method, "seeds": n, "imitation_mean": mean,
                         "imitation_ci_low": low, "imitation_ci_high": high,
                         "imitation_source": "+".join(sources)})
    table = pd.DataFrame(rows)
    if ratings is not None and len(ratings):
        table = table.merge(ratings[["task", "method", *RATING_COLUMNS]], on=["task", "method"], how="left")
    else:
        table = table.assign(n_ratings=0, rating_mean=math.nan, rating_ci_low=math.nan,
                             rating_ci_high=math.nan)
    table["n_ratings"] = table["n_ratings"].fillna(0).astype(int)
    return table


def _interval(mean: float, low: float, high: float, n: int, digits: int = 3) -> str:
    if n == 0 or not math.isfinite(mean):
        return "-"
    if n == 1:
        return f"{mean:.{digits}f} (n=1)"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}] (n={n})"


def table_markdown(matrix: MatrixConfig, table: pd.DataFrame) -> str:
    """The table as Markdown, with what stands in for a model or a person offline."""
    lines = [f"# Comparison `{matrix.name}` ({matrix.mode})", "",
             "Imitation score of the final selection (0-1, higher is better): mean [95 % interval] over "
             "seeds. Rating: people's 1-5 ratings of the rollout beside the expert clip (the rating page).",
             "", "| task | method | imitation score | scored against | rating |", "|---|---|---|---|---|"]
    for _, r in table.iterrows():
        imitation = _interval(r["imitation_mean"], r["imitation_ci_low"], r["imitation_ci_high"], int(r["seeds"]))
        rating = _interval(r["rating_mean"], r["rating_ci_low"], r["rating_ci_high"], int(r["n_ratings"]), 2)
        lines.append(f"| {r['task']} | {r['method']} | {imitation} | {r['imitation_source'] or '-'} | {rating} |")
    lines += ["", "Methods:", ""]
    for name in matrix.methods:
        m = METHODS[name]
        stand_in = f" Offline stand-in: {m.offline_stand_in}." if matrix.mode == "offline" and m.offline_stand_in else ""
        lines.append(f"- `{name}`: {m.paper}.{stand_in}")
    return "\n".join(lines) + "\n"


def _figure(width: float, height: float) -> Figure:
    """A figure on its own Agg canvas (no pyplot global state), as the report's plots make them."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out: Path) -> None:
    with atomic_file(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def _plot_bars(matrix: MatrixConfig, table: pd.DataFrame, out: Path) -> None:
    width = 0.8 / len(matrix.methods)
    fig = _figure(1.8 + 1.6 * len(matrix.tasks), 3.6)
    ax = fig.subplots()
    for j, method in enumerate(matrix.methods):
        sel = table[table["method"] == method].set_index("task").reindex(list(matrix.tasks))
        xs = [i + (j - (len(matrix.methods) - 1) / 2) * width for i in range(len(matrix.tasks))]
        err = [(sel["imitation_mean"] - sel["imitation_ci_low"]).fillna(0).clip(lower=0),
               (sel["imitation_ci_high"] - sel["imitation_mean"]).fillna(0).clip(lower=0)]
        ax.bar(xs, sel["imitation_mean"].fillna(0), width, yerr=err, capsize=3, label=method)
    ax.set_xticks(range(len(matrix.tasks)), list(matrix.tasks), rotation=15)
    ax.set_ylim(0, 1)
    ax.set_ylabel("imitation score (final)")
    ax.legend(fontsize=8, ncol=min(len(matrix.methods), 5))
    _save(fig, out)


def _plot_curves(matrix: MatrixConfig, scores: pd.DataFrame, out: Path) -> None:
    fig = _figure(3.2 * len(matrix.tasks), 3.0)
    axes = fig.subplots(1, len(matrix.tasks), squeeze=False)
    for ax, task in zip(axes[0], matrix.tasks):
        for method in matrix.methods:
            sel = scores[(scores["task"] == task) & (scores["method"] == method)]
            curve = sel.groupby("iteration")["imitation_score"].mean()
            ax.plot(curve.index, curve.values, marker="o", label=method)
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("iteration")
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("imitation score (mean over seeds)")
    axes[0][-1].legend(fontsize=7)
    _save(fig, out)


def compare_stage(matrix: MatrixConfig, summaries: list[str], ratings_csv: str | None, scores_out: str,
                  table_csv: str, table_md: str, bars_png: str, curves_png: str) -> pd.DataFrame:
    """Write the matrix's per-run scores, table (CSV and Markdown), bar figure and curves."""
    scores = run_scores(matrix.cells(), summaries)
    ratings = pd.read_csv(ratings_csv) if ratings_csv else None
    table = method_table(matrix, scores, ratings)
    with atomic_file(scores_out) as tmp:
        scores.to_csv(tmp, index=False)
    with atomic_file(table_csv) as tmp:
        table.to_csv(tmp, index=False)
    atomic_write_text(table_md, table_markdown(matrix, table))
    _plot_bars(matrix, table, Path(bars_png))
    _plot_curves(matrix, scores, Path(curves_png))
    return table
