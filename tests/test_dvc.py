"""DVC around the workflow: `dvc repro`, metrics, experiments params, push/pull through a local
remote and run verification, including a tampered artifact."""

import json
import shutil
import subprocess

import pytest

from workflow_helpers import BIN, copy_repo, env

TINY_PARAMS = """run: ant_cmu_jumps
iterations: 2
seed: 0
train: {total_env_steps: 4096, num_envs: 32, horizon: 32, minibatch_size: 512, mini_epochs: 1,
        max_episode_steps: 100}
rollout: {seconds: 2, render_size: 64}
search: {candidates: 2}
critic: {backend: analytic}
rewriter: {backend: analytic}
"""
RUN = "results/ant_cmu_jumps"


def dvc(repo, *args, check=True):
    proc = subprocess.run(
        [str(BIN / "dvc"), *args], cwd=repo, capture_output=True, text=True, env=env(), timeout=900
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def verify(repo, *args):
    return subprocess.run(
        [str(BIN / "python"), "scripts/verify_run.py", RUN, *args],
        cwd=repo, capture_output=True, text=True, env=env(), timeout=300,
    )


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    (repo / "params.yaml").write_text(TINY_PARAMS)
    remote = tmp_path_factory.mktemp("remote")
    dvc(repo, "remote", "modify", "--local", "local", "url", str(remote))
    dvc(repo, "repro")
    return repo, remote


def test_repro_runs_the_workflow_and_exposes_metrics(reproduced):
    repo, _ = reproduced
    assert (repo / RUN / "iter_1" / "policy.pth").exists()
    lock = (repo / "dvc.lock").read_text()
    assert "results" in lock and "iterations: 2" in lock  # params recorded
    shown = dvc(repo, "metrics", "show", "--json").stdout
    metrics = json.loads(shown)
    values = json.dumps(metrics)
    assert "initial_gap" in values and "final_gap" in values
    again = dvc(repo, "repro")
    assert "didn't change" in again.stdout or "up to date" in again.stdout


def test_push_pull_round_trip_verifies_and_tampering_is_named(reproduced):
    repo, remote = reproduced
    dvc(repo, "push")
    assert any(remote.rglob("*")), "remote received the cache"
    ok = verify(repo)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "results")
    shutil.rmtree(repo / "data" / "clips")
    dvc(repo, "pull")
    assert (repo / RUN / "iter_1" / "reward.py").exists()
    pulled = verify(repo)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    target = repo / RUN / "iter_1" / "reward.py"
    target.write_text(target.read_text() + "\n# edited after the run\n")
    tampered = verify(repo)
    assert tampered.returncode == 1
    assert "iter_1/reward.py" in tampered.stdout


def test_experiment_with_a_changed_param_and_diffs(reproduced):
    repo, _ = reproduced
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "checkout", "--", "."], cwd=repo, check=False)
    (repo / "params.yaml").write_text(TINY_PARAMS)  # the baseline is the tiny run, not the default
    dvc(repo, "checkout", "--force")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "baseline run"], cwd=repo, check=True)
    dvc(repo, "exp", "run", "-S", "iterations=1", "--name", "one-iteration")
    summary = json.loads((repo / RUN / "summary.json").read_text())
    assert summary["iterations"] == 1
    diff = dvc(repo, "metrics", "diff", "HEAD", "--json").stdout
    changed = json.loads(diff)
    assert any("iterations" in json.dumps(v) for v in changed.values()), diff
    shown = dvc(repo, "exp", "show", "--json").stdout
    assert "one-iteration" in shown
    plots = dvc(repo, "plots", "diff", "HEAD", "-o", "plots_out")
    assert (repo / "plots_out" / "index.html").exists(), plots.stdout
