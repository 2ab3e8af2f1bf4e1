"""Static plots for the report (matplotlib, Agg canvas; no pyplot global state, no display needed)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vidreward.errors import VidrewardError

DESCRIPTOR_PREFIXES = ("expert/", "robot/")


class PlotError(VidrewardError):
    """A plot's input table is unreadable or lacks the columns the plot needs."""


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError as exc:
        raise PlotError(f"{path}: {what} not found") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PlotError(f"{path}: cannot parse {what}: {exc}") from exc
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _grid(n: int, ncols: int = 3, panel: tuple[float, float] = (4.6, 3.0)) -> tuple[Figure, list]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows + 0.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _save(fig: Figure, out_png: Path) -> Path:
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=100, format="png")
    return out_png


def _message_figure(title: str, message: str) -> Figure:
    fig = Figure(figsize=(6, 2.5))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    return fig


def plot_training_curves(train_log_csv: str | Path, out_png: str | Path) -> Path:
    """Mean return and each ``reward/<component>`` column against ``env_steps``, one panel each.

    Falls back to ``epoch`` on the x axis when ``env_steps`` is absent. A log with no rows gives a
    figure that says so (training that logged no epoch is visible in the report, not hidden).
    """
    train_log_csv = Path(train_log_csv)
    df = _read_csv(train_log_csv, "training log")
    title = f"Training — {train_log_csv.parent.name or train_log_csv.name}"
    if df.empty:
        return _save(_message_figure(title, "no epochs logged"), Path(out_png))
    xcol = "env_steps" if "env_steps" in df.columns else "epoch" if "epoch" in df.columns else None
    if xcol is None:
        raise PlotError(f"{train_log_csv}: needs an 'env_steps' or 'epoch' column "
                        f"(has {', '.join(df.columns)})")
    series = [c for c in ("mean_return",) if c in df.columns]
    series += [c for c in df.columns if c.startswith("reward/")]
    if not series:
        raise PlotError(f"{train_log_csv}: no 'mean_return' or 'reward/<component>' columns "
                        f"(has {', '.join(df.columns)})")
    fig, axes = _grid(len(series))
    x = pd.to_numeric(df[xcol], errors="coerce")
    for ax, col in zip(axes, series):
        y = pd.to_numeric(df[col], errors="coerce")
        ax.plot(x, y, marker="." if len(df) < 40 else None, lw=1.4,
                color="C0" if col == "mean_return" else "C1")
        ax.set_title("mean episode return" if col == "mean_return" else col, fontsize=10)
        ax.set_xlabel(xcol.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    fig.suptitle(title)
    return _save(fig, Path(out_png))


def _descriptor_names(columns: list[str]) -> list[str]:
    names = []
    for col in columns:
        for prefix in DESCRIPTOR_PREFIXES:
            if col.startswith(prefix):
                name = col[len(prefix):]
                if name not in names:
                    names.append(name)
    return sorted(names)


def _candidate_points(ax, df: pd.DataFrame, it: pd.Series) -> None:
    """Every candidate's gap (``cand_<k>/gap`` columns) as grey points behind the selected gap."""
    cols = [c for c in df.columns if c.startswith("cand_") and c.endswith("/gap")]
    for n, col in enumerate(cols):
        ax.scatter(it, pd.to_numeric(df[col], errors="coerce"), s=14, color="0.6", zorder=1,
                   label="candidates" if n == 0 else None)
    if cols:
        ax.legend(fontsize=8)


def plot_summary(summary_csv: str | Path, out_png: str | Path) -> Path:
    """Gap per iteration, then one panel per motion descriptor (robot per iteration, expert as a
    dashed reference line). Reads ``iteration``, ``gap``, ``expert/<name>``, ``robot/<name>``
    columns (``vidreward.summary`` writes them), ``mean_return`` and every candidate's
    ``cand_<k>/gap`` (grey points in the gap panel) if present."""
    summary_csv = Path(summary_csv)
    df = _read_csv(summary_csv, "run summary")
    title = f"Run summary — {summary_csv.parent.name or summary_csv.name}"
    if df.empty:
        return _save(_message_figure(title, "no iterations summarised"), Path(out_png))
    if "iteration" not in df.columns:
        raise PlotError(f"{summary_csv}: needs an 'iteration' column (has {', '.join(df.columns)})")
    it = pd.to_numeric(df["iteration"], errors="coerce")
    panels: list[tuple[str, str]] = []
    if "gap" in df.columns:
        panels.append(("gap", "gap to expert (lower is closer)"))
    if "mean_return" in df.columns:
        panels.append(("mean_return", "final mean episode return"))
    descriptors = _descriptor_names(list(df.columns))
    panels += [(f"descriptor:{d}", d) for d in descriptors]
    if not panels:
        raise PlotError(f"{summary_csv}: no 'gap', 'mean_return' or 'expert/'/'robot/' columns")
    fig, axes = _grid(len(panels))
    for ax, (key, label) in zip(axes, panels):
        if key.startswith("descriptor:"):
            name = key.split(":", 1)[1]
            if f"robot/{name}" in df.columns:
                ax.plot(it, pd.to_numeric(df[f"robot/{name}"], errors="coerce"), marker="o",
                        color="C0", label="robot")
            if f"expert/{name}" in df.columns:
                expert = pd.to_numeric(df[f"expert/{name}"], errors="coerce").dropna()
                if len(expert):
                    ax.axhline(float(expert.iloc[-1]), color="C3", ls="--", label="expert")
            ax.legend(fontsize=8)
        else:
            ax.plot(it, pd.to_numeric(df[key], errors="coerce"), marker="o",
                    color="C2" if key == "gap" else "C0", label="selected" if key == "gap" else None)
            if key == "gap":
                _candidate_points(ax, df, it)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title)
    return _save(fig, Path(out_png))
