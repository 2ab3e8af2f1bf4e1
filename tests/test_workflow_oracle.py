"""The oracle critic through Snakemake: the expert read from a suite clip's truth file, labelled
as the oracle in every artifact."""

import json

import pandas as pd
import pytest

from workflow_helpers import copy_repo, jobs_run, planned_outputs, snakemake

RUN = "oracle_tiny"
CLIP = "quad_hop_fixed_checkered"
CONFIG = f"""\
default_runs: [{RUN}]
clips:
  {CLIP}:
    source: {{file: data/motion_suite/{CLIP}.mp4}}
    start: 0.0
    end: 2.0
    fps: 10
    height: 64
    licence: "synthetic: rendered by vidreward.perception.suite"
    truth: data/motion_suite/{CLIP}.truth.json
runs:
  {RUN}:
    clip: {CLIP}
    robot: ant
    task: Move forward with repeated jumps like the animal in the clip.
    iterations: 2
    search: {{candidates: 2}}
    train: {{total_env_steps: 1024, num_envs: 32, horizon: 16, minibatch_size: 512, mini_epochs: 1, max_episode_steps: 100, units: [32, 32]}}
    rollout: {{seconds: 1, render_size: 64}}
    critic: {{backend: oracle}}
    rewriter: {{backend: analytic}}
"""


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    from vidreward.perception import suite

    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    suite.write_clip(CLIP, repo / "data" / "motion_suite", size=(96, 64), fps=10.0, seconds=2.0)
    config = repo.parent / "oracle.yaml"
    config.write_text(CONFIG)
    snakemake(repo, "--configfile", str(config))
    return repo, config


def test_every_artifact_says_it_is_the_oracle(oracle_run):
    repo, _ = oracle_run
    run = repo / "results" / RUN
    truth = json.loads((repo / f"data/motion_suite/{CLIP}.truth.json").read_text())["truth"]
    for i in range(2):
        critique = json.loads((run / f"iter_{i}" / "critique.json").read_text())
        assert critique["backend"] == "oracle"
        assert critique["descriptors"]["expert"]["speed"] == pytest.approx(truth["speed_bl_s"])
        md = (run / f"iter_{i}" / "critique.md").read_text()
        assert "oracle" in md.split("\n## ")[0].lower() and f"{CLIP}.truth.json" in md
        for k in range(2):
            assert json.loads((run / f"iter_{i}" / f"cand_{k}" / "score.json").read_text())["critic"] == "oracle"
        record = json.loads((run / f"iter_{i}" / "provenance.json").read_text())
        assert record["settings"]["critic"]["backend"] == "oracle"
    table = pd.read_csv(run / "summary.csv")
    assert set(table["critic"]) == {"oracle"}
    assert table["imitation_score"].between(0, 1).all()
    metrics = json.loads((run / "summary.json").read_text())
    assert metrics["best_imitation_score"] == pytest.approx(table["imitation_score"].max())


def test_an_edited_truth_file_rescores_without_retraining(oracle_run):
    """The truth file is an input of the oracle's scoring: editing it reruns every candidate's
    scoring and what follows from it, while the first iteration's training stays as it is."""
    repo, config = oracle_run
    truth_path = repo / f"data/motion_suite/{CLIP}.truth.json"
    original = truth_path.read_text()
    data = json.loads(original)
    data["truth"]["speed_bl_s"] = data["truth"]["speed_bl_s"] * 2 + 0.5
    truth_path.write_text(json.dumps(data, indent=2))
    try:
        proc = snakemake(repo, "--configfile", str(config), "-n")
    finally:
        truth_path.write_text(original)
    planned = planned_outputs(proc)
    outputs = [path for paths in planned.values() for path in paths]
    for k in range(2):
        assert f"results/{RUN}/iter_0/cand_{k}/score.json" in planned["score_candidate"]
        assert f"results/{RUN}/iter_0/cand_{k}/policy.pth" not in outputs
    assert f"results/{RUN}/iter_0/selection.json" in planned["select_candidate"]
    assert jobs_run(proc)["score_candidate"] >= 2
