"""Rate clips on the blind rating page in headless Chromium, like a person: the videos load, radio
buttons are clicked and a name typed with real mouse and keyboard events, "Save ratings" posts to
the rating server, the confirmation shows, the ratings file holds what was clicked and
``aggregate_ratings`` gives the expected per-method means; a screenshot is kept. Opened as a file
the page offers the ratings as a download instead.

Skips like tests/test_report_browser.py: without Chromium (``tools/install_browser.sh``, or
``VIDREWARD_CHROMIUM``) or the ``websockets`` package. ``VIDREWARD_SCREENSHOT_DIR`` keeps the
screenshot somewhere other than pytest's tmp dir.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import imageio.v2 as imageio
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # conftest_helpers under any import mode

from conftest_helpers.cdp import Browser, browser_tools_fixture, find_browser
from test_rating import METHODS, TASKS, make_rollouts
from vidreward.compare.rating import aggregate_ratings, build_rating_page, read_key
from vidreward.compare.rating_server import serve

BROWSER = find_browser()
pytestmark = [pytest.mark.timeout(180)]


browser_tools = browser_tools_fixture()  # Chromium and websockets: skip without, fail under CI=true

VIDEOS = """[...document.querySelectorAll('video')].map(v => ({src: v.getAttribute('src'),
    ready: v.readyState, error: v.error ? v.error.code : null, w: v.videoWidth, h: v.videoHeight}))"""


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory) -> Path:
    env = os.environ.get("VIDREWARD_SCREENSHOT_DIR")
    d = Path(env) if env else tmp_path_factory.mktemp("screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture()
def built(tmp_path):
    rollouts = make_rollouts(tmp_path)
    page_dir, key_path = tmp_path / "rating" / "page", tmp_path / "rating" / "key.json"
    build_rating_page(rollouts, page_dir, key_path, ratings_file="results/compare/ratings.json")
    return page_dir, key_path, read_key(key_path)


@pytest.fixture()
def browser(tmp_path):
    with Browser(BROWSER, tmp_path / "chromium-profile") as b:
        yield b


def click(browser: Browser, selector: str) -> None:
    """A left click at the middle of the element, as a mouse would give it."""
    box = browser.evaluate(f"""(() => {{ const el = document.querySelector({selector!r});
        el.scrollIntoView({{block: 'center'}}); const r = el.getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2]; }})()""")
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left",
                     clickCount=0 if kind == "mouseMoved" else 1)


def type_text(browser: Browser, selector: str, text: str) -> None:
    click(browser, selector)
    browser.send("Input.insertText", text=text)


def rate(browser: Browser, ratings: dict[str, int]) -> None:
    for pair, value in ratings.items():
        click(browser, f'input.rating[name="{pair}"][value="{value}"]')
    checked = browser.evaluate("Object.fromEntries([...document.querySelectorAll("
                               "'input.rating:checked')].map(e => [e.name, Number(e.value)]))")
    assert {p: checked.get(p) for p in ratings} == ratings


def pairs_of(key: dict, task: str, method: str) -> str:
    return next(p for p, v in key.items() if v["task"] == task and v["method"] == method)


def test_rate_save_and_aggregate(tmp_path, built, browser, screenshot_dir):
    page_dir, key_path, key = built
    ratings_path = tmp_path / "ratings.json"
    server = serve(page_dir, ratings_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        browser.navigate(server.url)
        browser.wait_for("[...document.querySelectorAll('video')].every(v => v.readyState >= 2 "
                         "|| v.error)", timeout=30)
        videos = browser.evaluate(VIDEOS)
        assert len(videos) == 2 * len(TASKS) * len(METHODS)  # expert + robot clip per pair
        for v in videos:
            assert v["error"] is None and v["ready"] >= 2 and (v["w"], v["h"]) == (64, 64), v
        assert len({v["src"] for v in videos}) == len(TASKS) + len(key)  # one expert per task

        task = TASKS[0]
        ann = {pairs_of(key, task, m): r for m, r in zip(METHODS, (2, 4, 5))}
        type_text(browser, "#rater", "ann")
        rate(browser, ann)
        click(browser, "#save")
        status = browser.wait_for("(s => s.className === 'ok' && s.textContent.startsWith('Saved')"
                                  " && s.textContent)(document.getElementById('status'))", timeout=15)
        assert status == "Saved 3 ratings for ann."
        assert browser.evaluate("document.querySelectorAll('.pair.rated').length") == 3

        # a second rater on the same page: two of ann's pairs, other values
        browser.evaluate("document.getElementById('rater').value = ''")
        type_text(browser, "#rater", "bo")
        bo = {pairs_of(key, task, METHODS[0]): 4, pairs_of(key, task, METHODS[1]): 2}
        rate(browser, bo)
        # ann's third rating is still checked on the page, so it is submitted under bo too
        bo[pairs_of(key, task, METHODS[2])] = 5
        click(browser, "#save")
        browser.wait_for("document.getElementById('status').textContent === "
                         "'Saved 3 ratings for bo.'", timeout=15)
        shot = browser.screenshot(screenshot_dir / "rating_page.png")
        assert imageio.imread(shot).shape[0] > 600
        print(f"\nscreenshot: {shot}")
        assert browser.console_errors() == []
    finally:
        server.shutdown()
        server.server_close()

    saved = json.loads(ratings_path.read_text())["ratings"]
    expected = [("ann", p, r) for p, r in ann.items()] + [("bo", p, r) for p, r in bo.items()]
    assert sorted((e["rater"], e["pair"], e["rating"]) for e in saved) == sorted(expected)
    table = aggregate_ratings(key_path, ratings_path).set_index(["task", "method"])
    for method, mean in zip(METHODS, (3.0, 3.0, 5.0)):
        assert table.loc[(task, method), "n_ratings"] == 2
        assert table.loc[(task, method), "rating_mean"] == pytest.approx(mean)
    assert (table.loc[TASKS[1], "n_ratings"] == 0).all()
    # ... and the aggregate lands in the comparison table beside the imitation scores
    from vidreward.compare.matrix import MatrixConfig
    from vidreward.compare.table import method_table

    matrix = MatrixConfig(name="browser", tasks=TASKS, methods=METHODS, seeds=(0,))
    scores = pd.DataFrame([{"task": t, "method": m, "seed": 0, "imitation_score": 0.5,
                            "imitation_source": "truth", "final": True} for t in TASKS for m in METHODS])
    compared = method_table(matrix, scores, aggregate_ratings(key_path, ratings_path)).set_index(["task", "method"])
    for method, mean in zip(METHODS, (3.0, 3.0, 5.0)):
        assert compared.loc[(task, method), "rating_mean"] == pytest.approx(mean)
        assert compared.loc[(task, method), "imitation_mean"] == pytest.approx(0.5)


def test_opened_as_file_offers_a_download(built, browser):
    page_dir, _, key = built
    browser.navigate((page_dir / "index.html").as_uri())
    pair = sorted(key)[0]
    rate(browser, {pair: 3})
    click(browser, "#save")
    link = browser.wait_for("""(a => a && !document.getElementById('download').hidden &&
        {href: a.href, name: a.download, text: document.getElementById('download').innerText})
        (document.getElementById('download-link'))""", timeout=10)
    assert link["href"].startswith("blob:") and link["name"] == "ratings.json"
    assert "results/compare/ratings.json" in link["text"]
    body = browser.evaluate(f"fetch({link['href']!r}).then(r => r.json())", await_promise=True)
    assert body == {"ratings": [{"pair": pair, "rating": 3, "rater": "anonymous"}]}
    assert "ready to download" in browser.evaluate("document.getElementById('status').textContent")
