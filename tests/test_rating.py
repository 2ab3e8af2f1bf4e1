"""The blind human rating page: nothing on it names a method or run, the shuffle, the key, the
ratings file (merge, aggregate, every bad input named), the rating server and ``vidreward rate``."""

from __future__ import annotations

import http.client
import json
import math
import signal
import subprocess
import sys
import threading
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vidreward.compare.rating import (COLUMNS, PAIRS_FILE, RatedRollout, aggregate_ratings, aggregate_stage,
                                      build_rating_page, merge_ratings, rating_page_stage, read_key)
from vidreward.compare.rating_server import MAX_BODY, serve
from vidreward.errors import RatingError

TASKS = ("ant_walk", "humanoid_jump")
METHODS = ("eureka", "no_critic", "ours_full")  # sorted: the method order
REPO = Path(__file__).resolve().parents[1]


def make_clip(path: Path, shade: int, frames: int = 6, size: int = 64) -> Path:
    """A tiny H.264 clip: a square of grey ``shade`` moving over black."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with imageio.get_writer(path, fps=10, codec="libx264", pixelformat="yuv420p",
                            macro_block_size=1, ffmpeg_log_level="error") as writer:
        for t in range(frames):
            frame = np.zeros((size, size, 3), np.uint8)
            frame[20:40, 4 + 4 * t:24 + 4 * t] = shade
            writer.append_data(frame)
    return path


def make_rollouts(root: Path, tasks=TASKS, methods=METHODS, seeds=(0,)) -> list[RatedRollout]:
    """Every task x method x seed, each with its own rollout clip and its task's expert clip."""
    out = []
    for task in tasks:
        expert = make_clip(root / "clips" / task / "expert.mp4", 250)
        for method, seed in ((m, s) for m in methods for s in seeds):
            run, shade = f"{task}__{method}__s{seed}", 49 + 9 * len(out)
            clip = make_clip(root / "results" / run / "rollout.mp4", shade)
            out.append(RatedRollout(task, method, seed, run, clip, expert))
    return out


@pytest.fixture()
def page(tmp_path):
    rollouts = make_rollouts(tmp_path)
    page_dir, key_path = tmp_path / "rating" / "page", tmp_path / "rating" / "key.json"
    build_rating_page(rollouts, page_dir, key_path)
    return rollouts, page_dir, key_path


def _order(page_dir: Path, key: dict) -> dict[str, list[str]]:
    """Per task, the methods in the order the page shows their pairs."""
    text, out = (page_dir / "index.html").read_text(), {}
    for p in sorted(key, key=lambda p: text.index(f'data-pair="{p}"')):
        out.setdefault(key[p]["task"], []).append(key[p]["method"])
    return out


def test_page_names_no_method_run_or_seed(page):
    rollouts, page_dir, key_path = page
    files = [p for p in page_dir.rglob("*") if p.is_file()]
    assert {p.relative_to(page_dir).as_posix() for p in files} >= {"index.html", PAIRS_FILE}
    assert len([p for p in files if p.name.startswith("pair_")]) == 6
    assert len([p for p in files if p.name.startswith("expert_")]) == 2  # one per task
    for name in {n for r in rollouts for n in (r.method, r.run)}:
        for f in files:
            assert name.lower().encode() not in f.read_bytes().lower(), (name, f)
            assert name.lower() not in f.relative_to(page_dir).as_posix().lower(), (name, f)
    html = (page_dir / "index.html").read_text()
    assert "seed" not in html.lower() and "__s0" not in html
    assert "http://" not in html and "https://" not in html  # nothing loaded from elsewhere
    assert not key_path.resolve().is_relative_to(page_dir.resolve())
    key = read_key(key_path)
    assert {(v["task"], v["method"], v["seed"], v["run"]) for v in key.values()} == \
        {(r.task, r.method, r.seed, r.run) for r in rollouts}
    assert json.loads((page_dir / PAIRS_FILE).read_text())["pairs"] == sorted(key)
    by_run = {r.run: r.rollout for r in rollouts}  # each anonymous video is its rollout's bytes
    for pair, v in key.items():
        assert (page_dir / "media" / f"{pair}.mp4").read_bytes() == by_run[v["run"]].read_bytes()


def test_shuffle_deterministic_not_method_order(tmp_path, page):
    rollouts, page_dir, key_path = page
    key = read_key(key_path)
    order = _order(page_dir, key)
    assert set(order) == set(TASKS)
    for task, methods in order.items():
        assert sorted(methods) == sorted(METHODS)
        assert methods != list(METHODS), (task, methods)
    # the same inputs in another order give the same page
    build_rating_page(list(reversed(rollouts)), tmp_path / "again", tmp_path / "again_key.json")
    assert (tmp_path / "again" / "index.html").read_text() == (page_dir / "index.html").read_text()
    assert read_key(tmp_path / "again_key.json") == key
    others = []
    for seed in range(1, 9):
        build_rating_page(rollouts, tmp_path / f"s{seed}", tmp_path / f"s{seed}.json", shuffle_seed=seed)
        others.append(_order(tmp_path / f"s{seed}", read_key(tmp_path / f"s{seed}.json")))
    assert any(o != order for o in others)
    assert all(methods != list(METHODS) for o in others for methods in o.values()), others


def test_key_and_ratings_inside_page_refused(tmp_path, page):
    rollouts, page_dir, _ = page
    with pytest.raises(RatingError, match="outside the page directory"):
        build_rating_page(rollouts, tmp_path / "other", tmp_path / "other" / "key.json")
    assert not (tmp_path / "other").exists()
    with pytest.raises(RatingError, match="outside the page directory"):
        serve(page_dir, page_dir / "ratings.json")


def test_revealing_name_refused(tmp_path):
    rollouts = make_rollouts(tmp_path, tasks=TASKS[:1], methods=("Robot", "eureka"))
    build_rating_page(rollouts, tmp_path / "ok", tmp_path / "ok.json")  # "Robot clip": every pair
    with pytest.raises(RatingError, match="would reveal 'eureka' \\(in index.html\\)"):
        build_rating_page(rollouts, tmp_path / "page", tmp_path / "key.json",
                          ratings_file="results/eureka/ratings.json")
    assert not (tmp_path / "page").exists() and not (tmp_path / "key.json").exists()


def _pairs_of(key: dict, task: str, method: str) -> list[str]:
    return sorted(p for p, v in key.items() if v["task"] == task and v["method"] == method)


def test_aggregate_mean_and_t_interval(tmp_path):
    rollouts = make_rollouts(tmp_path, seeds=(0, 1))
    key_path, ratings = tmp_path / "key.json", tmp_path / "ratings.json"
    build_rating_page(rollouts, tmp_path / "page", key_path)
    key = read_key(key_path)
    a, b = _pairs_of(key, "ant_walk", "eureka")  # two seeds
    c = _pairs_of(key, "ant_walk", "ours_full")[0]
    merge_ratings(ratings, "ann", {a: 3, b: 4, c: 2}, set(key))
    merge_ratings(ratings, "bo", {a: 5}, set(key))
    table = aggregate_ratings(key_path, ratings)
    assert list(table.columns) == COLUMNS and len(table) == len(TASKS) * len(METHODS)
    assert COLUMNS[2:] == ["n_ratings", "rating_mean", "rating_ci_low", "rating_ci_high"]
    row = table.set_index(["task", "method"]).loc[("ant_walk", "eureka")]
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert abs(half - 4.303 / math.sqrt(3)) < 1e-3
    assert row.n_ratings == 3 and row.rating_mean == pytest.approx(4.0)
    assert row.rating_ci_low == pytest.approx(4 - half) and row.rating_ci_high == pytest.approx(4 + half)
    one = table.set_index(["task", "method"]).loc[("ant_walk", "ours_full")]
    assert one.n_ratings == 1 and one.rating_mean == one.rating_ci_low == one.rating_ci_high == 2
    unrated = table[table.task == "humanoid_jump"]
    assert (unrated.n_ratings == 0).all() and unrated.iloc[:, 3:].isna().all().all()
    for missing in (None, tmp_path / "nobody_rated.json"):
        empty = aggregate_ratings(key_path, missing)
        assert (empty.n_ratings == 0).all() and empty.rating_mean.isna().all()
    aggregate_stage(str(key_path), str(ratings), str(tmp_path / "table.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "table.csv"), table)


def test_merge_replaces_a_raters_own_ratings_only(tmp_path):
    ratings, known = tmp_path / "r.json", {"p1", "p2", "p3"}
    assert merge_ratings(ratings, "ann", {"p1": 2, "p2": 3}, known) == 2
    merge_ratings(ratings, "bo", {"p1": 5}, known)
    merge_ratings(ratings, "ann", {"p1": 4, "p3": 1}, known)
    entries = json.loads(ratings.read_text())["ratings"]
    assert sorted((e["rater"], e["pair"], e["rating"]) for e in entries) == [
        ("ann", "p1", 4), ("ann", "p2", 3), ("ann", "p3", 1), ("bo", "p1", 5)]


def _entry(rating='3', pair='"P"', rater='"a"') -> str:
    return f'{{"ratings": [{{"pair": {pair}, "rating": {rating}, "rater": {rater}}}]}}'


@pytest.mark.parametrize("content, message", [
    ("{not json", "cannot read the ratings file as JSON"),
    (_entry()[len('{"ratings": '):-1], "not a ratings file"),  # the list alone
    ('{"ratings": [{"pair": "P", "rating": 3}]}', "not a ratings file"),
    (_entry(rater="7"), "not a ratings file"),
    (_entry(pair='"pair_00000000"'), "not on the rating page"),
    *[(_entry(rating=bad), "not an integer 1-5") for bad in ("0", "6", "3.5", '"3"', "true", "null")],
    ('{"ratings": [{"pair": "P", "rating": 2, "rater": "a"}, {"pair": "P", "rating": 3, "rater": "a"}]}',
     "rated P twice"),
])
def test_bad_ratings_file_named(tmp_path, content, message):
    key_path, ratings = tmp_path / "key.json", tmp_path / "my_ratings.json"
    key_path.write_text(json.dumps({"pairs": {"P": {"task": "t", "method": "m", "seed": 0, "run": "r"}}}))
    ratings.write_text(content)
    with pytest.raises(RatingError, match=message) as err:
        aggregate_ratings(key_path, ratings)
    assert str(ratings) in str(err.value)


@pytest.mark.parametrize("content", ["", "{}", '{"pairs": {"P": {"task": "t"}}}', '{"pairs": []}'])
def test_bad_key_named(tmp_path, content):
    key_path = tmp_path / "the_key.json"
    key_path.write_text(content)
    with pytest.raises(RatingError) as err:
        aggregate_ratings(key_path, None)
    assert str(key_path) in str(err.value)


def test_stage_lists_must_be_parallel(tmp_path):
    with pytest.raises(RatingError, match="2 rollouts but 1 methods"):
        rating_page_stage(["a.mp4", "b.mp4"], ["e.mp4", "e.mp4"], ["t", "t"], ["m"], [0, 0],
                          ["r1", "r2"], str(tmp_path / "page"), str(tmp_path / "key.json"))


# --------------------------------------------------------------------------- the server


@pytest.fixture()
def server(page, tmp_path):
    _, page_dir, key_path = page
    srv = serve(page_dir, tmp_path / "ratings.json")
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv, page_dir, key_path, tmp_path / "ratings.json"
    srv.shutdown()
    srv.server_close()


def _request(srv, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             address: tuple | None = None):
    conn = http.client.HTTPConnection(*(address or srv.server_address[:2]), timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


def _post(srv, data) -> tuple[int, dict]:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    status, body, _ = _request(srv, "POST", "/ratings", raw, {"Content-Type": "application/json"})
    return status, json.loads(body)


def test_server_serves_the_page_only(server):
    srv, page_dir, _, ratings = server
    status, body, headers = _request(srv, "GET", "/")
    assert status == 200 and body == (page_dir / "index.html").read_bytes()
    assert headers["Content-Type"].startswith("text/html")
    video = next((page_dir / "media").glob("pair_*.mp4"))
    status, body, headers = _request(srv, "GET", f"/media/{video.name}", headers={"Range": "bytes=0-99"})
    assert status == 206 and body == video.read_bytes()[:100] and headers["Content-Type"] == "video/mp4"
    ratings.write_text('{"ratings": []}')
    for path in ("/../key.json", "/%2e%2e/key.json", "/media/../../key.json", "/..%2fkey.json",
                 "/media/", "/media", "/nope.html", "/.hidden", "//etc/passwd",
                 "/../../ratings.json"):
        status, body, _ = _request(srv, "GET", path)
        assert status == 404, path
        assert b"eureka" not in body


def test_server_rejects_bad_saves(server):
    srv, page_dir, key_path, ratings = server
    pair = sorted(read_key(key_path))[0]
    for data, message in [({"rater": "a", "ratings": {"pair_00000000": 3}}, "not on the rating page"),
                          ({"rater": "a", "ratings": {pair: 0}}, "not an integer 1-5"),
                          ({"rater": "a", "ratings": {pair: 6}}, "not an integer 1-5"),
                          ({"rater": "a", "ratings": {pair: "4"}}, "not an integer 1-5"),
                          ({"rater": "a", "ratings": {}}, "no ratings"),
                          ({"rater": 3, "ratings": {pair: 3}}, "expected"),
                          ([pair], "expected"),
                          (b"{nope", "not JSON")]:
        status, answer = _post(srv, data)
        assert status == 400 and message in answer["error"], (data, answer)
    assert _request(srv, "POST", "/ratings", b"{}", {"Content-Length": str(MAX_BODY + 1)})[0] == 413
    assert _request(srv, "POST", "/elsewhere", b"{}")[0] == 404
    assert not ratings.exists()


def test_server_saves_and_merges(server):
    srv, _, key_path, ratings = server
    p1, p2 = sorted(read_key(key_path))[:2]
    assert _post(srv, {"rater": " ann ", "ratings": {p1: 2, p2: 5}}) == (200, {"saved": 2})
    assert _post(srv, {"ratings": {p1: 1}}) == (200, {"saved": 1})
    assert _post(srv, {"rater": "ann", "ratings": {p1: 4}}) == (200, {"saved": 1})
    assert sorted((e["rater"], e["pair"], e["rating"]) for e in json.loads(ratings.read_text())[
        "ratings"]) == sorted([("ann", p1, 4), ("ann", p2, 5), ("anonymous", p1, 1)])


def test_cli_rate_serves_until_interrupted(page, tmp_path):
    _, page_dir, _ = page
    # started with SIGINT ignored, as a script's background job (or a pytest-xdist worker's child)
    # inherits it: Ctrl-C must still stop the server
    proc = subprocess.Popen([sys.executable, "-m", "vidreward.cli", "rate", str(page_dir), "--ratings",
                             str(tmp_path / "r.json"), "--port", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        line = proc.stdout.readline()
        assert line.startswith("rating page: http://127.0.0.1:"), (line, proc.stderr.read())
        host, port = line.split()[2].split("/")[2].split(":")
        assert _request(None, "GET", "/index.html", address=(host, int(port)))[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
    # communicate drains both pipes while it waits (a full pipe would block the server's writes);
    # 60 s: the bound of a loaded 2-core CI machine, where the exit once took longer than 20 s
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
