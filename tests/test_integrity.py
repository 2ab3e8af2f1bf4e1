"""A failed or killed (re)run never destroys the artifacts of the run before it.

Unit: training and rendering write every output under a temporary name and move it into place
only when complete, so an exception at any point leaves the previous files byte-identical and no
partial or temporary file behind. Workflow (a 2-iteration run with a tiny budget): a forced rerun
of iter_1's training killed with SIGKILL keeps iter_1's policy, log and TensorBoard events; a
plain run then redoes the killed job (rerun-incomplete) and the run verifies; a deleted
trajectory.npz is rebuilt by a plain run; a corrupted reward file fails the rerun without losing
the checkpoint it would have replaced.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

from vidreward.fsutil import Staged, atomic_dir, atomic_file, leftovers  # noqa: E402
from vidreward.train import TrainConfig, rollout_policy, train_policy  # noqa: E402
from vidreward.fsutil import hash_path  # noqa: E402

from workflow_helpers import BIN, copy_repo, env, jobs_run, snakemake  # noqa: E402

REWARD_CODE = '''
import torch

def compute_reward(root_linvel: torch.Tensor, up_proj: torch.Tensor, actions: torch.Tensor,
                   dt: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    forward_velocity = root_linvel[:, 0]
    upright = up_proj.clamp(min=0.0)
    action_cost = -0.01 * (actions ** 2).sum(dim=-1)
    reward = forward_velocity + upright + action_cost
    return reward, {"forward_velocity": forward_velocity, "upright": upright,
                    "action_cost": action_cost}
'''
TRAIN_OUTPUTS = ("policy.pth", "train_log.csv", "tb")
ROLLOUT_OUTPUTS = ("trajectory.npz", "rollout.mp4")


class Boom(RuntimeError):
    pass


def hashes(d: Path, names) -> dict[str, str]:
    return {name: hash_path(d / name) for name in names}


def hidden(d: Path) -> list[str]:
    """Temporary names (hidden siblings) left in ``d``."""
    return sorted(p.name for p in d.iterdir() if p.name.startswith("."))


# ----------------------------------------------------------------------------- helpers
def test_atomic_file_and_dir_keep_the_old_version_on_error(tmp_path):
    f, d = tmp_path / "a.bin", tmp_path / "d"
    f.write_bytes(b"old")
    d.mkdir()
    (d / "x").write_text("old")
    with pytest.raises(Boom):
        with atomic_file(f) as tmp:
            tmp.write_bytes(b"half")
            raise Boom
    with pytest.raises(Boom):
        with atomic_dir(d) as tmp:
            (tmp / "y").write_text("half")
            raise Boom
    assert f.read_bytes() == b"old" and sorted(p.name for p in d.iterdir()) == ["x"]
    assert hidden(tmp_path) == []

    with atomic_file(f) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".bin"
        tmp.write_bytes(b"new")
    with atomic_dir(d) as tmp:
        (tmp / "y").write_text("new")
    assert f.read_bytes() == b"new" and sorted(p.name for p in d.iterdir()) == ["y"]
    umask = os.umask(0)
    os.umask(umask)
    assert hidden(tmp_path) == [] and f.stat().st_mode & 0o777 == 0o666 & ~umask


def test_staged_outputs_publish_together_and_a_killed_writers_leftovers_go(tmp_path):
    a, d = tmp_path / "a.csv", tmp_path / "tb"
    # what a SIGKILLed writer leaves: temporaries nobody cleaned up
    (tmp_path / ".a.csv.0123abcd.tmp.csv").write_text("partial")
    (tmp_path / ".tb.0123abcd.tmp").mkdir()
    (tmp_path / "unrelated.txt").write_text("keep")
    assert len(leftovers(a)) == 1 and len(leftovers(d)) == 1
    with Staged() as staged:
        ta, td = staged.file(a), staged.dir(d)
        assert hidden(tmp_path) == [td.name]  # the killed writer's leftovers are gone
        ta.write_text("new")
        (td / "ev").write_text("new")
        staged.commit()
    assert a.read_text() == "new" and (d / "ev").read_text() == "new"
    assert hidden(tmp_path) == [] and (tmp_path / "unrelated.txt").exists()
    # a staged output that was never written: nothing is published
    with pytest.raises(FileNotFoundError), Staged() as staged:
        staged.file(a)
        (staged.dir(d) / "ev").write_text("newer")
        staged.commit()
    assert (d / "ev").read_text() == "new" and hidden(tmp_path) == []


# ----------------------------------------------------------------------------- training
def tiny_cfg(**over) -> TrainConfig:
    base = dict(total_env_steps=512, num_envs=16, horizon=16, minibatch_size=128, mini_epochs=1,
                units=[16, 16], max_episode_steps=24, seed=3, progress=False, torch_threads=1,
                update_threads=1)
    base.update(over)
    return TrainConfig.from_dict(base)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    reward = tmp_path_factory.mktemp("reward") / "reward.py"
    reward.write_text(REWARD_CODE)
    out = tmp_path_factory.mktemp("train")
    result = train_policy(reward, "ant", tiny_cfg(), out)
    rollout_policy(result.policy_path, reward, "ant", out, steps=8, seed=0, render_size=32)
    return reward, out


def test_training_that_fails_midway_leaves_the_previous_outputs(trained, monkeypatch):
    from vidreward.train import monitor

    reward, out = trained
    before = hashes(out, TRAIN_OUTPUTS)
    original = monitor.TrainMonitor.after_print_stats

    def fail_at_epoch_2(self, frame, epoch_num, total_time):
        original(self, frame, epoch_num, total_time)  # epoch 1 row and events are written
        if epoch_num >= 2:
            assert self.log_path.exists() and self.log_path.name != "train_log.csv"
            raise Boom("killed mid-training")

    monkeypatch.setattr(monitor.TrainMonitor, "after_print_stats", fail_at_epoch_2)
    with pytest.raises(Boom):
        train_policy(reward, "ant", tiny_cfg(seed=4, total_env_steps=1024), out)
    assert hashes(out, TRAIN_OUTPUTS) == before
    assert hidden(out) == []


def test_training_that_fails_writing_the_checkpoint_leaves_the_previous_outputs(trained,
                                                                                monkeypatch):
    from vidreward.train import ppo

    reward, out = trained
    before = hashes(out, TRAIN_OUTPUTS)
    original = ppo.torch.save

    def half_save(obj, path, *args, **kwargs):
        if not Path(path).name.startswith(".policy.pth."):  # rl-games' own checkpoint in rl_games/
            return original(obj, path, *args, **kwargs)
        Path(path).write_bytes(b"PK\x03\x04 half a checkpoint")
        raise Boom("disk full")

    monkeypatch.setattr(ppo.torch, "save", half_save)
    with pytest.raises(Boom):
        train_policy(reward, "ant", tiny_cfg(seed=5), out)
    assert hashes(out, TRAIN_OUTPUTS) == before
    assert hidden(out) == []


def test_retraining_replaces_every_output(trained, tmp_path):
    reward, out = trained
    work = tmp_path / "iter"
    for name in TRAIN_OUTPUTS:
        src = out / name
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, work / name)
        else:
            (work / name).write_bytes(src.read_bytes())
    before = hashes(work, TRAIN_OUTPUTS)
    old_events = sorted(p.name for p in (work / "tb").iterdir())
    train_policy(reward, "ant", tiny_cfg(seed=6), work)
    after = hashes(work, TRAIN_OUTPUTS)
    assert all(after[k] != before[k] for k in TRAIN_OUTPUTS)
    events = sorted(p.name for p in (work / "tb").iterdir())
    assert len(events) == 1 and events != old_events  # the old tb/ was swapped out, not merged
    assert hidden(work) == []


# ----------------------------------------------------------------------------- rendering
@pytest.mark.parametrize("where", ["render", "save"])
def test_rollout_that_fails_leaves_the_previous_outputs(trained, monkeypatch, where):
    import numpy as np

    import vidreward.sim.render as render

    reward, out = trained
    before = hashes(out, ROLLOUT_OUTPUTS)

    def half_write(*args, **kwargs):
        path = args[2] if where == "render" else args[0]
        Path(path).write_bytes(b"\x00\x00\x00\x18ftypmp42 half")
        raise Boom(f"killed in {where}")

    if where == "render":
        monkeypatch.setattr(render, "render_video", half_write)
    else:
        monkeypatch.setattr(np, "savez", half_write)
    with pytest.raises(Boom):
        rollout_policy(out / "policy.pth", reward, "ant", out, steps=6, seed=1, render_size=32)
    assert hashes(out, ROLLOUT_OUTPUTS) == before
    assert hidden(out) == []


# ----------------------------------------------------------------------------- workflow
RUN = "tiny"
CONFIG = f"""\
default_runs: [{RUN}]
clips:
  jumps_1s:
    source: {{shipped: cmu_01_01_forward_jumps.mp4}}
    start: 0.0
    end: 1.0
    fps: 10
    height: 96
    licence: "CMU Graphics Lab Motion Capture Database: free for research and commercial use"
runs:
  {RUN}:
    clip: jumps_1s
    robot: ant
    task: Move forward with repeated jumps like the person in the clip.
    iterations: 2
    seed: 0
    train:
      total_env_steps: 4096
      num_envs: 32
      horizon: 16
      minibatch_size: 512
      mini_epochs: 1
      max_episode_steps: 100
      units: [32, 32]
    rollout:
      seconds: 1
      render_size: 64
    critic: {{backend: analytic}}
    rewriter: {{backend: analytic}}
"""


def verify(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/verify_run.py", f"results/{RUN}", "--quiet"],
                          cwd=repo, capture_output=True, text=True, env=env())


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    config = repo.parent / "tiny.yaml"
    config.write_text(CONFIG)
    snakemake(repo, "--configfile", str(config))
    check = verify(repo)
    assert check.returncode == 0, check.stdout + check.stderr
    return repo, config


def test_killed_forced_retraining_keeps_the_policy_and_a_plain_run_redoes_it(finished_run):
    repo, config = finished_run
    it = repo / "results" / RUN / "iter_1" / "cand_0"
    before = hashes(it, TRAIN_OUTPUTS)
    log = open(repo.parent / "killed.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "snakemake"), "--cores", "2", "--configfile", str(config),
         "-R", f"results/{RUN}/iter_1/cand_0/policy.pth"],
        cwd=repo, stdout=log, stderr=subprocess.STDOUT, env=env(), start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        # mid-training: the first epoch's rows are in the temporary train log
        while not leftovers(it / "train_log.csv"):
            assert proc.poll() is None, (repo.parent / "killed.log").read_text()
            assert time.monotonic() < deadline, "training of iter_1 never started"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    while True:  # every process of the group (Snakemake and its job) is gone
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)

    assert hashes(it, TRAIN_OUTPUTS) == before
    assert verify(repo).returncode == 0  # the run still describes what is on disk

    # a killed Snakemake leaves its lock; --unlock is the documented remedy
    snakemake(repo, "--configfile", str(config), "--unlock")
    counts = jobs_run(snakemake(repo, "--configfile", str(config)))
    assert counts.get("train_candidate") == 1, counts  # the killed job is redone (rerun-incomplete)
    assert leftovers(it / "train_log.csv") == [] and leftovers(it / "tb") == []
    check = verify(repo)
    assert check.returncode == 0, check.stdout + check.stderr
    assert jobs_run(snakemake(repo, "--configfile", str(config))) == {}


def test_a_deleted_trajectory_is_rebuilt_by_a_plain_run(finished_run):
    repo, config = finished_run
    traj = repo / "results" / RUN / "iter_1" / "cand_0" / "trajectory.npz"
    traj.unlink()
    counts = jobs_run(snakemake(repo, "--configfile", str(config)))
    assert counts.get("render_candidate") == 1 and "train_candidate" not in counts, counts
    assert traj.stat().st_size > 0
    check = verify(repo)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_corrupt_reward_fails_the_rerun_and_keeps_the_checkpoint(finished_run):
    repo, config = finished_run
    it = repo / "results" / RUN / "iter_1" / "cand_0"
    before = hashes(it, TRAIN_OUTPUTS + ROLLOUT_OUTPUTS)
    reward = it / "reward.py"
    reward.write_text(reward.read_text() + "\nthis is not python(\n")
    proc = snakemake(repo, "--configfile", str(config), check=False)
    assert proc.returncode != 0
    assert "results/tiny/iter_1/cand_0/reward.py" in proc.stdout + proc.stderr
    assert hashes(it, TRAIN_OUTPUTS + ROLLOUT_OUTPUTS) == before
    assert hidden(it) == []
