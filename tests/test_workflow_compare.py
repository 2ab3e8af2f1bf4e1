"""A task x method x seed matrix through Snakemake: the comparison table with intervals, its
figures, the blind rating page, people's ratings aggregated into the table, and a new seed that
reruns only what is new. Its ``human_vlm`` runs are the oracle critic offline: every artifact says
so, and an edited truth file rescores them without retraining."""

from __future__ import annotations

import json
import math
import os

import pandas as pd
import pytest
import yaml

from workflow_helpers import copy_repo, jobs_run, planned_outputs, snakemake

NAME = "tiny"
METHODS = ["eureka_gt", "human_vlm"]
MATRIX = {
    "matrix": {
        "name": NAME, "mode": "offline", "tasks": ["spider_jumping"], "methods": METHODS, "seeds": [0, 1],
        "run": {"iterations": 2,
                "train": {"total_env_steps": 1024, "num_envs": 32, "horizon": 16, "minibatch_size": 512,
                          "mini_epochs": 1, "max_episode_steps": 100, "units": [32, 32]},
                "rollout": {"seconds": 1, "render_size": 64}},
    },
    "clips": {"suite_quad_pronk_tracking_cluttered": {"end": 2.0, "fps": 10, "height": 64}},
}
OUT = f"results/comparison/{NAME}"


def _config_args(repo, matrix: dict) -> tuple[str, ...]:
    path = repo.parent / "matrix.yaml"
    path.write_text(yaml.safe_dump(matrix))
    return ("--configfile", "config/tasks.yaml", str(path))


@pytest.fixture(scope="module")
def matrix_run(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    snakemake(repo, *_config_args(repo, MATRIX))
    return repo


def test_the_table_has_every_method_with_an_interval_over_seeds(matrix_run):
    repo = matrix_run
    table = pd.read_csv(repo / OUT / "table.csv").set_index("method")
    assert list(table.index) == METHODS and set(table["task"]) == {"spider_jumping"}
    scores = pd.read_csv(repo / OUT / "scores.csv")
    for method in METHODS:
        row = table.loc[method]
        assert row["seeds"] == 2 and row["imitation_source"] == "truth"
        finals = scores[(scores["method"] == method) & scores["final"]]["imitation_score"]
        assert row["imitation_mean"] == pytest.approx(finals.mean())
        assert row["imitation_ci_low"] <= row["imitation_mean"] <= row["imitation_ci_high"]
        assert 0 < row["imitation_mean"] <= 1 and row["n_ratings"] == 0
        for seed in (0, 1):
            summary = pd.read_csv(repo / f"results/spider_jumping-{method}-s{seed}/summary.csv")
            assert summary["imitation_score"].notna().all()
    md = (repo / OUT / "table.md").read_text()
    assert "| spider_jumping | human_vlm |" in md and "Offline stand-in: oracle critic" in md
    for png in ("scores.png", "curves.png"):
        assert (repo / OUT / png).read_bytes()[:4] == b"\x89PNG"
    # eureka_gt saw no video measurement: its critiques are the training statistics' alone
    critique = json.loads((repo / "results/spider_jumping-eureka_gt-s0/iter_0/critique.json").read_text())
    assert critique["backend"] == "statistics" and critique["gap"] is None and not critique["descriptors"]


def test_the_rating_page_hides_the_methods_and_ratings_reach_the_table(matrix_run):
    repo = matrix_run
    page = repo / OUT / "rating"
    key = json.loads((repo / OUT / "rating_key.json").read_text())["pairs"]
    assert len(key) == 4 and (page / "index.html").is_file()
    for path in page.rglob("*"):
        text = path.name + (path.read_text(errors="ignore") if path.suffix in (".html", ".json") else "")
        assert not any(m in text for m in METHODS), path
    ratings = [{"pair": pair, "rating": 5 if info["method"] == "human_vlm" else 2, "rater": "ann"}
               for pair, info in key.items()]
    ratings += [{"pair": pair, "rating": 3, "rater": "bo"} for pair, info in key.items()
                if info["method"] == "human_vlm"]
    (repo / "ratings").mkdir(exist_ok=True)
    (repo / "ratings" / f"{NAME}.json").write_text(json.dumps({"ratings": ratings}))
    counts = jobs_run(snakemake(repo, *_config_args(repo, MATRIX)))
    counts.pop("all", None)
    assert counts == {"aggregate_ratings": 1, "compare": 1}
    table = pd.read_csv(repo / OUT / "table.csv").set_index("method")
    assert table.loc["human_vlm", "n_ratings"] == 4 and table.loc["human_vlm", "rating_mean"] == pytest.approx(4.0)
    assert table.loc["eureka_gt", "rating_mean"] == pytest.approx(2.0)
    assert math.isfinite(table.loc["human_vlm", "rating_ci_high"])
    assert "4.00 [" in (repo / OUT / "table.md").read_text()


def test_a_new_seed_reruns_only_its_runs_and_the_comparison(matrix_run):
    repo = matrix_run
    wider = json.loads(json.dumps(MATRIX))
    wider["matrix"]["seeds"] = [0, 1, 2]
    planned = planned_outputs(snakemake(repo, *_config_args(repo, wider), "-n"))
    outputs = [path for paths in planned.values() for path in paths]
    runs = {p.split("/")[1] for p in outputs if p.startswith("results/") and "/comparison/" not in p}
    assert runs == {f"spider_jumping-{m}-s2" for m in METHODS}
    assert {"compare", "rating_page", "aggregate_ratings"} <= set(planned)
    assert not any(r in planned for r in ("fetch_clip", "trim_clip", "suite_clip"))


def test_human_vlm_offline_is_the_oracle_in_every_artifact(matrix_run):
    repo = matrix_run
    clip = "quad_pronk_tracking_cluttered"
    truth = json.loads((repo / f"data/motion_suite/{clip}.truth.json").read_text())["truth"]
    for seed in (0, 1):
        run = repo / f"results/spider_jumping-human_vlm-s{seed}"
        for i in range(2):
            critique = json.loads((run / f"iter_{i}" / "critique.json").read_text())
            assert critique["backend"] == "oracle"
            assert critique["descriptors"]["expert"]["speed"] == pytest.approx(truth["speed_bl_s"])
            md = (run / f"iter_{i}" / "critique.md").read_text()
            assert "oracle" in md.split("\n## ")[0].lower() and f"{clip}.truth.json" in md
            score = json.loads((run / f"iter_{i}" / "cand_0" / "score.json").read_text())
            assert score["critic"] == "oracle" and score["imitation_source"] == "truth"
            record = json.loads((run / f"iter_{i}" / "provenance.json").read_text())
            assert record["settings"]["critic"]["backend"] == "oracle"
        table = pd.read_csv(run / "summary.csv")
        assert set(table["critic"]) == {"oracle"} and table["imitation_score"].between(0, 1).all()
        metrics = json.loads((run / "summary.json").read_text())
        assert metrics["best_imitation_score"] == pytest.approx(table["imitation_score"].max())


def test_an_edited_truth_file_rescores_without_retraining(matrix_run):
    """The truth file is an input of every candidate's scoring (the oracle's, and the imitation
    score of every method): editing it reruns the scoring and what follows from it, not the first
    iteration's training."""
    repo = matrix_run
    truth_path = repo / "data/motion_suite/quad_pronk_tracking_cluttered.truth.json"
    original, stat = truth_path.read_text(), truth_path.stat()
    data = json.loads(original)
    data["truth"]["speed_bl_s"] = data["truth"]["speed_bl_s"] * 2 + 0.5
    truth_path.write_text(json.dumps(data, indent=2))
    try:
        proc = snakemake(repo, *_config_args(repo, MATRIX), "-n")
    finally:
        truth_path.write_text(original)
        os.utime(truth_path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    planned = planned_outputs(proc)
    outputs = [path for paths in planned.values() for path in paths]
    for method in METHODS:
        run = f"results/spider_jumping-{method}-s0"
        assert f"{run}/iter_0/cand_0/score.json" in planned["score_candidate"]
        assert f"{run}/iter_0/cand_0/policy.pth" not in outputs
        assert f"{run}/iter_0/selection.json" in planned["select_candidate"]
