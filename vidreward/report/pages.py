"""Self-contained HTML review pages: expert clip and robot rollout side by side, critique, reward code.

Each page is a directory holding one ``index.html`` with its videos and images embedded (see
``vidreward.report.media``), registered in the Snakemake report as
``report(directory(...), htmlindex="index.html")``: it works in ``snakemake --report report.html`` and
``report.zip`` alike, and opens straight from disk.
"""

from __future__ import annotations

import csv
import difflib
import html
import json
import logging
import math
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, Iterable

from vidreward.errors import VidrewardError
from vidreward.layout import STORYBOARD, IterationPaths, RunPaths, iteration_dirs
from vidreward.report.media import (
    PAGE_BYTES_LIMIT,
    data_uri,
    probe_video,
    small_video_uri,
    video_warning,
)

log = logging.getLogger(__name__)

STORYBOARD_EXTS = (".png", ".jpg", ".jpeg", ".webp")


class ReportError(VidrewardError):
    """A review page cannot be built (missing rollout video, expert clip, reward code...)."""


# --------------------------------------------------------------------------- templates


def _template(name: str) -> Template:
    return Template(resources.files("vidreward.report").joinpath("templates", name).read_text("utf-8"))


def _css() -> str:
    return resources.files("vidreward.report").joinpath("templates", "style.css").read_text("utf-8")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


# --------------------------------------------------------------------------- markdown


def render_markdown(text: str) -> str:
    """Markdown → HTML with raw HTML escaped (model-written critiques are untrusted text).

    Uses markdown-it-py (a dependency of rich) in CommonMark mode with tables and ``html=False``;
    without it the text is shown escaped in a ``<pre>``.
    """
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return f'<pre class="markdown-source">{_e(text)}</pre>'
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    return md.render(text)


# --------------------------------------------------------------------------- diff


def diff_html(old: str | None, new: str, old_label: str, new_label: str) -> tuple[str, int, int]:
    """Unified diff of two sources as ``<pre class="diff">`` with one classed ``<span>`` per line.

    Returns ``(html, added_lines, removed_lines)``. Classes: ``add``, ``del``, ``hunk``, ``file``, ``ctx``.
    """
    if old is None:
        return "", 0, 0
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=old_label,
                                      tofile=new_label, lineterm="", n=3))
    added = removed = 0
    out = []
    for line in lines:
        if line.startswith("+++") or line.startswith("---"):
            cls = "file"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls, added = "add", added + 1
        elif line.startswith("-"):
            cls, removed = "del", removed + 1
        else:
            cls = "ctx"
        out.append(f'<span class="{cls}">{_e(line) or " "}</span>')
    return '<pre class="diff">' + "".join(out) + "</pre>", added, removed


def code_html(source: str) -> str:
    """Python source as an escaped ``<pre>`` (Pygments inline-styled highlighting when available)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f'<pre class="code">{_e(source)}</pre>'
    formatter = HtmlFormatter(noclasses=True, nowrap=True, style="default")
    return f'<pre class="code">{highlight(source, PythonLexer(), formatter)}</pre>'


# --------------------------------------------------------------------------- helpers


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _cell(value: Any) -> str:
    number = _num(value)
    shown = _fmt(number) if number is not None else ("–" if value in (None, "") else str(value))
    return f'<td class="num">{_e(shown)}</td>'


def _kv_table(rows: Iterable[tuple[str, Any]], table_id: str) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td class=\"num\">{_e(_fmt(v))}</td></tr>" for k, v in rows)
    return f'<table class="kv" id="{table_id}"><tbody>{body}</tbody></table>'


def _descriptor_table(descriptors: dict[str, dict[str, Any]]) -> str:
    expert = descriptors.get("expert", {}) or {}
    robot = descriptors.get("robot", {}) or {}
    keys = sorted(set(expert) | set(robot))
    if not keys:
        return '<p class="muted">The critic recorded no motion descriptors.</p>'
    rows = []
    for k in keys:
        e, r = _num(expert.get(k)), _num(robot.get(k))
        d = (r - e) if (e is not None and r is not None) else None
        rows.append(f"<tr><th>{_e(k)}</th><td class=\"num\">{_e(_fmt(e))}</td>"
                    f"<td class=\"num\">{_e(_fmt(r))}</td><td class=\"num\">{_e(_fmt(d))}</td></tr>")
    return ('<table class="kv" id="descriptors"><thead><tr><th>descriptor</th><th>expert</th>'
            '<th>robot</th><th>robot − expert</th></tr></thead><tbody>' + "".join(rows)
            + "</tbody></table>")


def _read_train_log(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# The critique stage writes the frames its critic saw under critic/storyboard/.
STORYBOARD_DIRS = (STORYBOARD, "storyboard")  # and where older versions wrote them


def _figures(frames: list[Path]) -> str:
    return "".join(f'<figure><img src="{data_uri(p)}" data-file="{_e(p.name)}" alt="{_e(p.stem)}">'
                   f"<figcaption>{_e(p.name)}</figcaption></figure>" for p in frames)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in STORYBOARD_EXTS) if folder.is_dir() else []


def _storyboard(iter_dir: Path) -> str:
    """The frames the critic measured: the expert clip's, and (``robot/``, written when the critic
    measured the rollout video too) the rollout's, each with its overlay."""
    src = next(
        (iter_dir / d for d in STORYBOARD_DIRS if (iter_dir / d).is_dir()), iter_dir / "storyboard"
    )
    frames, robot = _images(src), _images(src / "robot")
    if not frames and not robot:
        return '<p class="muted">No storyboard frames were written for this iteration.</p>'
    if not robot:
        return '<div class="storyboard">' + _figures(frames) + "</div>"
    return ('<h3>Expert clip, as measured</h3><div class="storyboard">' + _figures(frames) + "</div>"
            '<h3>Rollout video, as measured</h3><div class="storyboard" id="robot-storyboard">'
            + _figures(robot) + "</div>")


def _critique_sections(iter_dir: Path) -> tuple[str, dict[str, Any]]:
    """(critique HTML, critique.json dict or {})."""
    data: dict[str, Any] = {}
    cj = IterationPaths.in_dir(iter_dir, "critique")
    if cj.is_file():
        try:
            data = json.loads(cj.read_text())
        except json.JSONDecodeError as exc:
            raise ReportError(f"{cj}: not valid JSON: {exc}") from exc
    cm = IterationPaths.in_dir(iter_dir, "critique_md")
    if cm.is_file():
        return render_markdown(cm.read_text()), data
    if data:
        from vidreward.critic.base import Critique

        return render_markdown(Critique.from_dict(data, source=str(cj)).to_markdown()), data
    return '<p class="muted">No critique was written for this iteration.</p>', data


def _training(iter_dir: Path) -> tuple[str, list[tuple[str, Any]]]:
    """(training section HTML, headline rows for the summary table)."""
    log_path = IterationPaths.in_dir(iter_dir, "train_log")
    if not log_path.is_file():
        return '<p class="muted">No train_log.csv in this iteration.</p>', []
    from vidreward.report.plots import PlotError, plot_training_curves

    rows = _read_train_log(log_path)
    try:
        with tempfile.TemporaryDirectory(prefix="vidreward-plot-") as tmp:
            png = plot_training_curves(log_path, Path(tmp) / "training.png")
            parts = [f'<img class="plot" id="training-plot" src="{data_uri(png)}" '
                     'data-file="training.png" alt="training curves: mean return and reward '
                     'components vs environment steps">']
    except PlotError as exc:
        log.warning("training plot skipped: %s", exc)
        parts = [f'<div class="warn">No training plot: {_e(exc)}</div>']
    headline: list[tuple[str, Any]] = []
    if rows:
        last = rows[-1]
        for key in ("epoch", "env_steps", "wall_s", "mean_return", "mean_episode_length"):
            if key in last:
                v = _num(last[key])
                headline.append((f"final {key}", int(v) if v is not None and key in
                                 ("epoch", "env_steps") else v))
        comp = [(k, _num(v)) for k, v in last.items() if k.startswith("reward/")]
        if comp:
            parts.append("<p>Reward components logged in the last epoch:</p>")
            parts.append(_kv_table(comp, "final-components"))
    return "\n".join(parts), headline


# --------------------------------------------------------------------------- pages


# What older versions of the pages wrote beside index.html; removed so the page dir holds one file.
_STALE = ("expert.mp4", "rollout.mp4", "training.png", "summary.png", "storyboard")


def _prepare_out_dir(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in [out_dir / n for n in ("index.html", *_STALE)] + list(out_dir.glob("iter_*.mp4")):
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def _video_meta(src: Path, what: str) -> tuple[str, str, str]:
    """(caption name, metadata line, warning HTML) of a video shown on a page."""
    info = probe_video(src)
    if not info.browser_playable:
        log.warning("%s (%s) may not play in a browser: %s", what, src, info.describe())
    return _e(src.name), _e(info.describe()), video_warning(info, what)


def _write_page(out_dir: Path, page: str) -> Path:
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    size = index.stat().st_size
    if size > PAGE_BYTES_LIMIT:
        log.warning("%s is %.1f MB: over %.1f MB, browsers will not show it inside a single-file "
                    "`snakemake --report report.html`; use `--report report.zip` or open it directly",
                    index, size / 1e6, PAGE_BYTES_LIMIT / 1e6)
    return index


def build_iteration_page(iter_dir: Path, expert_clip: Path, out_dir: Path,
                         prev_iter_dir: Path | None, title: str) -> Path:
    """Write ``out_dir/index.html`` reviewing one iteration; returns the index path.

    The page embeds the expert clip and the rollout (``data-file`` ``expert.mp4`` / ``rollout.mp4``),
    the storyboard frames and the training plot. Reads from
    ``iter_dir``: ``rollout.mp4`` and ``reward.py`` (required), ``critique.md``/``critique.json``,
    ``train_log.csv``, ``storyboard/`` (optional). The diff is against ``prev_iter_dir/reward.py``.
    """
    iter_dir, expert_clip, out_dir = Path(iter_dir), Path(expert_clip), Path(out_dir)
    rollout = IterationPaths.in_dir(iter_dir, "rollout")
    reward_py = IterationPaths.in_dir(iter_dir, "reward")
    for required, what in ((rollout, "rollout video"), (reward_py, "reward code"),
                           (expert_clip, "expert clip")):
        if not required.is_file():
            raise ReportError(f"{required}: {what} not found; cannot build the review page")
    prev_code = None
    if prev_iter_dir is not None:
        prev_py = IterationPaths.in_dir(Path(prev_iter_dir), "reward")
        if not prev_py.is_file():
            raise ReportError(f"{prev_py}: previous iteration's reward code not found")
        prev_code = prev_py.read_text()

    _prepare_out_dir(out_dir)
    iter_name = iter_dir.name
    expert_name, expert_meta, expert_warn = _video_meta(expert_clip, "Expert clip")
    rollout_name, rollout_meta, rollout_warn = _video_meta(rollout, "Robot rollout")
    new_code = reward_py.read_text()
    critique_html, critique = _critique_sections(iter_dir)
    training, headline = _training(iter_dir)

    gap = critique.get("gap")
    summary_rows: list[tuple[str, Any]] = [
        ("iteration", iter_name),
        ("critic backend", critique.get("backend") or "–"),
        ("gap to expert (critic's measure; lower is closer)", gap),
        ("problems listed", len(critique.get("problems", []))),
        ("edits requested (rewrite + remove + new)",
         sum(len(critique.get(s, [])) for s in ("rewrite", "remove", "new"))),
        *headline,
    ]
    summary_html = (_kv_table(summary_rows, "summary-table")
                    + "<p>Motion descriptors measured by the critic:</p>"
                    + _descriptor_table(critique.get("descriptors") or {}))

    if prev_code is None:
        diff_section = ('<p id="diff-none">Initial reward code: there is no previous iteration to '
                        'compare with.</p>')
    else:
        prev_label = f"{Path(prev_iter_dir).name}/reward.py"
        body, added, removed = diff_html(prev_code, new_code, prev_label, f"{iter_name}/reward.py")
        if not added and not removed:
            diff_section = f'<p id="diff-none">Unchanged from {_e(prev_label)}.</p>'
        else:
            diff_section = (f'<p id="diff-stat">Changes from {_e(prev_label)}: '
                            f'<span class="stat-add">+{added}</span> '
                            f'<span class="stat-del">−{removed}</span> lines.</p>' + body)

    page = _template("iteration.html").substitute(
        title=_e(title),
        subtitle=_e(f"{iter_dir.as_posix()} — expert clip {expert_clip.as_posix()}"),
        css=_css(),
        expert_src=data_uri(expert_clip, "video/mp4"),
        rollout_src=data_uri(rollout, "video/mp4"),
        expert_name=expert_name, expert_meta=expert_meta, expert_warn=expert_warn,
        rollout_name=rollout_name, rollout_meta=rollout_meta, rollout_warn=rollout_warn,
        iter_name=_e(iter_name),
        summary_html=summary_html,
        training_html=training,
        storyboard_html=_storyboard(iter_dir),
        critique_html=critique_html,
        diff_html=diff_section,
        code_html=code_html(new_code),
    )
    return _write_page(out_dir, page)


def _iter_dirs(run_dir: Path) -> list[Path]:
    return iteration_dirs(run_dir)


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
    _prepare_out_dir(out_dir)

    # Many videos on one page: rollouts are shown re-encoded small so the page stays embeddable.
    figs = []
    name, meta, warn = _video_meta(expert_clip, "Expert clip")
    figs.append(f'<figure><video id="expert-video" src="{data_uri(expert_clip, "video/mp4")}" '
                'data-file="expert.mp4" autoplay loop muted playsinline '
                f'controls preload="auto"></video><figcaption><span class="what">Expert clip (the '
                f'motion to imitate):</span> {name}<span class="meta">{meta}</span>{warn}'
                "</figcaption></figure>")
    for d in iters:
        fname = f"{d.name}.mp4"
        _, meta, warn = _video_meta(IterationPaths.in_dir(d, "rollout"), f"Rollout {d.name}")
        gap = None
        if (IterationPaths.in_dir(d, "critique")).is_file():
            gap = json.loads((IterationPaths.in_dir(d, "critique")).read_text()).get("gap")
        gap_txt = f" — gap {_fmt(gap)}" if gap is not None else ""
        figs.append(f'<figure><video src="{small_video_uri(IterationPaths.in_dir(d, "rollout"))}" '
                    f'data-file="{_e(fname)}" autoplay loop muted playsinline controls '
                    f'preload="auto"></video><figcaption><span class="what">Robot rollout, '
                    f"{_e(d.name)}{_e(gap_txt)}</span><span class=\"meta\">{meta}</span>{warn}"
                    "</figcaption></figure>")

    summary_csv = Path(summary_csv) if summary_csv else run_dir / Path(RunPaths.pattern("summary_csv")).name
    plot_html = ""
    if summary_csv.is_file():
        from vidreward.report.plots import plot_summary

        with open(summary_csv, newline="") as fh:
            rows = list(csv.DictReader(fh))
        cols = [c for c in ("iteration", "gap", "critic", "n_problems", "n_edits", "env_steps",
                            "mean_return", "wall_s") if rows and c in rows[0]]
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
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in cols) + "</tr>" for r in rows)
    table_html = (f'<table class="kv" id="run-table"><thead><tr>{head}</tr></thead>'
                  f"<tbody>{body}</tbody></table>")

    page = _template("run.html").substitute(
        title=_e(title),
        subtitle=_e(f"{run_dir.as_posix()} — {len(iters)} iteration(s) — expert clip "
                    f"{expert_clip.as_posix()}"),
        css=_css(),
        videos_html="\n".join(figs),
        table_html=table_html,
        plot_html=plot_html,
    )
    return _write_page(out_dir, page)


def build_run_report(run_dir: str | Path, expert_clip: str | Path, summary_csv: str | Path,
                     page_dir: str | Path, plot_png: str | Path, title: str) -> Path:
    """The run's overview page (``page_dir/index.html``) plus its summary plot at ``plot_png``."""
    return build_run_index(Path(run_dir), Path(expert_clip), Path(page_dir), title,
                           summary_csv=Path(summary_csv), summary_png=Path(plot_png))
