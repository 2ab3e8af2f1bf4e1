"""Open a generated review page in headless Chromium: both videos load and play, the diff and the
critique are visible, and a screenshot is kept.

Needs Chromium (``tools/install_browser.sh`` installs Debian's ``chromium``) and the ``websockets``
package (Chrome DevTools Protocol client). Skips with the reason when either is absent. Set
``VIDREWARD_CHROMIUM`` to use another Chromium/Chrome binary and ``VIDREWARD_SCREENSHOT_DIR`` to keep
the screenshots somewhere other than pytest's tmp dir.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import imageio.v2 as imageio
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # conftest_helpers under any import mode

from conftest_helpers.cdp import Browser, browser_tools_fixture, find_browser
from conftest_helpers.fake_run import ADDED_LINE, PROBLEM_TEXT, REMOVED_LINE, make_run
from vidreward.report import build_iteration_page, build_run_index

BROWSER = find_browser()
pytestmark = [pytest.mark.timeout(180)]


browser_tools = browser_tools_fixture()  # Chromium and websockets: skip without, fail under CI=true

VIDEO_STATE = """[...document.querySelectorAll('video')].map(v => ({
    id: v.id, src: v.dataset.file, embedded: v.currentSrc.startsWith('data:video/mp4;base64,'),
    readyState: v.readyState,
    currentTime: v.currentTime, paused: v.paused, error: v.error ? v.error.code : null,
    width: v.videoWidth, height: v.videoHeight,
    box: (r => [r.x, r.y, r.width, r.height])(v.getBoundingClientRect())}))"""


def _visible_text_js(selector: str) -> str:
    return f"""(() => {{ const el = document.querySelector({selector!r});
        if (!el) return null; const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        return {{visible: r.width > 0 && r.height > 0 && s.display !== 'none'
                 && s.visibility !== 'hidden', text: el.innerText}}; }})()"""


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory) -> Path:
    env = os.environ.get("VIDREWARD_SCREENSHOT_DIR")
    d = Path(env) if env else tmp_path_factory.mktemp("screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture()
def browser(tmp_path):
    with Browser(BROWSER, tmp_path / "chromium-profile") as b:
        yield b


def _assert_videos_play(browser: Browser, expected_srcs: list[str]) -> list[dict]:
    # Loaded: every video has decoded data for the current frame.
    browser.wait_for("[...document.querySelectorAll('video')].every(v => v.readyState >= 2 "
                     "|| v.error)", timeout=30)
    first = browser.evaluate(VIDEO_STATE)
    assert [v["src"] for v in first] == expected_srcs
    for v in first:
        assert v["error"] is None, f"{v['src']}: MediaError code {v['error']}"
        assert v["embedded"], f"{v['src']} is not embedded in the page"
        assert v["readyState"] >= 2, v
        assert v["width"] > 0 and v["height"] > 0, v
    # Playing: currentTime advances on every video (autoplay, muted).
    browser.wait_for("[...document.querySelectorAll('video')].every(v => !v.paused "
                     "&& v.currentTime > 0.25)", timeout=30)
    before = {v["src"]: v["currentTime"] for v in browser.evaluate(VIDEO_STATE)}
    browser.wait_for(f"[...document.querySelectorAll('video')].every(v => "
                     f"v.currentTime !== ({before!r})[v.dataset.file])", timeout=10)
    return first


def test_iteration_page_in_chromium(tmp_path, browser, screenshot_dir):
    run_dir, clip = make_run(tmp_path)
    index = build_iteration_page(run_dir / "iter_1", clip, tmp_path / "page", run_dir / "iter_0",
                                 "demo — iter 1")
    browser.navigate(index.as_uri())
    videos = _assert_videos_play(browser, ["expert.mp4", "rollout.mp4"])

    # Side by side: same row, expert left of rollout, neither collapsed.
    (ex, ey, ew, eh), (rx, ry, rw, rh) = videos[0]["box"], videos[1]["box"]
    assert abs(ey - ry) < 5 and ex + ew <= rx, (videos[0]["box"], videos[1]["box"])
    assert min(ew, rw) > 200 and min(eh, rh) > 100

    diff = browser.evaluate(_visible_text_js("#diff pre.diff"))
    assert diff and diff["visible"], diff
    assert REMOVED_LINE.strip() in diff["text"] and ADDED_LINE.strip() in diff["text"]
    colors = browser.evaluate("""({add: getComputedStyle(document.querySelector('#diff .add')).backgroundColor,
        del: getComputedStyle(document.querySelector('#diff .del')).backgroundColor})""")
    assert colors["add"] != colors["del"], colors

    critique = browser.evaluate(_visible_text_js("#critique .critique"))
    assert critique and critique["visible"] and PROBLEM_TEXT in critique["text"]
    assert browser.evaluate("window.__pwned === undefined"), "model text ran as script"
    captions = browser.evaluate("[...document.querySelectorAll('#videos figcaption')]"
                                ".map(f => f.innerText)")
    assert "Expert clip" in captions[0] and "Robot rollout" in captions[1]
    browser.wait_for("document.images.length > 0 && "
                     "[...document.images].every(i => i.complete && i.naturalWidth > 0)", timeout=20)
    assert browser.console_errors() == []

    shot = browser.screenshot(screenshot_dir / "iteration_page.png")
    img = imageio.imread(shot)
    assert img.shape[0] > 600 and img.shape[1] > 600
    print(f"\nscreenshot: {shot}")


def test_run_page_in_chromium(tmp_path, browser, screenshot_dir):
    run_dir, clip = make_run(tmp_path)
    index = build_run_index(run_dir, clip, tmp_path / "runpage", "demo run")
    browser.navigate(index.as_uri())
    _assert_videos_play(browser, ["expert.mp4", "iter_0.mp4", "iter_1.mp4"])
    shot = browser.screenshot(screenshot_dir / "run_page.png")
    print(f"\nscreenshot: {shot}")
