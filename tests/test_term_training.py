"""New reward terms move the motion they name: a tiny PPO run (Ant, fixed seeds) with the term plus
``upright``/``alive``/``action_cost`` against the same run without it, and the descriptor the term
targets measured on deterministic rollouts (``trajectory.npz`` of
:func:`vidreward.train.rollout_policy`, two seeds, after the drop that follows each reset).

The budget (about 60k env steps per run, under a minute on the idle 2-core machine) was chosen
by measurement; a term is asked to move its descriptor the right way by a margin well inside what
these runs show for training seeds 1, 2 and 3, not to reach its target. Measured (term vs baseline,
seeds 1 / 2 / 3): heading_velocity speed along 135 degrees 0.96 / 1.68 / 1.73 vs
-0.01 / -0.01 / -0.00 m/s; posture pitch 0.23 / 0.23 / 0.24 vs 0.00 rad each.

``flight`` and ``yaw_rate`` need four times that budget (about 250k steps, about 50 s a run; at
60k the deterministic policy stands still): airborne fraction 0.70 / 0.14 / 0.71 and turning rate
0.37 / 0.50 / 0.47 rad/s (seeds 1 / 2 / 3), every rollout upright to its end, against 0.00 and
0.00 for the baseline at the same budget (seeds 1 and 2). ``flight`` pays for the lowest foot's
height (``foot_heights``); flights the critic would see (the lowest point 0.05 body lengths up)
0.36 / 0.00 / 0.16 of the time against 0.00. When it paid for the torso's height instead it flew
0.38 / 0.28 / 0.64 of the time by contact, and on the motion suite's hop 0.00 visibly.

``gait_schedule`` (1 Hz, duty 0.5) at the same budget, now that the policy observes the gait clock:
schedule agreement 0.72 / 0.75 / 0.86 and airborne fraction 0.33 / 0.30 / 0.47 (seeds 1 / 2 / 3),
every rollout upright, against 0.46 and 0.07 for the baseline (seed 1, with the clock standing
still). Without the clock in the observation it made no flights at all at 250k steps.

``bounce_clock`` (1.8 Hz, 0.144 m, scale 2) at the same budget: the torso height's correlation with
the clocked reference 0.93 / 0.88 and its amplitude 0.124 / 0.084 m (seeds 1 / 2), airborne 0.66 /
0.43, every rollout upright.

``lateral_velocity`` (0.5 m/s to the left of +x, sigma 0.5, scale 2) at the same budget: sideways
speed 0.27 / 0.15 / 0.28 m/s (seeds 1 / 2 / 3), every rollout upright, against -0.002 for the
baseline (seed 1). It used to be a penalty, -|v_perp - target|; as a penalty it moved the Ant
sideways only by tipping it over (vy 0.85 / 0.16 at 60k, every rollout falling within 64 / 82 of
100 steps; at 250k and scale 0.5, 0.005 / 0.38), and the tracking kernel it is now stood still at
60k (vy -0.01 / 0.00).

``takeoff`` (0.3 m/s, scale 8) at the same budget: upward torso speed while the feet still press on
the ground 0.107 / 0.163 / 0.198 m/s, take-offs (the last step with a foot down before every foot is off) 15.5
/ 15.5 / 19 per rollout at a vertical speed of 0.21 / 0.09 / 0.32 m/s (seeds 1 / 2 / 3), every rollout
upright, against 0.000 and no take-off at all for the baseline (seed 1). At the scale of 0.5 the
critic starts it from (beside ``flight``) it did not move alone (0.006 m/s at 250k, as the baseline),
and at scale 4 (0.5 m/s) it moved at seed 1 only (0.156 / 0.004 / 0.010 m/s): the push has to
outweigh ``upright`` and ``alive`` for the policy to leave its stance.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

from vidreward.critic.motion import AIRBORNE_CLEARANCE, robot_dims  # noqa: E402
from vidreward.reward.terms import render_reward_code  # noqa: E402
from vidreward.sim.kinematics import lowest_point_heights  # noqa: E402
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
    "baseline_long": BASE,
    "flight": {**BASE, "flight": {"scale": 4.0, "flight_time": 0.3}},
    "yaw_rate": {**BASE, "yaw_rate": {"scale": 2.0, "target_rate": 1.0, "sigma": 1.0}},
    "gait_schedule": {**BASE, "gait_schedule": {"scale": 2.0, "frequency": 1.0, "duty": 0.5}},
    "bounce_clock": {**BASE, "bounce_clock": {"scale": 2.0, "frequency": 1.8, "amplitude": 0.144}},
    "takeoff": {**BASE, "takeoff": {"scale": 8.0, "target_vz": 0.3}},
    "lateral_velocity": {**BASE, "lateral_velocity": {"scale": 2.0, "heading": 0.0, "target_speed": 0.5,
                                                      "sigma": 0.5}},
}
SCHEDULE = REWARDS["gait_schedule"]["gait_schedule"]
BOUNCE = REWARDS["bounce_clock"]["bounce_clock"]
STEPS = 61_440  # 60 epochs of 64 envs x 16 steps, about 12 s per run on the idle 2-core machine
LONG_STEPS = 245_760  # 240 epochs, about 50 s per run: what a jump takes to appear
BUDGET = {"baseline_long": LONG_STEPS, "flight": LONG_STEPS, "yaw_rate": LONG_STEPS,
          "gait_schedule": LONG_STEPS, "bounce_clock": LONG_STEPS, "lateral_velocity": LONG_STEPS,
          "takeoff": LONG_STEPS}
CONTACT_THRESHOLD = 1.0  # N, the terms' default: a foot below it is off the ground


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
    up = 1.0 - 2.0 * (q[:, 1] ** 2 + q[:, 2] ** 2)  # z of the torso's up axis
    feet_up = (d["foot_contact_forces"][s] < CONTACT_THRESHOLD).all(axis=1)
    in_flight_window = np.remainder(SCHEDULE["frequency"] * d["t"][s], 1.0) >= SCHEDULE["duty"]
    z = d["root_pos"][s][:, 2]
    # flight as the critic sees it: the lowest point clears its usual ground level by
    # AIRBORNE_CLEARANCE body lengths (vidreward.critic.motion), not just unloaded feet
    lowest = lowest_point_heights(ROBOT, d["root_pos"][s], d["root_quat"][s], d["dof_pos"][s])
    body_length = robot_dims(ROBOT)[0]
    loaded = (d["foot_contact_forces"][s] >= CONTACT_THRESHOLD).any(axis=1)
    takeoffs = np.flatnonzero(feet_up[1:] & ~feet_up[:-1])  # the last step with a foot down before a flight
    z_ref = np.sin(2.0 * math.pi * BOUNCE["frequency"] * d["t"][s])
    return {
        # how closely the torso height follows BOUNCE's clocked reference (0 for a still torso)
        "clock_corr": float(np.corrcoef(z, z_ref)[0, 1]) if z.std() > 1e-6 else 0.0,
        "z_amplitude": float(math.sqrt(2.0) * z.std()),  # m, of a sinusoid with this spread
        "heading_speed": float(np.mean(v[:, 0] * math.cos(heading) + v[:, 1] * math.sin(heading))),
        "lateral_speed": float(np.mean(v[:, 1])),  # m/s to the left of +x, the lateral term's heading
        "pitch": float(np.mean(pitch)),
        "yaw_rate": float(np.mean(d["root_angvel"][s][:, 2])),
        "airborne": float(np.mean(feet_up)),
        "visible_airborne": float(np.mean(lowest > np.percentile(lowest, 10) + AIRBORNE_CLEARANCE * body_length)),
        # the push of a jump: upward torso speed (0 when sinking) while a foot still presses down
        "push_speed": float(np.mean(np.maximum(v[:, 2], 0.0)[loaded])) if loaded.any() else 0.0,
        "takeoffs": float(len(takeoffs)),
        "takeoff_vz": float(np.mean(v[takeoffs, 2])) if len(takeoffs) else 0.0,  # m/s, leaving the ground
        # share of the steps whose contacts follow SCHEDULE: feet down in its stance window, all
        # off in its flight window (a robot that never leaves the ground scores the duty, 0.5)
        "schedule_agreement": float(np.mean(feet_up == in_flight_window)),
        "steps": float(len(d["root_pos"])),
        "min_up": float(up.min()),
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
            result = train_policy(reward, ROBOT, _cfg(BUDGET.get(name, STEPS)), out / "train")
            rows = []
            for seed in ROLLOUT_SEEDS:
                rollout_policy(result.policy_path, reward, ROBOT, out / f"rollout{seed}",
                               steps=ROLLOUT_STEPS, seed=seed, render_size=32)
                rows.append(_descriptors(out / f"rollout{seed}" / "trajectory.npz"))
            self.done[name] = {k: float((np.min if k in ("steps", "min_up") else np.mean)([r[k] for r in rows]))
                               for k in rows[0]}
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


def test_flight_lifts_every_foot_off_the_ground(runs):
    """Real jumps: every foot off for a share of the rollout, clear of the floor as a camera would
    see it, the robot never falling (a fall ends the rollout early; a robot on its back has its feet
    in the air too)."""
    term, base = runs("flight"), runs("baseline_long")
    assert term["airborne"] > base["airborne"] + 0.1
    assert term["visible_airborne"] > base["visible_airborne"] + 0.1
    assert term["steps"] == ROLLOUT_STEPS and term["min_up"] > 0.3


def test_yaw_rate_turns_counter_clockwise(runs):
    """Turning toward a positive target rate: counter-clockwise seen from above (world z)."""
    term, base = runs("yaw_rate"), runs("baseline_long")
    assert term["yaw_rate"] > base["yaw_rate"] + 0.2
    assert term["steps"] == ROLLOUT_STEPS and term["min_up"] > 0.3


def test_gait_schedule_follows_its_contact_rhythm(runs):
    """The policy observes the gait clock of its reward (``vidreward.sim.base``): feet down in the
    schedule's stance window and all off in its flight window, upright to the end."""
    term, base = runs("gait_schedule"), runs("baseline_long")
    assert term["schedule_agreement"] > base["schedule_agreement"] + 0.15
    assert term["airborne"] > base["airborne"] + 0.15
    assert term["steps"] == ROLLOUT_STEPS and term["min_up"] > 0.3


def test_lateral_velocity_moves_across_its_heading(runs):
    """0.5 m/s to the left of +x (the heading): the robot moves that way, upright to the end."""
    term, base = runs("lateral_velocity"), runs("baseline_long")
    assert term["lateral_speed"] > base["lateral_speed"] + 0.1
    assert term["steps"] == ROLLOUT_STEPS and term["min_up"] > 0.3


def test_bounce_clock_bounces_in_time_with_its_clock(runs):
    """The torso rises and falls with the clocked reference (1.8 Hz, 0.144 m), upright to the end."""
    term, base = runs("bounce_clock"), runs("baseline_long")
    assert term["clock_corr"] > base["clock_corr"] + 0.5
    assert term["z_amplitude"] > base["z_amplitude"] + 0.04
    assert term["steps"] == ROLLOUT_STEPS and term["min_up"] > 0.3


def test_takeoff_pushes_the_torso_up_off_the_ground(runs):
    """The push of a jump: the torso rises while the feet still press down, and the pushes end in
    take-offs (every foot leaving the ground) going up, upright to the end."""
    term, base = runs("takeoff"), runs("baseline_long")
    assert term["push_speed"] > base["push_speed"] + 0.05
    assert term["takeoffs"] >= base["takeoffs"] + 5
    assert term["takeoff_vz"] > 0.03
    assert term["steps"] == ROLLOUT_STEPS and term["min_up"] > 0.3
