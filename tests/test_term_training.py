"""New reward terms move the motion they name: a tiny PPO run (Ant, fixed seeds) with the term plus
``upright``/``alive``/``action_cost`` against the same run without it, and the descriptor the term
targets measured on deterministic rollouts (``trajectory.npz`` of
:func:`vidreward.train.rollout_policy`, two seeds, after the drop that follows each reset).

The budget (about 60k env steps per run, three runs, under a minute on the idle 2-core machine) was
chosen by measurement; a term is asked to move its descriptor the right way by a margin well inside
what these runs show for training seeds 1, 2 and 3, not to reach its target. Measured (term vs
baseline, seeds 1 / 2 / 3): heading_velocity speed along 135 degrees 0.96 / 1.68 / 1.73 vs
-0.01 / -0.01 / -0.00 m/s; posture pitch 0.23 / 0.23 / 0.24 vs 0.00 rad each.

Not here, because at this budget they did not move their descriptor for every training seed (the
deterministic policy mostly settles to standing still): ``flight`` (airborne fraction 0.13 vs 0.01
at seed 1, but 0.00 at seed 2 and 0.006 at seed 3 with 100k steps), ``lateral_velocity`` (vy 0.20
at seed 1, 0.00 at seed 2), ``takeoff`` (upward push speed), ``yaw_rate`` (mean turning rate 0.00)
and ``gait_schedule`` (no flights at all, vs ``airborne`` at the same flight share). Their values
are checked in ``tests/test_rewriter_analytic.py``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

from vidreward.reward.terms import render_reward_code  # noqa: E402
from vidreward.train import TrainConfig, rollout_policy, train_policy  # noqa: E402

ROBOT = "ant"
SETTLE_STEPS = 10  # the Ant is dropped from 0.75 m at reset: the first 0.5 s are not its gait
ROLLOUT_STEPS = 100
ROLLOUT_SEEDS = (0, 1)
BASE = {"upright": {}, "alive": {}, "action_cost": {}}

REWARDS: dict[str, dict[str, dict]] = {
    "baseline": BASE,
    "heading_velocity": {**BASE, "heading_velocity": {"scale": 2.0, "heading": 0.75 * math.pi,
                                                      "target_speed": None}},
    "posture": {**BASE, "posture": {"scale": 2.0, "target_pitch": 0.3}},
}
STEPS = 61_440  # 60 epochs of 64 envs x 16 steps, about 12 s per run on the idle 2-core machine


def _cfg(steps: int) -> TrainConfig:
    return TrainConfig.from_dict(dict(
        total_env_steps=steps, num_envs=64, horizon=16, minibatch_size=512, mini_epochs=4,
        units=[64, 64], learning_rate=3e-3, max_episode_steps=ROLLOUT_STEPS, seed=1, progress=False,
        torch_threads=1))


def _descriptors(traj: Path) -> dict[str, float]:
    """What the terms target, from the trajectory arrays after the settling drop."""
    d = np.load(traj)
    s = slice(SETTLE_STEPS, None)
    v, q = d["root_linvel"][s], d["root_quat"][s]
    heading = REWARDS["heading_velocity"]["heading_velocity"]["heading"]
    pitch = np.arcsin(np.clip(2.0 * (q[:, 1] * q[:, 3] - q[:, 0] * q[:, 2]), -1.0, 1.0))
    return {
        "heading_speed": float(np.mean(v[:, 0] * math.cos(heading) + v[:, 1] * math.sin(heading))),
        "pitch": float(np.mean(pitch)),
    }


class Runs:
    """Trains each reward once per module and keeps the mean descriptors over the rollout seeds."""

    def __init__(self, root: Path):
        self.root, self.done = root, {}

    def __call__(self, name: str) -> dict[str, float]:
        if name not in self.done:
            out = self.root / name
            out.mkdir()
            reward = out / "reward.py"
            reward.write_text(render_reward_code(REWARDS[name]))
            result = train_policy(reward, ROBOT, _cfg(STEPS), out / "train")
            rows = []
            for seed in ROLLOUT_SEEDS:
                rollout_policy(result.policy_path, reward, ROBOT, out / f"rollout{seed}",
                               steps=ROLLOUT_STEPS, seed=seed, render_size=32)
                rows.append(_descriptors(out / f"rollout{seed}" / "trajectory.npz"))
            self.done[name] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
            print(name, {k: round(v, 3) for k, v in self.done[name].items()})
        return self.done[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("term_training"))


def test_heading_velocity_moves_along_the_heading(runs):
    term, base = runs("heading_velocity"), runs("baseline")
    assert term["heading_speed"] > base["heading_speed"] + 0.3


def test_posture_tilts_the_torso_toward_its_pitch(runs):
    term, base = runs("posture"), runs("baseline")
    assert term["pitch"] > base["pitch"] + 0.1
