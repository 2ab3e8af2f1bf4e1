"""End to end: the quick config through Snakemake, a no-op rerun and a single-iteration rerun."""

import json

import numpy as np
import pandas as pd
import pytest

from vidreward.critic.base import Critique
from vidreward.reward.terms import read_terms
from vidreward.sim import get_robot
from vidreward.fsutil import hash_path

from workflow_helpers import copy_repo, jobs_run, snakemake

RUN = "ant_quick"
ITERATIONS = 3
CONTRACT = {
    "dt": (), "robot": (), "t": ("T",), "root_pos": ("T", 3), "root_quat": ("T", 4),
    "root_linvel": ("T", 3), "root_angvel": ("T", 3), "dof_pos": ("T", "D"),
    "dof_vel": ("T", "D"), "actions": ("T", "A"), "foot_contact_forces": ("T", "F"),
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    proc = snakemake(repo, "--configfile", "config/quick.yaml")
    return repo, proc


def test_quick_run_produces_every_artifact(quick_run):
    repo, proc = quick_run
    counts = jobs_run(proc)
    assert counts["train_candidate"] == ITERATIONS and counts["rewrite_rewards"] == ITERATIONS - 1
    run_dir = repo / "results" / RUN
    for i in range(ITERATIONS):
        d = run_dir / f"iter_{i}"
        for name in ("proposals.json", "reward.py", "reward_validation.json", "policy.pth",
                     "train_log.csv", "rollout.mp4", "trajectory.npz", "selection.json",
                     "critique.json", "critique.md", "provenance.json"):
            assert (d / name).stat().st_size > 0, d / name
        for name in ("reward.py", "policy.pth", "rollout.mp4", "trajectory.npz", "score.json",
                     "critique.json"):
            assert (d / "cand_0" / name).stat().st_size > 0, d / "cand_0" / name
        assert any((d / "cand_0" / "tb").rglob("events.out.tfevents.*"))
    sidecar = json.loads((repo / "data/clips/cmu_jumps_short.json").read_text())
    assert sidecar["fps"] == 15 and sidecar["sha256"] == hash_path(repo / "data/clips/cmu_jumps_short.mp4")


def test_trajectory_follows_the_contract(quick_run):
    repo, _ = quick_run
    robot = get_robot("ant")
    dims = {"D": robot.num_dofs, "A": robot.action_dim, "F": robot.num_feet}
    data = np.load(repo / "results" / RUN / "iter_0" / "trajectory.npz")
    T = data["t"].shape[0]
    assert T > 1
    for key, shape in CONTRACT.items():
        expected = tuple(T if s == "T" else dims.get(s, s) for s in shape)
        assert data[key].shape == expected, key
    assert str(data["robot"]) == "ant" and float(data["dt"]) == pytest.approx(robot.dt)
    components = [k for k in data.files if k.startswith("reward_")]
    assert components and all(data[k].shape == (T,) for k in components)
    log = pd.read_csv(repo / "results" / RUN / "iter_0" / "train_log.csv")
    assert {f"reward/{k.removeprefix('reward_')}" for k in components} <= set(log.columns)


def test_reward_changes_the_way_the_critique_asked(quick_run):
    """The candidate that applies the critique as asked carries every edit of the previous
    iteration's critique, made to the previous iteration's selected reward."""
    repo, _ = quick_run
    run_dir = repo / "results" / RUN
    checked = 0
    for i in range(1, ITERATIONS):
        critique = Critique.load(run_dir / f"iter_{i - 1}" / "critique.json")
        before = read_terms((run_dir / f"iter_{i - 1}" / "reward.py").read_text())
        proposals = json.loads((run_dir / f"iter_{i}" / "proposals.json").read_text())
        as_asked = [c for c in proposals["candidates"] if c["label"] == "as asked"]
        edits = critique.rewrite + critique.new + critique.remove
        if not as_asked or not edits:
            continue
        after = read_terms(as_asked[0]["code"])
        assert after != before
        for item in critique.remove:
            assert item.component not in after
        for item in critique.rewrite + critique.new:
            assert item.component in after
            for key, value in item.params.items():
                assert after[item.component][key] == pytest.approx(value), (item.component, key)
        checked += 1
    assert checked >= 1


def test_best_gap_never_rises_and_the_critique_shows_the_search(quick_run):
    repo, _ = quick_run
    run_dir = repo / "results" / RUN
    table = pd.read_csv(run_dir / "summary.csv")
    gaps = list(table["gap"])
    assert all(b <= a + 1e-12 for a, b in zip(gaps, gaps[1:])), gaps
    for i in range(ITERATIONS):
        selection = json.loads((run_dir / f"iter_{i}" / "selection.json").read_text())
        assert table["gap"].iloc[i] == pytest.approx(selection["best_value"])
        assert len(selection["history"]) == i + 1  # one candidate per iteration so far
        md = (run_dir / f"iter_{i}" / "critique.md").read_text()
        assert "## Search: the candidates of this iteration" in md and selection["why"] in md


def test_summary_has_a_row_per_iteration_and_metrics(quick_run):
    repo, _ = quick_run
    table = pd.read_csv(repo / "results" / RUN / "summary.csv")
    assert list(table["iteration"]) == list(range(ITERATIONS))
    assert table["gap"].notna().all()
    metrics = json.loads((repo / "results" / RUN / "summary.json").read_text())
    assert metrics["iterations"] == ITERATIONS
    assert metrics["initial_gap"] == pytest.approx(table["gap"].iloc[0])


def test_provenance_hashes_match_the_artifacts(quick_run):
    repo, _ = quick_run
    record = json.loads((repo / "results" / RUN / "iter_1" / "provenance.json").read_text())
    assert record["git"]["commit"] and len(record["git"]["commit"]) == 40
    assert record["settings"]["seed"] == 0 and record["packages"]["torch"].startswith("2.13")
    assert "cand_0/train_policy" in record["wall_time_s"]
    assert "results/ant_quick/iter_1/cand_0/policy.pth" in record["outputs"]
    assert "results/ant_quick/iter_0/policy.pth" in record["inputs"]  # warm start
    for path, digest in record["outputs"].items():
        assert hash_path(repo / path) == digest, path


def test_second_run_does_nothing(quick_run):
    repo, _ = quick_run
    proc = snakemake(repo, "--configfile", "config/quick.yaml")
    assert jobs_run(proc) == {}


def test_forcing_one_iteration_reruns_only_downstream(quick_run):
    repo, _ = quick_run
    iter0_reward = (repo / "results" / RUN / "iter_0" / "reward.py").stat().st_mtime_ns
    proc = snakemake(
        repo, "--configfile", "config/quick.yaml", "-R", f"results/{RUN}/iter_1/cand_0/policy.pth"
    )
    counts = jobs_run(proc)
    assert counts.get("train_candidate") == ITERATIONS - 1
    assert counts.get("rewrite_rewards") == ITERATIONS - 2
    for rule in ("fetch_clip", "trim_clip", "initial_rewards"):
        assert rule not in counts
    assert (repo / "results" / RUN / "iter_0" / "reward.py").stat().st_mtime_ns == iter0_reward
    assert jobs_run(snakemake(repo, "--configfile", "config/quick.yaml")) == {}


def test_bad_config_key_fails_naming_it(quick_run):
    repo, _ = quick_run
    proc = snakemake(repo, "-n", "--config", "colour=red", check=False)
    assert proc.returncode != 0
    assert "'colour'" in proc.stdout + proc.stderr


def test_missing_clip_file_fails_naming_it(tmp_path, quick_run):
    repo, _ = quick_run
    config = tmp_path / "missing.yaml"
    config.write_text(
        "default_runs: [r]\n"
        "clips:\n  gone: {source: {file: /nonexistent/clip.mp4}, start: 0, end: 2}\n"
        "runs:\n  r: {clip: gone, robot: ant, task: walk, iterations: 1}\n"
    )
    proc = snakemake(repo, "--configfile", str(config), check=False)
    assert proc.returncode != 0
    assert "/nonexistent/clip.mp4" in proc.stdout + proc.stderr


@pytest.mark.parametrize("robot", ["humanoid", "anymal"])
def test_quick_config_of_each_other_robot_runs(robot, tmp_path):
    repo = copy_repo(tmp_path / "repo")
    snakemake(repo, "--configfile", f"config/quick_{robot}.yaml")
    run_dir = repo / "results" / f"{robot}_quick"
    table = pd.read_csv(run_dir / "summary.csv")
    assert list(table["iteration"]) == [0, 1] and table["gap"].notna().all()
    data = np.load(run_dir / "iter_1" / "trajectory.npz")
    spec = get_robot(robot)
    assert str(data["robot"]) == robot and data["dof_pos"].shape[1] == spec.num_dofs
    assert data["foot_contact_forces"].shape[1] == spec.num_feet
    assert (run_dir / "iter_1" / "rollout.mp4").stat().st_size > 0


def test_review_page_of_the_quick_run_plays_in_chromium(quick_run, tmp_path):
    """A reviewer opens iteration 1's page of the finished quick run: both videos play."""
    from conftest_helpers.cdp import Browser, find_browser

    executable = find_browser()
    if executable is None:
        pytest.skip("Chromium not installed: run tools/install_browser.sh")
    from test_report_browser import _assert_videos_play

    repo, _ = quick_run
    page = repo / "results" / RUN / "report" / "iter_1" / "index.html"
    with Browser(executable, tmp_path / "profile") as browser:
        browser.navigate(page.as_uri())
        _assert_videos_play(browser, ["expert.mp4", "rollout.mp4", "cand_0.mp4"])
        text = browser.evaluate("document.body.innerText")
        assert "Rewrite component" in text and "TERMS" in text  # critique and reward code shown
        assert "Candidates of this iteration" in text and "cand_0" in text
        shot = browser.screenshot(tmp_path / "quick_run_iter_1.png")
    assert shot.stat().st_size > 10_000


def test_snakemake_reports_hold_every_iteration_page(quick_run, tmp_path):
    """`--report report.zip` and `--report report.html` both hold the overview and every iteration's
    page; in the single-file report each page, shown the way the report shows it (an iframe whose
    src is the page's data: URI), plays both of its videos in Chromium."""
    import base64
    import re
    import zipfile

    from conftest_helpers.cdp import Browser, find_browser

    repo, _ = quick_run
    for name in ("report.zip", "report.html"):
        snakemake(repo, "--configfile", "config/quick.yaml", "--report", str(tmp_path / name))

    with zipfile.ZipFile(tmp_path / "report.zip") as zf:
        zf.extractall(tmp_path / "unzipped")
        names = zf.namelist()
    assert "report/report.html" in names
    zipped_pages = [p for p in names if p.endswith("/index.html")]
    assert len(zipped_pages) == ITERATIONS + 1  # every iteration + the overview

    html = (tmp_path / "report.html").read_text()
    uris = re.findall(r'"data_uri": "(data:text/html;[^"]+)"', html)
    pages = [base64.b64decode(u.split("base64,", 1)[1]).decode() for u in uris]
    iteration_uris = [u for u, p in zip(uris, pages) if 'id="rollout-video"' in p]
    assert len(iteration_uris) == ITERATIONS
    assert sum("all iterations" in p for p in pages) == 1
    assert all(len(u) < 2 * 1024 * 1024 for u in uris), [len(u) for u in uris]  # Chromium's limit

    executable = find_browser()
    if executable is None:
        pytest.skip("Chromium not installed: run tools/install_browser.sh")
    from test_report_browser import _assert_videos_play

    outer = tmp_path / "as_in_report.html"
    outer.write_text(f'<iframe width="1300" height="900" src="{iteration_uris[-1]}"></iframe>')
    with Browser(executable, tmp_path / "profile") as browser:
        browser.navigate(outer.as_uri())
        frames = browser.child_frames()
        assert len(frames) == 1 and frames[0]["url"].startswith("data:text/html"), frames
        frame = browser.frame(frames[0]["id"])
        _assert_videos_play(frame, ["expert.mp4", "rollout.mp4", "cand_0.mp4"])
        assert "Rewrite component" in frame.evaluate("document.body.innerText")
        zipped_iteration = next(tmp_path / "unzipped" / p for p in zipped_pages
                                if 'id="rollout-video"' in (tmp_path / "unzipped" / p).read_text())
        browser.navigate(zipped_iteration.as_uri())
        _assert_videos_play(browser, ["expert.mp4", "rollout.mp4", "cand_0.mp4"])


def test_rollout_is_filmed_like_the_expert_clip(quick_run):
    """The shipped clip was filmed from a still camera: the extractor says so, and the rollout is
    rendered from a fixed camera too (the floor stays still while the robot moves)."""
    import cv2
    import numpy as np

    from vidreward.perception.camera import estimate_camera_motion
    from vidreward.video.io import read_video

    repo, _ = quick_run
    evidence = json.loads((repo / "data/clips/evidence/cmu_jumps_short.json").read_text())
    assert evidence["quantities"]["camera_motion"]["value"] == "fixed"
    log = (repo / "results" / RUN / "logs" / "iter_0" / "cand_0" / "render_rollout.log").read_text()
    assert "rollout camera fixed" in log
    frames, _ = read_video(repo / "results" / RUN / "iter_0" / "rollout.mp4")
    grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    cam = estimate_camera_motion(grey)
    assert float(np.abs(cam.to_reference[0][:2, 2] - cam.to_reference[-1][:2, 2]).max()) < 1.0


def test_robustness_replays_each_selection_from_other_reset_seeds(quick_run):
    """The opt-in robustness rule runs alone (nothing of the run is redone), replays every
    iteration's selected policy from the run's rollout seed and the next ones, and the first
    episode reproduces the iteration's own critique, which was measured on that rollout."""
    repo, _ = quick_run
    episodes = 3
    target = f"results/{RUN}/robustness/summary.json"
    proc = snakemake(repo, target, "--configfile", "config/quick.yaml", "--config",
                     f"robustness_episodes={episodes}")
    assert jobs_run(proc) == {"robustness": 1}
    out = repo / "results" / RUN / "robustness"
    table = pd.read_csv(out / "episodes.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert len(table) == ITERATIONS * episodes and summary["episodes"] == episodes
    seed = 0  # config/quick.yaml's run seed
    for i in range(ITERATIONS):
        starts = []
        part = table[table["iteration"] == i].sort_values("seed")
        assert list(part["seed"]) == list(range(seed, seed + episodes))
        own = Critique.load(repo / "results" / RUN / f"iter_{i}" / "critique.json")
        assert part["gap"].iloc[0] == pytest.approx(own.gap, abs=1e-9)
        assert summary["iterations"][str(i)]["run_gap"] == pytest.approx(own.gap)
        assert summary["iterations"][str(i)]["median_gap"] == pytest.approx(part["gap"].median())
        assert summary["iterations"][str(i)]["worst_gap"] == pytest.approx(part["gap"].max())
        for s in part["seed"]:
            episode = out / "episodes" / f"iter_{i}" / f"seed_{s}"
            assert (episode / "rollout.mp4").stat().st_size > 0
            assert Critique.load(episode / "critique.json").gap == pytest.approx(
                float(part.loc[part["seed"] == s, "gap"].iloc[0]))
            traj = np.load(episode / "trajectory.npz")
            starts.append(traj["root_pos"][0])
            fell = bool(part.loc[part["seed"] == s, "fell"].iloc[0])
            full = round(3 / get_robot("ant").dt)  # config/quick.yaml: 3 s rollouts
            assert (len(traj["t"]) < full) == fell
        # other seeds start the robot from other reset states
        assert len({tuple(np.round(p, 6)) for p in starts}) == episodes
    assert jobs_run(snakemake(repo, target, "--configfile", "config/quick.yaml", "--config",
                              f"robustness_episodes={episodes}")) == {}
