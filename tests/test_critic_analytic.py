"""Motion descriptors (synthetic video, synthetic trajectory, shipped CMU clip) and the analytic critic."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from vidreward.critic.analytic import AnalyticCritic
from vidreward.critic.base import Critique, CritiqueInput
from vidreward.critic.motion import (
    GAP_CAP,
    gap_terms,
    DESCRIPTOR_KEYS,
    GAP_SCALES,
    descriptors_from_clip,
    descriptors_from_trajectory,
    descriptors_from_video,
    gap,
)
from vidreward.critic.reward_terms import current_terms, terms_from_code
from vidreward.errors import ClipError, CritiqueError
from vidreward.video.fetch import SHIPPED_DIR
from vidreward.video.io import write_video

FPS = 25.0
DIAM = 24  # px: the disc's body size
SPEED_PX = 40.0  # px/s to the right
BOUNCE_PX = 6.0  # px amplitude
BOUNCE_HZ = 1.1  # below CLOCK_MIN_HZ: a bounce vertical_bounce asks for (fast hops: test_fast_hops_*)
BL, SH = 0.8, 0.55  # robot body_length and standing_height used by the critic tests


def disc_video(n: int = 100, speed_px: float = SPEED_PX, bounce_px: float = BOUNCE_PX,
               hz: float = BOUNCE_HZ, h: int = 120, w: int = 240) -> np.ndarray:
    """A dark disc on a light, slightly textured background, moving right and bouncing."""
    rng = np.random.default_rng(1)
    bg = np.clip(225 + rng.normal(0, 3, (h, w, 1)), 0, 255) * np.ones((1, 1, 3))
    bg[100:102] = 110  # a ground line
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    frames = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        t = i / FPS
        cx = 30 + speed_px * t
        cy = 70 - bounce_px * np.sin(2 * np.pi * hz * t)
        alpha = np.clip(DIAM / 2 - np.hypot(xx - cx, yy - cy) + 0.5, 0, 1)[..., None]
        frames[i] = (bg * (1 - alpha) + 25 * alpha).astype(np.uint8)
    return frames


@pytest.fixture(scope="module")
def bouncing_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("expert") / "disc.mp4"
    write_video(path, disc_video(), FPS)
    return path


@pytest.fixture(scope="module")
def expert(bouncing_clip) -> dict[str, float]:
    """The expert as the critic sees it (motion-evidence extractor)."""
    return AnalyticCritic().expert_descriptors(bouncing_clip)


def make_traj(path: Path, speed_mps: float, amp_m: float, hz: float, air_frac: float,
              z_med: float = SH, lateral_mps: float = 0.0, flipped: bool = False,
              steps: int = 250, dt: float = 0.02, robot: str = "synthetic") -> Path:
    """A synthetic rollout. ``robot`` "synthetic" has no model, so flight comes from the foot
    forces (zero in the top ``air_frac`` of heights); with a real robot name the pose decides."""
    t = np.arange(steps) * dt
    z = z_med + amp_m * np.sin(2 * np.pi * hz * t)
    root = np.stack([speed_mps * t, lateral_mps * t, z], axis=1)
    forces = np.full((steps, 4), 5.0)
    if air_frac > 0:
        forces[z > np.quantile(z, 1 - air_frac)] = 0.0
    quat = np.tile([0.0, 1.0, 0.0, 0.0] if flipped else [1.0, 0.0, 0.0, 0.0], (steps, 1))
    np.savez(path, dt=dt, robot=robot, t=t, root_pos=root, root_quat=quat,
             root_linvel=np.gradient(root, dt, axis=0), root_angvel=np.zeros((steps, 3)),
             dof_pos=np.zeros((steps, 8)), dof_vel=np.zeros((steps, 8)), actions=np.zeros((steps, 8)),
             foot_contact_forces=forces, reward_forward_velocity=np.zeros(steps))
    return path


def matching_traj(path: Path, e: dict[str, float], **overrides) -> Path:
    """A robot trajectory whose motion equals the expert's descriptors (scaled to BL, SH)."""
    kw = dict(speed_mps=e["speed"] * BL, amp_m=e["bounce_amplitude"] * BL, hz=e["bounce_frequency"],
              air_frac=e["airborne_fraction"], z_med=e["height_ratio"] * SH)
    kw.update(overrides)
    return make_traj(path, **kw)


def run_critic(tmp_path: Path, clip: Path, traj: Path, code: str = "", train_log: Path | None = None) -> Critique:
    inp = CritiqueInput(expert_clip=clip, rollout_video=tmp_path / "rollout.mp4", trajectory=traj,
                        reward_code=code, train_log=train_log, out_dir=tmp_path / "out", robot="ant")
    return AnalyticCritic(robot_dims=(BL, SH)).critique(inp)


def terms_code(*names: str) -> str:
    terms = {n: {"scale": 1.0} for n in names}
    return f"TERMS = {terms!r}\n\nimport torch\n\ndef compute_reward(root_linvel):\n    return root_linvel[:, 0], {{}}\n"


def items(c: Critique, section: str) -> dict[str, dict]:
    return {i.component: i.params for i in getattr(c, section)}


# ---------------------------------------------------------------- descriptors


def test_descriptors_recover_synthetic_disc(expert):
    assert set(expert) == set(DESCRIPTOR_KEYS)
    assert expert["speed"] == pytest.approx(SPEED_PX / DIAM, rel=0.06)
    assert expert["bounce_frequency"] == pytest.approx(BOUNCE_HZ, abs=0.08)
    assert expert["bounce_amplitude"] == pytest.approx(BOUNCE_PX / DIAM, rel=0.15)
    assert expert["height_ratio"] == pytest.approx(1.0, abs=0.06)
    assert 0.3 < expert["airborne_fraction"] < 0.9  # bottom clears its lowest point most of the time


def test_descriptors_direction_and_no_bounce():
    mirrored = disc_video(n=60, speed_px=30.0, bounce_px=0.0)[:, :, ::-1]  # moves left
    left = descriptors_from_video(mirrored, FPS)
    assert left["speed"] == pytest.approx(30.0 / DIAM, rel=0.06)  # magnitude, either direction
    assert left["bounce_amplitude"] < 0.02 and left["bounce_frequency"] == 0.0
    assert left["airborne_fraction"] == 0.0


def test_descriptors_need_a_subject():
    with pytest.raises(ClipError, match="subject found in only 0"):
        descriptors_from_video(np.full((20, 40, 60, 3), 200, np.uint8), FPS)


def test_descriptors_from_trajectory(tmp_path):
    path = make_traj(tmp_path / "traj.npz", speed_mps=0.4, amp_m=0.08, hz=2.0, air_frac=0.3, z_med=0.5)
    d = descriptors_from_trajectory(path, body_length=BL, standing_height=SH)
    assert d["speed"] == pytest.approx(0.4 / BL, rel=1e-6)
    assert d["bounce_amplitude"] == pytest.approx(0.08 / BL, rel=0.03)
    assert d["bounce_frequency"] == pytest.approx(2.0, abs=0.05)
    assert d["airborne_fraction"] == pytest.approx(0.3, abs=0.02)
    assert d["height_ratio"] == pytest.approx(0.5 / SH, rel=0.02)
    back = make_traj(tmp_path / "back.npz", speed_mps=-0.2, amp_m=0.0, hz=1.0, air_frac=0.0)
    d = descriptors_from_trajectory(back, body_length=BL, standing_height=SH)
    assert d["speed"] == pytest.approx(-0.25)  # backwards stays negative for the robot
    assert d["bounce_frequency"] == 0.0 and d["airborne_fraction"] == 0.0


def test_robot_airborne_uses_the_same_clearance_rule_as_the_video(tmp_path):
    """For a robot with a model, flight is its lowest point clearing its usual ground level by
    AIRBORNE_CLEARANCE body sizes, whatever the foot sensors say."""
    from vidreward.critic.motion import AIRBORNE_CLEARANCE
    from vidreward.sim.robots import get_robot

    spec = get_robot("ant")
    hop = make_traj(tmp_path / "hop.npz", speed_mps=0.3, amp_m=0.2, hz=1.0, air_frac=0.0,
                    z_med=spec.standing_height, robot="ant")
    z = np.load(hop)["root_pos"][:, 2]  # rigid pose: the lowest point moves with the torso
    expected = np.mean(z > np.percentile(z, 10) + AIRBORNE_CLEARANCE * spec.body_length)
    d = descriptors_from_trajectory(hop)
    assert 0.3 < d["airborne_fraction"] == pytest.approx(expected, abs=0.01)
    skip = make_traj(tmp_path / "skip.npz", speed_mps=0.3, amp_m=0.01, hz=3.0, air_frac=0.4,
                     z_med=spec.standing_height, robot="ant")
    assert descriptors_from_trajectory(skip)["airborne_fraction"] == 0.0  # feet up, but no visible flight


def test_trajectory_errors_name_the_file(tmp_path):
    bad = tmp_path / "partial.npz"
    np.savez(bad, t=np.arange(10.0))
    with pytest.raises(CritiqueError, match="partial.npz.*root_pos"):
        descriptors_from_trajectory(bad, BL, SH)
    with pytest.raises(CritiqueError, match="absent.npz"):
        descriptors_from_trajectory(tmp_path / "absent.npz", BL, SH)


def test_trajectory_body_size_from_robot_registry(tmp_path):
    robots = pytest.importorskip("vidreward.sim.robots")
    spec = robots.get_robot("ant")
    path = make_traj(tmp_path / "traj.npz", speed_mps=0.5, amp_m=0.0, hz=1.0, air_frac=0.0,
                     z_med=spec.standing_height, robot="ant")
    d = descriptors_from_trajectory(path)
    assert d["speed"] == pytest.approx(0.5 / spec.body_length)
    assert d["height_ratio"] == pytest.approx(1.0, abs=1e-6)


def test_gap_scales():
    e = {k: 0.5 for k in DESCRIPTOR_KEYS}
    assert gap(e, dict(e)) == 0.0
    r = dict(e, speed=0.5 + GAP_SCALES["speed"] * 2)
    assert gap(e, r) == pytest.approx(np.sqrt(4 / len(DESCRIPTOR_KEYS)))
    with pytest.raises(CritiqueError, match="speed"):
        gap({"bounce_amplitude": 0}, r)


def test_shipped_cmu_clip_descriptors_are_plausible():
    d = descriptors_from_clip(SHIPPED_DIR / "cmu_01_01_forward_jumps.mp4")
    # four forward jumps in 6.2 s, ~1.55 s apart, ~0.3 s in the air each
    assert 0.2 < d["speed"] < 0.6
    assert 0.5 < d["bounce_frequency"] < 0.85
    assert 0.05 < d["bounce_amplitude"] < 0.25
    assert 0.1 < d["airborne_fraction"] < 0.3
    assert 0.8 < d["height_ratio"] <= 1.0


# ---------------------------------------------------------------- critic


def test_identical_motion_small_gap_no_items(tmp_path, bouncing_clip, expert):
    traj = matching_traj(tmp_path / "trajectory.npz", expert)
    c = run_critic(tmp_path, bouncing_clip, traj,
                   terms_code("forward_velocity", "vertical_bounce", "airborne", "upright"))
    assert c.backend == "analytic"
    assert c.gap < 0.3
    assert c.problems == [] and c.rewrite == [] and c.remove == [] and c.new == []
    assert "no change needed" in c.raw_text
    assert c.descriptors["expert"] == pytest.approx(expert)
    assert sorted((tmp_path / "out" / "storyboard").glob("expert_*.png"))


def test_too_slow_rewrites_forward_velocity(tmp_path, bouncing_clip, expert):
    traj = matching_traj(tmp_path / "trajectory.npz", expert, speed_mps=0.05)
    c = run_critic(tmp_path, bouncing_clip, traj,
                   terms_code("forward_velocity", "vertical_bounce", "airborne"))
    rewrite = items(c, "rewrite")
    assert set(rewrite) == {"forward_velocity"} and c.new == [] and c.remove == []
    assert rewrite["forward_velocity"]["target_speed"] == pytest.approx(expert["speed"] * BL, rel=1e-3)
    assert rewrite["forward_velocity"]["sigma"] > 0
    [problem] = c.problems
    assert f"{0.05 / BL:.2f} body lengths/s" in problem.text and f"{expert['speed']:.2f}" in problem.text
    # speed is off by far more than GAP_CAP scales: it saturates at GAP_CAP, so the RMS over the five
    # descriptors is at least GAP_CAP / sqrt(5)
    assert c.gap >= GAP_CAP / 5 ** 0.5 - 1e-9
    # the critique says where the robot's numbers come from, and names the sections
    assert "trajectory.npz" in c.raw_text and "rollout.mp4" in c.raw_text
    for title in ("## Problems", "## Rewrite component", "## Remove component", "## New component"):
        assert title in c.raw_text


def test_missing_bounce_is_new_and_fixed_height_removed(tmp_path, bouncing_clip, expert):
    traj = matching_traj(tmp_path / "trajectory.npz", expert, amp_m=0.0)
    c = run_critic(tmp_path, bouncing_clip, traj, terms_code("forward_velocity", "airborne", "height"))
    new = items(c, "new")
    assert "vertical_bounce" in new
    assert new["vertical_bounce"]["amplitude"] == pytest.approx(expert["bounce_amplitude"] * BL, rel=1e-3)
    assert new["vertical_bounce"]["frequency"] == pytest.approx(BOUNCE_HZ, abs=0.1)
    assert set(items(c, "remove")) == {"height"}
    assert "forward_velocity" not in new and "forward_velocity" not in items(c, "rewrite")
    # the expert's bounce is a stance/flight rhythm: its frequency, feet down when it is not airborne
    assert new["gait_schedule"] == {"frequency": pytest.approx(expert["bounce_frequency"], rel=1e-3),
                                    "duty": pytest.approx(1 - expert["airborne_fraction"], abs=1e-3)}


def test_no_gait_schedule_when_the_frequency_matches_or_the_expert_never_flies(tmp_path, bouncing_clip, expert):
    traj = matching_traj(tmp_path / "trajectory.npz", expert, amp_m=expert["bounce_amplitude"] * BL * 2)
    c = run_critic(tmp_path, bouncing_clip, traj, terms_code("forward_velocity", "vertical_bounce", "airborne"))
    assert "vertical_bounce" in items(c, "rewrite") and "gait_schedule" not in items(c, "new")
    clip = tmp_path / "glide.mp4"
    write_video(clip, disc_video(n=75, bounce_px=0.0), FPS)
    e = descriptors_from_clip(clip)
    assert e["airborne_fraction"] < 0.02
    traj = matching_traj(tmp_path / "flying.npz", e, air_frac=0.4, amp_m=0.05, hz=1.0)
    c = run_critic(tmp_path, clip, traj, terms_code("forward_velocity", "takeoff", "flight", "gait_schedule",
                                                    "bounce_clock"))
    assert {"takeoff", "flight", "gait_schedule", "bounce_clock"} <= set(items(c, "remove"))


def test_components_from_train_log_and_dominant_alive_removed(tmp_path, bouncing_clip, expert):
    assert expert["airborne_fraction"] >= 0.3
    log = tmp_path / "train_log.csv"
    log.write_text("epoch,env_steps,mean_return,reward/forward_velocity,reward/alive,reward/vertical_bounce\n"
                   "1,1000,5.0,0.1,0.9,0.05\n2,2000,6.0,0.1,1.0,0.05\n")
    traj = matching_traj(tmp_path / "trajectory.npz", expert, air_frac=0.0)
    llm_code = "import torch\ndef compute_reward(root_linvel):\n    return root_linvel[:, 0], {}\n"
    c = run_critic(tmp_path, bouncing_clip, traj, llm_code, train_log=log)
    assert set(items(c, "remove")) == {"alive"}
    # the robot never flies, the expert does: the jump itself is asked for (push and flight), with
    # the expert's flight time (its airborne share of each bounce period)
    flight = expert["airborne_fraction"] / expert["bounce_frequency"]
    assert items(c, "new") == {
        "airborne": {"target_fraction": pytest.approx(expert["airborne_fraction"], abs=1e-3)},
        "takeoff": {"target_vz": pytest.approx(9.81 * flight / 2, rel=1e-3)},
        "flight": {"flight_time": pytest.approx(flight, rel=1e-3)},
    }
    assert "train_log columns" in c.raw_text


def test_expert_without_bounce_removes_vertical_bounce(tmp_path):
    clip = tmp_path / "glide.mp4"
    write_video(clip, disc_video(n=75, bounce_px=0.0), FPS)
    e = descriptors_from_clip(clip)
    traj = matching_traj(tmp_path / "trajectory.npz", e, amp_m=0.1, hz=2.0)
    c = run_critic(tmp_path, clip, traj, terms_code("forward_velocity", "vertical_bounce"))
    assert set(items(c, "remove")) == {"vertical_bounce"}
    assert any(i.component == "vertical_bounce" for i in c.problems)


def test_robot_only_checks_flip_and_drift(tmp_path, bouncing_clip, expert):
    traj = matching_traj(tmp_path / "trajectory.npz", expert, flipped=True, lateral_mps=0.3)
    c = run_critic(tmp_path, bouncing_clip, traj, terms_code("forward_velocity", "vertical_bounce", "airborne"))
    assert set(items(c, "new")) == {"upright", "lateral_drift"}
    assert {i.component for i in c.problems} == {"upright", "lateral_drift"}


def test_critique_roundtrips_json(tmp_path, bouncing_clip, expert):
    traj = matching_traj(tmp_path / "trajectory.npz", expert, speed_mps=0.0)
    c = run_critic(tmp_path, bouncing_clip, traj, terms_code("alive"))
    c.save(tmp_path / "critique.json", tmp_path / "critique.md")
    back = Critique.load(tmp_path / "critique.json")
    assert back.new[0].component == "forward_velocity" and back.gap == pytest.approx(c.gap)


def test_terms_parsing():
    assert terms_from_code(terms_code("alive", "height")) == {"alive": {"scale": 1.0}, "height": {"scale": 1.0}}
    assert terms_from_code("TERMS = ['alive']\n") == {"alive": {}}
    assert terms_from_code("def f(): pass\n") is None
    assert terms_from_code("this is not python(") is None
    t = current_terms("x = 1\n", None)
    assert t.names == set() and t.source == "none"
    big_alive = current_terms('TERMS = {"alive": {"scale": 2.0}, "forward_velocity": {"scale": 1.0}}', None)
    assert big_alive.dominant("alive") and not big_alive.dominant("forward_velocity")


def test_dominant_alive_from_terms_scale_is_removed(tmp_path, bouncing_clip, expert):
    traj = matching_traj(tmp_path / "trajectory.npz", expert, air_frac=0.0)
    code = ('TERMS = {"forward_velocity": {"scale": 1.0}, "vertical_bounce": {"scale": 1.0}, '
            '"airborne": {"scale": 0.5}, "alive": {"scale": 3.0}}\n')
    c = run_critic(tmp_path, bouncing_clip, traj, code)
    assert set(items(c, "remove")) == {"alive"}
    assert items(c, "rewrite") == {"airborne": {"target_fraction": pytest.approx(expert["airborne_fraction"], abs=1e-3)}}


def test_gap_terms_cap_each_descriptor_and_weight_frequency_by_bounce_size():
    expert = {"speed": 0.4, "bounce_amplitude": 0.12, "bounce_frequency": 0.7,
              "airborne_fraction": 0.2, "height_ratio": 0.9}
    robot = dict(expert, speed=5.0, bounce_amplitude=0.04, bounce_frequency=2.0)
    terms = gap_terms(expert, robot)
    assert terms["speed"] == GAP_CAP  # 18 scales off, capped
    # a bounce a third the size of the expert's: its frequency difference counts a third
    assert terms["bounce_frequency"] == pytest.approx(min(1.3 / 0.5, GAP_CAP) / 3)
    assert gap_terms(expert, expert) == {k: 0.0 for k in terms}


def test_unchanged_targets_that_still_miss_raise_the_term_weight():
    from vidreward.critic.checks import _put
    from vidreward.critic.reward_terms import RewardTerms
    from vidreward.critic.base import Critique

    terms = RewardTerms(names={"vertical_bounce"},
                        params={"vertical_bounce": {"scale": 0.5, "amplitude": 0.17, "frequency": 0.67}})
    crit = Critique()
    _put(crit, terms, "vertical_bounce", "Bounce 0.17 m at 0.67 Hz.", {"amplitude": 0.17, "frequency": 0.67})
    [item] = crit.rewrite
    assert item.params == {"scale": 1.0} and "0.5 -> 1" in item.text
    crit = Critique()
    _put(crit, terms, "vertical_bounce", "Bounce 0.2 m.", {"amplitude": 0.2, "frequency": 0.67})
    assert crit.rewrite[0].params == {"amplitude": 0.2, "frequency": 0.67}  # a real change is kept
    terms.params["vertical_bounce"]["scale"] = 4.0
    crit = Critique()
    _put(crit, terms, "vertical_bounce", "Bounce 0.17 m at 0.67 Hz.", {"amplitude": 0.17, "frequency": 0.67})
    assert crit.rewrite == []  # at the maximum weight there is nothing left to ask


def test_robot_flying_too_much_drops_flight_reward_and_adds_ground_contact(tmp_path, bouncing_clip, expert):
    too_much = min(expert["airborne_fraction"] + 0.4, 0.9)
    traj = matching_traj(tmp_path / "trajectory.npz", expert, air_frac=too_much)
    c = run_critic(tmp_path, bouncing_clip, traj, terms_code("forward_velocity", "airborne"))
    assert "airborne" in items(c, "remove")
    assert items(c, "new").get("ground_contact") == {}
    assert any(p.component == "airborne" for p in c.problems)


def test_fast_hops_ask_for_bounce_clock_instead_of_vertical_bounce(tmp_path):
    # an expert hopping at 1.8 Hz, in the air most of the time: the bounce follows the policy's clock
    clip = tmp_path / "hops.mp4"
    write_video(clip, disc_video(hz=1.8), FPS)
    e = AnalyticCritic().expert_descriptors(clip)
    assert e["bounce_frequency"] == pytest.approx(1.8, abs=0.1) and e["airborne_fraction"] >= 0.3
    traj = matching_traj(tmp_path / "trajectory.npz", e, amp_m=0.0)
    c = run_critic(tmp_path, clip, traj, terms_code("forward_velocity", "vertical_bounce", "airborne"))
    new = items(c, "new")
    assert new["bounce_clock"] == {"amplitude": pytest.approx(e["bounce_amplitude"] * BL, rel=1e-3),
                                   "frequency": pytest.approx(e["bounce_frequency"], rel=1e-3)}
    # the clocked terms agree on the frequency (the policy observes one clock)
    assert new["gait_schedule"]["frequency"] == new["bounce_clock"]["frequency"]
    assert "vertical_bounce" in items(c, "remove") and "vertical_bounce" not in items(c, "rewrite")
    # the same hops at 1.0 Hz keep the phase-free vertical_bounce
    slow = tmp_path / "slow.mp4"
    write_video(slow, disc_video(hz=1.0), FPS)
    e = AnalyticCritic().expert_descriptors(slow)
    c = run_critic(tmp_path, slow, matching_traj(tmp_path / "slow.npz", e, amp_m=0.0),
                   terms_code("forward_velocity", "vertical_bounce", "airborne"))
    assert "vertical_bounce" in items(c, "rewrite") and "bounce_clock" not in items(c, "new")


def test_crouch_asks_for_a_height_kernel_that_pays_the_standing_robot():
    # the motion suite's crawl: torso at 0.67 of standing height, no bounce; the robot stands. The
    # height term must still pay where the robot is, or PPO has no gradient toward the crouch.
    import torch

    from vidreward.critic.checks import compare
    from vidreward.critic.reward_terms import RewardTerms
    from vidreward.reward.loader import load_reward_source
    from vidreward.reward.sample_state import sample_state
    from vidreward.reward.terms import render_reward_code
    from vidreward.sim.robots import get_robot

    spec = get_robot("ant")
    sh = float(spec.standing_height)
    expert = {"speed": 0.31, "bounce_amplitude": 0.006, "bounce_frequency": 0.0,
              "airborne_fraction": 0.0, "height_ratio": 0.67}
    robot = {**expert, "height_ratio": 1.0}
    crit = Critique(backend="analytic")
    compare(crit, expert, robot, {"lateral_speed_body": 0.0, "upright_fraction": 1.0},
            RewardTerms(names={"forward_velocity"}), float(spec.body_length), sh)
    params = items(crit, "new")["height"]
    assert params["target_height"] == pytest.approx(0.67 * sh, rel=1e-3)
    fn = load_reward_source(render_reward_code({"height": {"scale": 1.0, **params}}), origin="crawl.py")
    state = sample_state("ant", num_envs=3, seed=0)
    state["root_pos"] = torch.tensor([[0.0, 0.0, z] for z in (0.67 * sh, sh, 1.2 * sh)])
    at_target, standing, tall = fn(state)[1]["height"].tolist()
    assert at_target == pytest.approx(1.0, abs=1e-4)
    assert standing == pytest.approx(math.exp(-1.0), rel=1e-3)  # was exp(-3.3) with a 0.1 m kernel
    assert 0.0 < tall < standing
