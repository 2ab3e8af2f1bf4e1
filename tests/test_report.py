"""Review pages and plots (vidreward.report)."""

from __future__ import annotations

import base64
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # conftest_helpers under any import mode

from conftest_helpers.fake_run import (
    ADDED_LINE,
    HOSTILE_TEXT,
    PROBLEM_TEXT,
    REMOVED_LINE,
    make_run,
    moving_square_frames,
)
from vidreward.report import (
    PlotError,
    ReportError,
    build_iteration_page,
    build_run_index,
    diff_html,
    plot_summary,
    plot_training_curves,
    probe_video,
    render_markdown,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Collector(HTMLParser):
    """Videos, images and the text of elements with class add/del in a page."""

    def __init__(self):
        super().__init__()
        self.videos: list[dict[str, str | None]] = []
        self.images: list[str] = []
        self.spans: dict[str, list[str]] = {"add": [], "del": []}
        self.figcaptions: list[str] = []
        self._span: str | None = None
        self._in_caption = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "video":
            self.videos.append(a)
        elif tag == "img":
            self.images.append(a)
        elif tag == "span" and a.get("class") in self.spans:
            self._span, self._text = a["class"], []
        elif tag == "figcaption":
            self._in_caption, self._text = True, []

    def handle_endtag(self, tag):
        if tag == "span" and self._span:
            self.spans[self._span].append("".join(self._text))
            self._span = None
        elif tag == "figcaption" and self._in_caption:
            self.figcaptions.append("".join(self._text))
            self._in_caption = False

    def handle_data(self, data):
        if self._span or self._in_caption:
            self._text.append(data)


def _parse(html_text: str) -> _Collector:
    c = _Collector()
    c.feed(html_text)
    return c


@pytest.fixture()
def fake_run(tmp_path):
    run_dir, clip = make_run(tmp_path)
    return tmp_path, run_dir, clip


def _assert_png(path: Path) -> np.ndarray:
    assert path.is_file(), path
    return _assert_png_bytes(path.read_bytes())


def _assert_png_bytes(data: bytes) -> np.ndarray:
    assert data[:8] == PNG_MAGIC
    img = imageio.imread(data)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert img.std() > 0, "plot is a blank image"
    return img


def _embedded(src: str, mime: str) -> bytes:
    """The bytes of a ``data:<mime>;base64,`` URI (fails when ``src`` is anything else)."""
    prefix = f"data:{mime};base64,"
    assert src.startswith(prefix), src[:60]
    return base64.b64decode(src[len(prefix):])


# --------------------------------------------------------------------------- iteration page


def test_iteration_page_shows_videos_side_by_side_with_captions(fake_run):
    root, run_dir, clip = fake_run
    out = root / "pages" / "iter_1"
    index = build_iteration_page(run_dir / "iter_1", clip, out, run_dir / "iter_0", "demo — iter 1")
    assert index == out / "index.html"
    page = index.read_text()
    parsed = _parse(page)

    assert [v.get("data-file") for v in parsed.videos] == ["expert.mp4", "rollout.mp4"]
    for v in parsed.videos:
        for attr in ("autoplay", "loop", "muted", "playsinline", "controls"):
            assert attr in v, f"video {v.get('data-file')} lacks {attr}"
    # The page is one self-contained file: the videos are the inputs, embedded byte for byte.
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    assert _embedded(parsed.videos[0]["src"], "video/mp4") == clip.read_bytes()
    assert (_embedded(parsed.videos[1]["src"], "video/mp4")
            == (run_dir / "iter_1" / "rollout.mp4").read_bytes())

    expert_cap, rollout_cap = parsed.figcaptions[:2]
    assert "Expert clip" in expert_cap and "expert.mp4" in expert_cap
    assert "Robot rollout" in rollout_cap and "iter_1" in rollout_cap
    assert "h264" in expert_cap and "yuv420p" in rollout_cap
    assert 'class="warn"' not in page.split('id="summary"')[0], "playable videos got a warning"
    assert "<title>demo — iter 1</title>" in page


def test_iteration_page_diff_critique_code_summary(fake_run):
    root, run_dir, clip = fake_run
    out = root / "pages" / "iter_1"
    page = build_iteration_page(run_dir / "iter_1", clip, out, run_dir / "iter_0", "t").read_text()
    parsed = _parse(page)

    # Diff: removed and added lines are marked.
    assert any(REMOVED_LINE in s for s in parsed.spans["del"]), parsed.spans["del"]
    assert any(ADDED_LINE in s for s in parsed.spans["add"]), parsed.spans["add"]
    assert not any(ADDED_LINE in s for s in parsed.spans["del"])
    assert re.search(r'id="diff-stat".*\+5.*−4', page)

    # Critique rendered (headings, list items), model text escaped, not executed.
    assert PROBLEM_TEXT in page
    assert "<h2>Problems</h2>" in page and "<h2>New component</h2>" in page
    assert "<script>window.__pwned" not in page
    assert "&lt;script&gt;window.__pwned = true&lt;/script&gt;" in page
    assert HOSTILE_TEXT.split(">", 1)[1].split("<")[0] in page

    # Reward code shown escaped (the dict literal's quotes are entities or spans, never raw HTML).
    assert 'id="code"' in page and "compute_reward" in page
    # Summary: gap, backend, descriptors expert vs robot.
    assert 'id="summary-table"' in page and "analytic" in page
    desc = page.split('id="descriptors"', 1)[1].split("</table>", 1)[0]
    assert "forward_speed" in desc and "lateral_drift" in desc
    assert ">1.2<" in desc and ">0.7<" in desc  # expert, robot (iteration 1 of the fake run)
    # Storyboard frames and the training plot embedded.
    images = {img["data-file"]: img["src"] for img in parsed.images}
    for k in range(3):
        frame = run_dir / "iter_1" / "storyboard" / f"frame_{k:03d}.png"
        assert _embedded(images[frame.name], "image/png") == frame.read_bytes()
    _assert_png_bytes(_embedded(images["training.png"], "image/png"))


def test_first_iteration_has_no_diff_and_rebuild_is_clean(fake_run):
    root, run_dir, clip = fake_run
    out = root / "pages" / "iter_0"
    (out / "storyboard").mkdir(parents=True)
    (out / "storyboard" / "stale.png").write_bytes(PNG_MAGIC)
    page = build_iteration_page(run_dir / "iter_0", clip, out, None, "t").read_text()
    assert 'id="diff-none"' in page and "Initial reward code" in page
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]  # stale files removed
    # Same code in both iterations → "Unchanged".
    same = root / "results" / "demo" / "iter_same"
    same.mkdir()
    for name in ("reward.py", "rollout.mp4"):
        (same / name).write_bytes((run_dir / "iter_0" / name).read_bytes())
    page = build_iteration_page(same, clip, root / "pages" / "same", run_dir / "iter_0",
                                "t").read_text()
    assert "Unchanged from iter_0/reward.py" in page
    assert "No critique was written" in page and "No storyboard frames" in page


def test_page_shows_the_rollout_as_measured_beside_the_expert(fake_run):
    """The critic's robot/ overlays (the rollout video measured like the expert clip) are shown in
    their own row, after the expert's frames."""
    root, run_dir, clip = fake_run
    board = run_dir / "iter_1" / "storyboard"
    (board / "robot").mkdir()
    robot_frame = board / "robot" / "robot_00.png"
    robot_frame.write_bytes((board / "frame_000.png").read_bytes()[:-1] + b"\x00")
    page = build_iteration_page(run_dir / "iter_1", clip, root / "pages" / "robot", run_dir / "iter_0",
                                "t").read_text()
    expert_part, robot_part = page.split("Rollout video, as measured", 1)
    assert "Expert clip, as measured" in expert_part and 'data-file="frame_000.png"' in expert_part
    assert 'data-file="robot_00.png"' in robot_part and "robot_00.png" not in expert_part


def test_page_with_unplottable_train_log_still_builds(fake_run):
    root, run_dir, clip = fake_run
    (run_dir / "iter_0" / "train_log.csv").write_text("foo,bar\n1,2\n")
    page = build_iteration_page(run_dir / "iter_0", clip, root / "p", None, "t").read_text()
    assert "No training plot" in page and "env_steps" in page
    assert 'id="training-plot"' not in page


def test_page_without_critique_md_renders_critique_json(fake_run):
    root, run_dir, clip = fake_run
    (run_dir / "iter_1" / "critique.md").unlink()
    page = build_iteration_page(run_dir / "iter_1", clip, root / "p", run_dir / "iter_0",
                                "t").read_text()
    assert PROBLEM_TEXT in page and "<h2>Rewrite component</h2>" in page


def test_missing_inputs_raise_report_error(fake_run):
    root, run_dir, clip = fake_run
    (run_dir / "iter_1" / "rollout.mp4").unlink()
    with pytest.raises(ReportError, match="rollout.mp4: rollout video not found"):
        build_iteration_page(run_dir / "iter_1", clip, root / "p", run_dir / "iter_0", "t")
    with pytest.raises(ReportError, match="expert clip not found"):
        build_iteration_page(run_dir / "iter_0", root / "nope.mp4", root / "p", None, "t")
    with pytest.raises(ReportError, match="previous iteration's reward code"):
        build_iteration_page(run_dir / "iter_0", clip, root / "p", root / "missing_iter", "t")


def test_unplayable_video_is_flagged(fake_run, tmp_path):
    root, run_dir, clip = fake_run
    odd = tmp_path / "odd.mp4"
    # 4:4:4 H.264 (what libx264 picks for rgb input without a pixel format): Chromium cannot play it.
    frames = moving_square_frames(w=64, h=48)
    imageio.mimsave(odd, frames, fps=12, codec="libx264", macro_block_size=1, pixelformat="yuv444p")
    info = probe_video(odd)
    assert info.codec == "h264" and info.pix_fmt == "yuv444p" and not info.browser_playable
    good = probe_video(clip)
    assert good.browser_playable and (good.width, good.height) == (96, 64)
    assert good.fps == 12 and good.duration_s == pytest.approx(2.0, abs=0.1)
    page = build_iteration_page(run_dir / "iter_0", odd, root / "p", None, "t").read_text()
    assert 'class="warn"' in page and "yuv444p" in page


def test_diff_html_and_markdown_units():
    body, added, removed = diff_html("a\nb\nc\n", "a\nB\nc\nd\n", "old.py", "new.py")
    assert (added, removed) == (2, 1)
    assert '<span class="del">-b</span>' in body and '<span class="add">+B</span>' in body
    assert diff_html(None, "x", "a", "b") == ("", 0, 0)
    rendered = render_markdown("## T\n\n1. **bold** <img src=x onerror=alert(1)>\n\n"
                               "| a | b |\n|---|---|\n| 1 | 2 |\n\n[l](javascript:alert(1))")
    assert "<h2>T</h2>" in rendered and "<strong>bold</strong>" in rendered
    assert "<img" not in rendered and "&lt;img" in rendered
    assert "<table>" in rendered
    assert 'href="javascript' not in rendered


# --------------------------------------------------------------------------- run page


def test_run_index_lists_every_iteration(fake_run):
    root, run_dir, clip = fake_run
    # summary.csv in the layout vidreward.summary writes.
    (run_dir / "summary.csv").write_text(
        "iteration,gap,critic,n_problems,n_edits,env_steps,mean_return,mean_episode_length,"
        "reward_components,wall_s,expert/forward_speed,expert/lateral_drift,robot/forward_speed,"
        "robot/lateral_drift\n"
        "0,0.8,analytic,2,2,12288,35.0,110.0,forward_velocity upright,10.5,1.2,0.05,0.4,0.4\n"
        "1,0.5,analytic,2,2,12288,35.0,110.0,forward_velocity upright energy,11.0,1.2,0.05,0.7,0.3\n"
    )
    out = root / "pages" / "run"
    page = build_run_index(run_dir, clip, out, "demo run").read_text()
    parsed = _parse(page)
    assert [v["data-file"] for v in parsed.videos] == ["expert.mp4", "iter_0.mp4", "iter_1.mp4"]
    assert _embedded(parsed.videos[0]["src"], "video/mp4") == clip.read_bytes()
    for v in parsed.videos[1:]:  # rollouts re-encoded small, still browser-playable H.264
        small = out.parent / v["data-file"]
        small.write_bytes(_embedded(v["src"], "video/mp4"))
        assert probe_video(small).browser_playable, probe_video(small)
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    _assert_png_bytes(_embedded(parsed.images[0]["src"], "image/png"))
    assert parsed.images[0]["data-file"] == "summary.png"
    table = page.split('id="run-table"', 1)[1].split("</table>", 1)[0]
    assert ">0.8<" in table and ">0.5<" in table and "12,288" in table


def test_run_index_without_summary_uses_critiques(fake_run):
    root, run_dir, clip = fake_run
    page = build_run_index(run_dir, clip, root / "runpage", "demo run").read_text()
    assert "gap 0.8" in page and "gap 0.5" in page
    with pytest.raises(ReportError, match="no iter_<i>/rollout.mp4"):
        build_run_index(root / "data", clip, root / "x", "t")


def test_summary_written_by_vidreward_summary_plots(fake_run):
    """The plot reads what the workflow's summary module writes."""
    from vidreward.summary import write_summary

    root, run_dir, clip = fake_run
    for i in range(2):
        (run_dir / f"iter_{i}" / "provenance.json").write_text(
            json.dumps({"wall_time_s": {"train": 3.0, "render": 1.0}, "outputs": {}}))
    records = [run_dir / f"iter_{i}" / "provenance.json" for i in (1, 0)]  # any order
    table = write_summary(records, run_dir / "summary.csv", run_dir / "summary.json")
    assert list(table["iteration"]) == [0, 1]
    _assert_png(plot_summary(run_dir / "summary.csv", root / "summary.png"))


# --------------------------------------------------------------------------- plots


def test_training_curves_one_panel_per_component(fake_run, tmp_path):
    root, run_dir, _ = fake_run
    out = tmp_path / "curves.png"
    assert plot_training_curves(run_dir / "iter_1" / "train_log.csv", out) == out
    img = _assert_png(out)
    # 4 series (mean_return + 3 components) in a 3-column grid → two rows: taller than one row.
    one = tmp_path / "one.png"
    (tmp_path / "one.csv").write_text("env_steps,mean_return\n1,2\n2,3\n")
    one_img = _assert_png(plot_training_curves(tmp_path / "one.csv", one))
    assert img.shape[0] > one_img.shape[0]


def test_plot_errors_and_empty_logs(tmp_path):
    (tmp_path / "empty.csv").write_text("epoch,env_steps,mean_return\n")
    _assert_png(plot_training_curves(tmp_path / "empty.csv", tmp_path / "empty.png"))
    (tmp_path / "bad.csv").write_text("foo,bar\n1,2\n")
    with pytest.raises(PlotError, match="env_steps"):
        plot_training_curves(tmp_path / "bad.csv", tmp_path / "bad.png")
    with pytest.raises(PlotError, match="not found"):
        plot_training_curves(tmp_path / "nope.csv", tmp_path / "nope.png")
    (tmp_path / "s.csv").write_text("iteration,foo\n0,1\n")
    with pytest.raises(PlotError, match="no 'gap'"):
        plot_summary(tmp_path / "s.csv", tmp_path / "s.png")


# --------------------------------------------------------------------------- progress


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_page_too_big_for_a_single_file_report_is_named_in_the_log(fake_run, monkeypatch, caplog):
    import vidreward.report.pagefiles as pagefiles

    root, run_dir, clip = fake_run
    monkeypatch.setattr(pagefiles, "PAGE_BYTES_LIMIT", 1000)
    with caplog.at_level("WARNING", logger="vidreward.report.pages"):
        index = build_iteration_page(run_dir / "iter_0", clip, root / "big", None, "t")
    assert index.is_file()  # still written: the zip report and direct opening have no cap
    assert any(str(index) in r.getMessage() and "report.zip" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
