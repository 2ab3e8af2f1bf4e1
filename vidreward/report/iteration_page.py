"""The review page of one iteration: expert clip and robot rollout side by side, summary, training
curves, storyboard, critique, reward-code diff and code (:func:`build_iteration_page`)."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Any

from vidreward.layout import SCREEN_DIR, STORYBOARD, IterationPaths
from vidreward.report.markup import (
    code_html,
    css,
    diff_html,
    esc,
    fmt,
    kv_table,
    num,
    render_markdown,
    template,
)
from vidreward.report.media import data_uri, small_video_uri
from vidreward.report.pagefiles import ReportError, log, prepare_out_dir, video_meta, write_page

STORYBOARD_EXTS = (".png", ".jpg", ".jpeg", ".webp")


def _descriptor_table(descriptors: dict[str, dict[str, Any]]) -> str:
    expert = descriptors.get("expert", {}) or {}
    robot = descriptors.get("robot", {}) or {}
    keys = sorted(set(expert) | set(robot))
    if not keys:
        return '<p class="muted">The critic recorded no motion descriptors.</p>'
    rows = []
    for k in keys:
        e, r = num(expert.get(k)), num(robot.get(k))
        d = (r - e) if (e is not None and r is not None) else None
        rows.append(f"<tr><th>{esc(k)}</th><td class=\"num\">{esc(fmt(e))}</td>"
                    f"<td class=\"num\">{esc(fmt(r))}</td><td class=\"num\">{esc(fmt(d))}</td></tr>")
    return ('<table class="kv" id="descriptors"><thead><tr><th>descriptor</th><th>expert</th>'
            '<th>robot</th><th>robot − expert</th></tr></thead><tbody>' + "".join(rows)
            + "</tbody></table>")


def _read_train_log(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# The critique stage writes the frames its critic saw under critic/storyboard/.
STORYBOARD_DIRS = (STORYBOARD, "storyboard")  # and where older versions wrote them


def _figures(frames: list[Path]) -> str:
    return "".join(f'<figure><img src="{data_uri(p)}" data-file="{esc(p.name)}" alt="{esc(p.stem)}">'
                   f"<figcaption>{esc(p.name)}</figcaption></figure>" for p in frames)


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


CANDIDATE_VIDEO_WIDTH = 200  # px: K small rollouts keep the page under the data-URL cap


def _candidates(iter_dir: Path) -> str:
    """Every candidate's rollout side by side with its change, scores and whether it was
    selected; the kept incumbent, when no candidate beat it."""
    sel_path = IterationPaths.in_dir(iter_dir, "selection")
    if not sel_path.is_file():
        return '<p class="muted">No selection record: this iteration trained a single reward.</p>'
    try:
        record = json.loads(sel_path.read_text())
    except json.JSONDecodeError as exc:
        raise ReportError(f"{sel_path}: not valid JSON: {exc}") from exc
    winner = record["winner"]
    figures = []
    for c in record["candidates"]:
        k = c["candidate"]
        name = IterationPaths.candidate_name(k)
        cand_dir = IterationPaths.candidate_in_dir(iter_dir, k)
        checkpoint = "full_value" in c  # its screening checkpoint measured better and is the candidate
        video = IterationPaths.in_dir(cand_dir / SCREEN_DIR if checkpoint else cand_dir, "rollout")
        won = winner["kind"] == "candidate" and winner["candidate"] == k
        media = (f'<video src="{small_video_uri(video, CANDIDATE_VIDEO_WIDTH)}" data-file="{esc(name)}.mp4" '
                 'autoplay loop muted playsinline controls></video>' if video.is_file()
                 else '<p class="muted">rollout missing</p>')
        figures.append(
            f'<figure class="candidate{" selected" if won else ""}" id="{esc(name)}">{media}'
            f"<figcaption><b>{esc(name)}</b>{' (selected)' if won else ''}: {esc(c['label'])}<br>"
            f"gap {esc(fmt(num(c.get('gap'))))} · mean return {esc(fmt(num(c.get('mean_return'))))}"
            f"{'' if c.get('rung', 'full') == 'full' else ' · ' + esc(c['rung'])}"
            f"{' (checkpoint; full training ' + esc(fmt(num(c['full_value']))) + ')' if checkpoint else ''}"
            "</figcaption></figure>")
    note = ""
    if winner["kind"] == "incumbent":
        note = (f'<p class="warn" id="incumbent-kept">No candidate beat the incumbent: iteration '
                f"{esc(winner['from_iteration'])}'s selection ({esc(winner['label'])}, "
                f"{esc(record['objective'])} {esc(fmt(num(winner['value'])))}) carries over.</p>")
    return (f'<p id="selection-why">Selected by {esc(record["objective"])}: {esc(record["why"])}.</p>'
            + note + '<div class="candidates">' + "".join(figures) + "</div>")


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
        parts = [f'<div class="warn">No training plot: {esc(exc)}</div>']
    headline: list[tuple[str, Any]] = []
    if rows:
        last = rows[-1]
        for key in ("epoch", "env_steps", "wall_s", "mean_return", "mean_episode_length"):
            if key in last:
                v = num(last[key])
                headline.append((f"final {key}", int(v) if v is not None and key in
                                 ("epoch", "env_steps") else v))
        comp = [(k, num(v)) for k, v in last.items() if k.startswith("reward/")]
        if comp:
            parts.append("<p>Reward components logged in the last epoch:</p>")
            parts.append(kv_table(comp, "final-components"))
    return "\n".join(parts), headline



def _required_inputs(iter_dir: Path, expert_clip: Path,
                     prev_iter_dir: Path | None) -> tuple[Path, Path, str | None]:
    """(rollout video, reward code, previous reward code or None), each checked to exist."""
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
    return rollout, reward_py, prev_code


def _summary_html(iter_name: str, critique: dict[str, Any],
                  headline: list[tuple[str, Any]]) -> str:
    """The summary table and the motion-descriptor table."""
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
    return (kv_table(summary_rows, "summary-table")
            + "<p>Motion descriptors measured by the critic:</p>"
            + _descriptor_table(critique.get("descriptors") or {}))


def _diff_section(prev_code: str | None, new_code: str, prev_iter_dir: Path | None,
                  iter_name: str) -> str:
    """The reward-code diff against the previous iteration, or why there is none."""
    if prev_code is None:
        return ('<p id="diff-none">Initial reward code: there is no previous iteration to '
                'compare with.</p>')
    prev_label = f"{Path(prev_iter_dir).name}/reward.py"
    body, added, removed = diff_html(prev_code, new_code, prev_label, f"{iter_name}/reward.py")
    if not added and not removed:
        return f'<p id="diff-none">Unchanged from {esc(prev_label)}.</p>'
    return (f'<p id="diff-stat">Changes from {esc(prev_label)}: '
            f'<span class="stat-add">+{added}</span> '
            f'<span class="stat-del">−{removed}</span> lines.</p>' + body)


def build_iteration_page(iter_dir: Path, expert_clip: Path, out_dir: Path,
                         prev_iter_dir: Path | None, title: str) -> Path:
    """Write ``out_dir/index.html`` reviewing one iteration; returns the index path.

    The page embeds the expert clip and the rollout (``data-file`` ``expert.mp4`` / ``rollout.mp4``),
    the storyboard frames and the training plot. Reads from
    ``iter_dir``: ``rollout.mp4`` and ``reward.py`` (required), ``critique.md``/``critique.json``,
    ``train_log.csv``, ``storyboard/`` (optional). The diff is against ``prev_iter_dir/reward.py``.
    """
    iter_dir, expert_clip, out_dir = Path(iter_dir), Path(expert_clip), Path(out_dir)
    rollout, reward_py, prev_code = _required_inputs(iter_dir, expert_clip, prev_iter_dir)

    prepare_out_dir(out_dir)
    iter_name = iter_dir.name
    expert_name, expert_meta, expert_warn = video_meta(expert_clip, "Expert clip")
    rollout_name, rollout_meta, rollout_warn = video_meta(rollout, "Robot rollout")
    new_code = reward_py.read_text()
    critique_html, critique = _critique_sections(iter_dir)
    training, headline = _training(iter_dir)
    summary_html = _summary_html(iter_name, critique, headline)
    diff_section = _diff_section(prev_code, new_code, prev_iter_dir, iter_name)

    page = template("iteration.html").substitute(
        title=esc(title),
        subtitle=esc(f"{iter_dir.as_posix()} — expert clip {expert_clip.as_posix()}"),
        css=css(),
        expert_src=data_uri(expert_clip, "video/mp4"),
        rollout_src=data_uri(rollout, "video/mp4"),
        expert_name=expert_name, expert_meta=expert_meta, expert_warn=expert_warn,
        rollout_name=rollout_name, rollout_meta=rollout_meta, rollout_warn=rollout_warn,
        iter_name=esc(iter_name),
        summary_html=summary_html,
        candidates_html=_candidates(iter_dir),
        training_html=training,
        storyboard_html=_storyboard(iter_dir),
        critique_html=critique_html,
        diff_html=diff_section,
        code_html=code_html(new_code),
    )
    return write_page(out_dir, page)
