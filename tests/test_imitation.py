"""The 0-1 imitation score (vidreward.imitation): properties and the documented formula."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from vidreward.critic.motion import DESCRIPTOR_KEYS, GAP_SCALES, descriptors_from_trajectory
from vidreward.errors import CritiqueError
from vidreward.imitation import imitation_score, imitation_score_from_truth, imitation_terms

EXPERT = {"speed": 0.8, "bounce_amplitude": 0.06, "bounce_frequency": 2.0,
          "airborne_fraction": 0.2, "height_ratio": 0.95}


def test_identical_descriptors_score_one():
    assert imitation_score(EXPERT, dict(EXPERT)) == 1.0
    assert set(imitation_terms(EXPERT, EXPERT)) == set(DESCRIPTOR_KEYS)


def test_documented_hand_example():
    # the module docstring's example: one scale off in speed only
    robot = dict(EXPERT, speed=EXPERT["speed"] + GAP_SCALES["speed"])
    assert imitation_score(EXPERT, robot) == pytest.approx((4 + math.exp(-1)) / 5, abs=1e-12)
    assert imitation_score(EXPERT, robot) == pytest.approx(0.8736, abs=1e-4)
    # two descriptors: height two scales off and airborne half a scale off
    robot = dict(EXPERT, height_ratio=EXPERT["height_ratio"] - 2 * GAP_SCALES["height_ratio"],
                 airborne_fraction=EXPERT["airborne_fraction"] + 0.5 * GAP_SCALES["airborne_fraction"])
    assert imitation_score(EXPERT, robot) == pytest.approx((3 + math.exp(-4) + math.exp(-0.25)) / 5)


@pytest.mark.parametrize("key", DESCRIPTOR_KEYS)
def test_monotone_and_bounded_in_each_descriptor(key):
    scores = [imitation_score(EXPERT, dict(EXPERT, **{key: EXPERT[key] + d * GAP_SCALES[key]}))
              for d in (0.0, 0.3, 1.0, 2.0, 5.0, 50.0)]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    below = imitation_score(EXPERT, dict(EXPERT, **{key: EXPERT[key] - GAP_SCALES[key]}))
    assert below == pytest.approx(scores[2])  # symmetric in the sign of the difference
    assert scores[-1] >= 0.8 - 1e-9  # one descriptor far off costs at most its 1/5 share


def test_everything_far_off_tends_to_zero():
    expert = dict(EXPERT, bounce_amplitude=1.0)  # the bounces stay comparable (ratio 1/6)
    robot = {k: expert[k] + 100 * GAP_SCALES[k] for k in DESCRIPTOR_KEYS}
    assert 0.0 <= imitation_score(expert, robot) < 1e-6


def test_bounce_frequency_weighted_by_bounce_comparability_as_in_gap_terms():
    # robot's bounce a third the expert's: its frequency difference counts a third
    robot = dict(EXPERT, bounce_amplitude=0.02, bounce_frequency=3.0)
    terms = imitation_terms(EXPERT, robot)
    z_f = (3.0 - 2.0) / GAP_SCALES["bounce_frequency"] * (0.02 / 0.06)
    assert terms["bounce_frequency"] == pytest.approx(math.exp(-z_f ** 2))
    # neither bounces: the frequency does not count against the robot
    flat = dict(EXPERT, bounce_amplitude=0.0, bounce_frequency=0.0)
    assert imitation_terms(flat, dict(flat, bounce_frequency=4.0))["bounce_frequency"] == 1.0


def test_only_descriptors_both_sides_define_are_compared():
    partial = {"speed": 0.8, "airborne_fraction": 0.0, "height_ratio": None, "cadence_hz": 2.0}
    robot = dict(EXPERT, speed=0.8 + GAP_SCALES["speed"], airborne_fraction=0.0)
    assert set(imitation_terms(partial, robot)) == {"speed", "airborne_fraction"}
    assert imitation_score(partial, robot) == pytest.approx((1 + math.exp(-1)) / 2)


def test_errors_name_the_problem():
    with pytest.raises(CritiqueError, match="no descriptor in common"):
        imitation_score({"cadence_hz": 1.0}, EXPERT)
    with pytest.raises(CritiqueError, match="robot descriptor 'speed'"):
        imitation_score(EXPERT, dict(EXPERT, speed=float("nan")))
    with pytest.raises(CritiqueError, match="expert descriptor 'height_ratio'"):
        imitation_score(dict(EXPERT, height_ratio="tall"), EXPERT)


def test_score_from_truth_file_and_trajectory(tmp_path):
    from vidreward.critic.motion import robot_dims

    steps, dt = 200, 0.05
    bl, sh = robot_dims("ant")
    t = np.arange(steps) * dt
    root = np.stack([0.4 * t, 0 * t, sh + 0.0 * t], 1)
    traj = tmp_path / "trajectory.npz"
    np.savez(traj, dt=dt, robot="synthetic", t=t, root_pos=root, foot_contact_forces=np.full((steps, 4), 5.0))
    robot = descriptors_from_trajectory(traj, bl, sh)
    truth = tmp_path / "clip.truth.json"
    truth.write_text(json.dumps({"truth": {"speed_bl_s": robot["speed"], "airborne_fraction": 0.0}}))
    assert imitation_score_from_truth(truth, traj, "ant") == pytest.approx(1.0)
    truth.write_text(json.dumps({"truth": {"speed_bl_s": robot["speed"] + GAP_SCALES["speed"],
                                           "airborne_fraction": 0.0}}))
    assert imitation_score_from_truth(truth, traj, "ant") == pytest.approx((1 + math.exp(-1)) / 2)
    with pytest.raises(CritiqueError, match="truth file not found"):
        imitation_score_from_truth(tmp_path / "none.truth.json", traj, "ant")
