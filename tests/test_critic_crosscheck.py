"""The analytic critic measures the rendered rollout with the expert's extractor and cross-checks it
against the trajectory: agreement, a flagged disagreement, and the fallback to the trajectory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from test_critic_analytic import BL, FPS, SH, disc_video, make_traj, matching_traj, terms_code
from vidreward.critic.analytic import AnalyticCritic
from vidreward.critic.crosscheck import cross_check
from vidreward.critic.base import CROSSCHECK_TITLE, Critique, CritiqueInput
from vidreward.critic.motion import DESCRIPTOR_KEYS
from vidreward.video.io import write_video

TERMS = terms_code("forward_velocity", "vertical_bounce", "airborne", "upright")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """The expert (a disc travelling right and bouncing), the same motion as a rollout video, and a
    rollout video of the disc bouncing on the spot."""
    d = tmp_path_factory.mktemp("clips")
    paths = {"expert": d / "expert.mp4", "same": d / "rollout_same.mp4", "on_the_spot": d / "rollout_spot.mp4"}
    write_video(paths["expert"], disc_video(), FPS)
    shutil.copy(paths["expert"], paths["same"])
    write_video(paths["on_the_spot"], disc_video(speed_px=0.0), FPS)
    return paths


@pytest.fixture(scope="module")
def expert(clips) -> dict[str, float]:
    return AnalyticCritic().expert_descriptors(clips["expert"])


def critique(tmp_path: Path, clips: dict[str, Path], video: Path, traj: Path) -> Critique:
    inp = CritiqueInput(expert_clip=clips["expert"], rollout_video=video, trajectory=traj,
                        reward_code=TERMS, train_log=None, out_dir=tmp_path / "out", robot="ant")
    return AnalyticCritic(robot_dims=(BL, SH)).critique(inp)


def test_video_that_agrees_with_its_trajectory(tmp_path, clips, expert):
    traj = matching_traj(tmp_path / "trajectory.npz", expert)
    c = critique(tmp_path, clips, clips["same"], traj)
    assert set(c.crosscheck) == set(DESCRIPTOR_KEYS)
    assert {k: e["agree"] for k, e in c.crosscheck.items()} == {k: True for k in DESCRIPTOR_KEYS}
    assert all(e["video"] is not None for e in c.crosscheck.values())
    # the robot is compared on what its video shows: the same clip reads exactly as the expert
    assert c.descriptors["robot_video"] == pytest.approx(expert)
    assert c.descriptors["robot"] == pytest.approx(expert)
    assert set(c.descriptors["robot_trajectory"]) == set(DESCRIPTOR_KEYS)
    assert c.gap == pytest.approx(0.0, abs=1e-9) and c.problems == []
    assert f"## {CROSSCHECK_TITLE}" in c.raw_text and "No disagreement" in c.raw_text
    assert "pixels of its rollout video `rollout_same.mp4`" in c.raw_text
    # the robot's records sit beside the expert's without overwriting them
    board = tmp_path / "out" / "storyboard"
    assert json.loads((board / "evidence.json").read_text())["clip"].endswith("expert.mp4")
    assert json.loads((board / "robot" / "evidence.json").read_text())["clip"].endswith("rollout_same.mp4")
    assert (board / "robot" / "track.csv").is_file()
    assert len(sorted((board / "robot").glob("robot_[0-9][0-9].png"))) == 6
    assert len(sorted(board.glob("expert_[0-9][0-9].png"))) == 6


def test_trajectory_travelling_while_the_video_stands_is_flagged(tmp_path, clips, expert):
    seen, _ = AnalyticCritic().robot_video_evidence(clips["on_the_spot"])
    assert seen["speed"] < 0.05  # the video shows the disc on the spot
    fast = 1.5 * BL  # the trajectory claims 1.5 body lengths/s
    traj = matching_traj(tmp_path / "trajectory.npz", seen, speed_mps=fast)
    c = critique(tmp_path, clips, clips["on_the_spot"], traj)
    off = {k for k, e in c.crosscheck.items() if e["agree"] is False}
    assert off == {"speed"}
    entry = c.crosscheck["speed"]
    assert entry["video"] == pytest.approx(seen["speed"])
    assert entry["trajectory"] == pytest.approx(1.5, rel=1e-3)
    assert "the video shows speed" in entry["note"] and "the trajectory says 1.50" in entry["note"]
    assert "disagree on speed" in c.raw_text and entry["note"] in c.raw_text
    # the comparison uses the video: the robot stands, so it is too slow for the travelling expert
    assert c.descriptors["robot"]["speed"] == pytest.approx(seen["speed"])
    assert c.descriptors["robot_trajectory"]["speed"] == pytest.approx(1.5, rel=1e-3)
    assert any(i.component == "forward_velocity" for i in c.problems)


@pytest.mark.parametrize("kind", ["missing", "no_subject"])
def test_unusable_rollout_video_falls_back_to_the_trajectory(tmp_path, clips, expert, kind):
    video = tmp_path / "rollout.mp4"
    if kind == "no_subject":
        write_video(video, np.full((30, 64, 96, 3), 128, np.uint8), FPS)
    traj = matching_traj(tmp_path / "trajectory.npz", expert, speed_mps=0.05)
    c = critique(tmp_path, clips, video, traj)
    assert c.descriptors["robot"] == c.descriptors["robot_trajectory"]
    assert c.descriptors["robot_video"] == {}
    assert all(e["video"] is None and e["agree"] is None for e in c.crosscheck.values())
    assert all("could not be analysed" in e["note"] and "trajectory's value" in e["note"]
               for e in c.crosscheck.values())
    assert "could not be analysed" in c.raw_text and "every robot descriptor comes from" in c.raw_text
    if kind == "no_subject":
        assert "subject found in only 0" in c.raw_text
    # the trajectory still drives the feedback: it says the robot is too slow
    assert any(i.component == "forward_velocity" for i in c.problems)


def test_crosscheck_roundtrips_and_renders(tmp_path):
    c = Critique(backend="analytic", gap=0.1, descriptors={"expert": {"speed": 1.0}, "robot": {"speed": 0.2},
                                                          "robot_video": {"speed": 0.2},
                                                          "robot_trajectory": {"speed": 1.0}},
                 crosscheck={"speed": {"video": 0.2, "trajectory": 1.0, "agree": False, "note": "off"},
                             "height_ratio": {"video": None, "trajectory": 0.9, "agree": None, "note": "n/a"}})
    c.save(tmp_path / "c.json", tmp_path / "c.md")
    back = Critique.load(tmp_path / "c.json")
    assert back.crosscheck == c.crosscheck and back.descriptors == c.descriptors
    md = (tmp_path / "c.md").read_text()
    assert "| descriptor | expert | robot | robot video | robot trajectory |" in md
    assert "1. `speed`: off" in md and "- `height_ratio`: n/a" in md
    assert Critique.from_dict({"backend": "x"}).crosscheck == {}  # older critiques have none
    assert CROSSCHECK_TITLE not in Critique().to_markdown()


def test_cross_check_units_direction_and_unknowns():
    traj = {"speed": -0.5, "bounce_amplitude": 0.1, "bounce_frequency": 2.0,
            "airborne_fraction": 0.2, "height_ratio": 0.9}
    diag = {"forward_speed_mps": -0.5 * BL, "lateral_speed_mps": 0.0, "lateral_speed_body": 0.0}
    video = {"speed": 0.55, "bounce_amplitude": 0.105, "bounce_frequency": 2.1, "airborne_fraction": 0.25}
    robot, record = cross_check(video, {"height_ratio": "not seen"}, None, traj, diag, BL)
    assert robot["speed"] == pytest.approx(-0.55)  # the video's size, the trajectory's direction
    assert record["speed"]["agree"] is True and record["speed"]["trajectory"] == pytest.approx(0.5)
    assert robot["height_ratio"] == 0.9 and record["height_ratio"]["agree"] is None
    assert "cannot show it (not seen)" in record["height_ratio"]["note"]
    # sideways drift is ground speed the video sees, but not forward travel
    drift = {"forward_speed_mps": 0.3 * BL, "lateral_speed_mps": 0.4 * BL, "lateral_speed_body": 0.4}
    robot, record = cross_check(dict(video, speed=0.5), {}, None, dict(traj, speed=0.3), drift, BL)
    assert record["speed"]["trajectory"] == pytest.approx(0.5) and record["speed"]["agree"] is True
    assert robot["speed"] == pytest.approx(0.3)
    # just outside each tolerance
    far = {"speed": 0.5 + 0.1 + 0.25 * 0.5 + 0.01, "bounce_amplitude": 0.1 + 0.031,
           "bounce_frequency": 2.0 + 0.31, "airborne_fraction": 0.2 + 0.11, "height_ratio": 0.9 - 0.081}
    diag_fwd = dict(diag, forward_speed_mps=0.5 * BL)
    _, record = cross_check(far, {}, None, dict(traj, speed=0.5), diag_fwd, BL)
    assert {k for k, e in record.items() if e["agree"] is False} == set(DESCRIPTOR_KEYS)
    # a bounce on one side only: its frequency is not compared
    _, record = cross_check(dict(video, bounce_amplitude=0.0, bounce_frequency=0.0), {}, None, traj, diag, BL)
    assert record["bounce_amplitude"]["agree"] is False and record["bounce_frequency"]["agree"] is None


@pytest.mark.parametrize("video_height", [0.7, None])
def test_posture_problem_says_where_the_robot_value_was_seen(video_height):
    """The robot's height ratio is described as the rollout video shows it (relative to its
    tallest pose there) when it came from the video, as the trajectory's torso height relative to
    standing height otherwise."""
    from vidreward.critic.checks import compare
    from vidreward.critic.reward_terms import RewardTerms

    expert = {"speed": 0.3, "bounce_amplitude": 0.0, "bounce_frequency": 0.0,
              "airborne_fraction": 0.0, "height_ratio": 0.95}
    robot = dict(expert, height_ratio=0.7)
    crit = Critique(backend="analytic", crosscheck={"height_ratio": {
        "video": video_height, "trajectory": 0.7, "agree": None if video_height is None else True, "note": ""}})
    compare(crit, expert, robot, {"forward_speed_mps": 0.3 * BL, "lateral_speed_mps": 0.0, "lateral_speed_body": 0.0},
            RewardTerms(), BL, SH)
    text = next(i.text for i in crit.problems if i.component == "height")
    if video_height is None:
        assert text.startswith("The robot's median torso height is 0.70 of standing height")
    else:
        assert text.startswith("In its rollout video the robot's typical height is 0.70 of its tallest")
    assert f"(= {0.95 * SH:.3f} m for this robot)" in text


def test_critique_reads_the_expert_measurement_instead_of_the_clip(tmp_path, clips, expert, monkeypatch):
    """Rule clip_evidence measures the expert once (``measure_expert_clip``); a critique given
    that record reads it, never analyses the expert clip again, and writes the same storyboard and
    the same critique as one that measured the clip itself."""
    from vidreward.critic import analytic
    from vidreward.errors import CritiqueError
    from vidreward.perception import evidence

    measured = tmp_path / "measured"
    analytic.measure_expert_clip(clips["expert"], measured)
    assert len(sorted(measured.glob("expert_[0-9][0-9].png"))) == 6
    traj = matching_traj(tmp_path / "trajectory.npz", expert)
    fresh = critique(tmp_path / "fresh", clips, clips["on_the_spot"], traj)
    seen = []
    real = evidence.analyse_clip
    monkeypatch.setattr(evidence, "analyse_clip", lambda path, **kw: seen.append(Path(path).name) or real(path, **kw))
    inp = CritiqueInput(expert_clip=clips["expert"], rollout_video=clips["on_the_spot"], trajectory=traj,
                        reward_code=TERMS, train_log=None, out_dir=tmp_path / "out", robot="ant",
                        expert_measurement=measured)
    read = AnalyticCritic(robot_dims=(BL, SH)).critique(inp)
    assert seen == ["rollout_spot.mp4"]  # the robot's video only
    assert read.descriptors["expert"] == fresh.descriptors["expert"]
    assert read.gap == pytest.approx(fresh.gap) and read.gap > 0.5
    assert [p.text for p in read.problems] == [p.text for p in fresh.problems] and read.problems
    board = tmp_path / "out" / "storyboard"
    assert len(sorted(board.glob("expert_[0-9][0-9].png"))) == 6 and (board / "track.csv").is_file()
    assert json.loads((board / "evidence.json").read_text())["clip"].endswith("expert.mp4")
    # a record of another clip, or none, is an error naming the record
    other = dict(inp.__dict__, expert_clip=clips["same"])
    with pytest.raises(CritiqueError, match=r"measured.*evidence.json.*expert.mp4, not the expert clip"):
        AnalyticCritic(robot_dims=(BL, SH)).critique(CritiqueInput(**other))
    missing = dict(inp.__dict__, expert_measurement=tmp_path / "nowhere")
    with pytest.raises(CritiqueError, match=r"nowhere/evidence.json: cannot read"):
        AnalyticCritic(robot_dims=(BL, SH)).critique(CritiqueInput(**missing))
