"""The run's overview page: the expert clip next to every iteration's rollout, the table of
per-iteration results and the summary plot (:func:`build_run_index`, :func:`build_run_report`)."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Any

from vidreward.layout import IterationPaths, RunPaths, iteration_dirs
from vidreward.report.markup import cell, css, esc, fmt, template
from vidreward.report.media import data_uri, small_video_uri
from vidreward.report.pagefiles import ReportError, prepare_out_dir, video_meta, write_page


def _iter_dirs(run_dir: Path) -> list[Path]:
    return iteration_dirs(run_dir)


def _video_figures(expert_clip: Path, iters: list[Path]) -> list[str]:
    """One ``<figure>`` for the expert clip and one per iteration's rollout (shown re-encoded
    small: many videos on one page, and the page must stay embeddable)."""
    figs = []
    name, meta, warn = video_meta(expert_clip, "Expert clip")
    figs.append(f'<figure><video id="expert-video" src="{data_uri(expert_clip, "video/mp4")}" '
                'data-file="expert.mp4" autoplay loop muted playsinline '
                f'controls preload="auto"></video><figcaption><span class="what">Expert clip (the '
                f'motion to imitate):</span> {name}<span class="meta">{meta}</span>{warn}'
                "</figcaption></figure>")
    for d in iters:
        fname = f"{d.name}.mp4"
        _, meta, warn = video_meta(IterationPaths.in_dir(d, "rollout"), f"Rollout {d.name}")
        gap = None
        if (IterationPaths.in_dir(d, "critique")).is_file():
            gap = json.loads((IterationPaths.in_dir(d, "critique")).read_text()).get("gap")
        gap_txt = f" — gap {fmt(gap)}" if gap is not None else ""
        figs.append(f'<figure><video src="{small_video_uri(IterationPaths.in_dir(d, "rollout"))}" '
                    f'data-file="{esc(fname)}" autoplay loop muted playsinline controls '
                    f'preload="auto"></video><figcaption><span class="what">Robot rollout, '
                    f"{esc(d.name)}{esc(gap_txt)}</span><span class=\"meta\">{meta}</span>{warn}"
                    "</figcaption></figure>")
    return figs


def _results(summary_csv: Path, summary_png: Path | None,
             iters: list[Path]) -> tuple[list[dict[str, Any]], list[str], str]:
    """(rows, columns, plot HTML): from ``summary_csv`` with its plot when it exists, else from
    each iteration's critique.json without a plot."""
    plot_html = ""
    if summary_csv.is_file():
        from vidreward.report.plots import plot_summary

        with open(summary_csv, newline="") as fh:
            rows = list(csv.DictReader(fh))
        cols = [c for c in ("iteration", "gap", "selected", "selected_change", "critic",
                            "n_problems", "n_edits", "env_steps", "mean_return", "wall_s")
                if rows and c in rows[0]]
        cols += sorted((c for c in (rows[0] if rows else {}) if c.startswith("cand_") and c.endswith("/gap")),
                       key=lambda c: int(c[5:].split("/")[0]))
        with tempfile.TemporaryDirectory(prefix="vidreward-plot-") as tmp:
            png = plot_summary(summary_csv, summary_png or Path(tmp) / "summary.png")
            plot_html = (f'<img class="plot" id="summary-plot" src="{data_uri(png)}" '
                         'data-file="summary.png" alt="gap and motion descriptors per iteration">')
    else:
        rows = []
        for d in iters:
            c = json.loads((IterationPaths.in_dir(d, "critique")).read_text()) if (IterationPaths.in_dir(d, "critique")).is_file() else {}
            rows.append({"iteration": d.name[5:], "gap": c.get("gap"), "critic": c.get("backend")})
        cols = ["iteration", "gap", "critic"]
    return rows, cols, plot_html


def _table_html(rows: list[dict[str, Any]], cols: list[str]) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(cell(r.get(c)) for c in cols) + "</tr>" for r in rows)
    return (f'<table class="kv" id="run-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def build_run_index(run_dir: Path, expert_clip: Path, out_dir: Path, title: str,
                    summary_csv: Path | None = None, summary_png: Path | None = None) -> Path:
    """Write ``out_dir/index.html``: the expert clip next to every iteration's rollout, a table of
    per-iteration results (from ``summary_csv``, default ``run_dir/summary.csv``, else from each
    iteration's critique.json) and the summary plot, also kept at ``summary_png`` when given.
    Returns the index path."""
    run_dir, expert_clip, out_dir = Path(run_dir), Path(expert_clip), Path(out_dir)
    if not expert_clip.is_file():
        raise ReportError(f"{expert_clip}: expert clip not found; cannot build the run page")
    iters = [d for d in _iter_dirs(run_dir) if (IterationPaths.in_dir(d, "rollout")).is_file()]
    if not iters:
        raise ReportError(f"{run_dir}: no iter_<i>/rollout.mp4 found; cannot build the run page")
    prepare_out_dir(out_dir)

    figs = _video_figures(expert_clip, iters)
    summary_csv = Path(summary_csv) if summary_csv else run_dir / Path(RunPaths.pattern("summary_csv")).name
    rows, cols, plot_html = _results(summary_csv, summary_png, iters)

    page = template("run.html").substitute(
        title=esc(title),
        subtitle=esc(f"{run_dir.as_posix()} — {len(iters)} iteration(s) — expert clip "
                     f"{expert_clip.as_posix()}"),
        css=css(),
        videos_html="\n".join(figs),
        table_html=_table_html(rows, cols),
        plot_html=plot_html,
    )
    return write_page(out_dir, page)


def build_run_report(run_dir: str | Path, expert_clip: str | Path, summary_csv: str | Path,
                     page_dir: str | Path, plot_png: str | Path, title: str) -> Path:
    """The run's overview page (``page_dir/index.html``) plus its summary plot at ``plot_png``."""
    return build_run_index(Path(run_dir), Path(expert_clip), Path(page_dir), title,
                           summary_csv=Path(summary_csv), summary_png=Path(plot_png))
