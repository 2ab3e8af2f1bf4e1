"""Ground-truth motion clip suite (vidreward.perception.suite): specs, rendering, truth, CLI."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from vidreward.perception import suite
from vidreward.perception.suite.kinematics import look_mat, rotz
from vidreward.video.io import read_video

SIZE = (160, 120)
FPS = 30.0
SECONDS = 2.0
CLIPS = (
    "quad_pronk_tracking_cluttered",
    "quad_walk_fixed_plain",
    "quad_turn_cw_shaky_checkered",
    "quad_toward_fixed_cluttered",
    "quad_sidestep_fixed_checkered",
    "human_jumps_tracking_cluttered",
    "human_run_tracking_checkered",
)
TRUTH_KEYS = {"direction_deg", "speed_bl_s", "turn_rate_deg_s", "bounce_amplitude_bl",
              "bounce_frequency_hz", "airborne_fraction", "cadence_hz", "height_ratio",
              "axis_motion", "camera_motion"}
TOP_KEYS = {"name", "subject", "motion", "camera", "background", "fps", "seconds", "size",
            "body_length_m", "truth"}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    out = tmp_path_factory.mktemp("motion_suite")
    docs = {n: suite.write_clip(n, out, size=SIZE, fps=FPS, seconds=SECONDS) for n in CLIPS}
    return out, docs


@pytest.fixture(scope="module")
def empty_frames() -> dict[str, np.ndarray]:
    """The same clips rendered with the subject hidden (same camera, same scene)."""
    return {n: suite.render_clip(n, size=SIZE, fps=FPS, seconds=SECONDS, hide_subject=True).frames
            for n in CLIPS}


def _read(path: Path) -> np.ndarray:
    frames, _ = read_video(path)
    return frames


def _subject_mask(frames: np.ndarray, empty: np.ndarray) -> np.ndarray:
    return np.abs(frames.astype(np.int16) - empty.astype(np.int16)).sum(-1) > 40


def test_specs_cover_the_matrix():
    specs = suite.SPECS
    assert len(specs) >= 14
    assert len({s.name for s in specs}) == len(specs)
    assert {s.camera for s in specs} == set(suite.CAMERAS)
    assert {s.background for s in specs} == set(suite.BACKGROUNDS)
    quad = {s.motion for s in specs if s.subject == "quadruped"}
    assert {"walk", "trot", "pronk", "sidestep", "turn", "backward", "crawl", "toward", "away"} <= quad
    turns = [s.yaw_rate_deg_s for s in specs if s.subject == "quadruped" and s.motion == "turn"]
    assert min(turns) < 0 < max(turns)
    humans = [s for s in specs if s.subject == "human"]
    assert len(humans) >= 2
    human_cams = {s.camera for s in humans}
    assert human_cams & {"tracking", "shaky"} and human_cams & {"fixed", "panning"}
    with pytest.raises(KeyError):
        suite.get_spec("no_such_clip")


def test_shipped_mocap_is_small_and_metric():
    for stem in ("cmu_01_01", "cmu_01_03"):
        path = suite.MOTION_DIR / f"{stem}.npz"
        assert path.stat().st_size < 300_000
        mo = suite.load_mocap(stem)
        names = [str(n) for n in mo["names"]]
        pos = mo["positions"]
        assert float(mo["fps"]) == 30.0 and pos.shape[1:] == (len(names), 3)
        assert 1.4 < float(mo["standing_height"]) < 1.9  # metres, z up
        feet = suite.human_foot_heights(pos.astype(float), names, mo["foot_ref"]).min(1)
        assert abs(float(np.median(feet))) < 0.03  # the floor is z = 0


def test_shipped_deepmimic_run_follows_the_mocap_contract():
    """data/motion/deepmimic_run.npz: the suite's joint names, a rigid skeleton, 30 Hz, >= 6 s of
    running along +x on a floor at z = 0 (tools/make_motion_suite.py --extract-deepmimic)."""
    from vidreward.perception.suite.human import H_BONES, H_HEAD_TOP

    path = suite.MOTION_DIR / "deepmimic_run.npz"
    assert path.stat().st_size < 300_000
    mo = suite.load_mocap("deepmimic_run")
    names = [str(n) for n in mo["names"]]
    refs = [k for a, b, *_ in H_BONES for k in (a, b)] + [*H_HEAD_TOP[:2], "Hips"]
    refs += [j for feet in suite.H_FEET.values() for j in feet]
    assert {n for k in refs for n in (k[1:].split(":")[:2] if k.startswith("@") else [k])} <= set(names)
    pos, parents = mo["positions"], mo["parents"]
    assert pos.dtype == np.float32 and pos.shape[1:] == (len(names), 3)
    assert float(mo["fps"]) == 30.0 and len(pos) / 30.0 >= 6.0
    assert parents[0] == -1 and all(0 <= p < i for i, p in enumerate(parents) if i)
    bones = np.linalg.norm(pos[:, 1:] - pos[:, parents[1:]], axis=2)
    assert np.ptp(bones, axis=0).max() < 1e-3  # forward kinematics of a rigid skeleton
    assert 1.5 < float(mo["standing_height"]) < 1.8 and 0.8 < float(mo["standing_hip_height"]) < 1.0
    hips = pos[:, names.index("Hips")].astype(float)
    assert 3.0 < (hips[-1, 0] - hips[0, 0]) / (len(pos) / 30.0) < 4.0  # runs along +x, m/s
    assert np.abs(hips[:, 1]).max() < 0.05
    feet = suite.human_foot_heights(pos.astype(float), names, mo["foot_ref"])
    low = feet.min(1)
    assert abs(float(np.median(low[low < 0.05]))) < 0.01 and low.min() > -0.03  # floor at the feet
    assert np.all(feet > 0.02, axis=1).mean() > 0.2  # flight between steps
    assert np.linalg.norm(np.diff(pos, axis=0), axis=2).max() < 0.35  # the loop is seamless
    assert "DeepMimic" in str(mo["source"]) and "standing_ref" in mo


def test_files_frames_and_contract(written):
    out, docs = written
    n_frames = int(round(SECONDS * FPS))
    for name in CLIPS:
        mp4, js, npz = (out / f"{name}{ext}" for ext in (".mp4", ".truth.json", ".truth.npz"))
        assert mp4.stat().st_size > 0 and js.exists() and npz.exists()
        frames = _read(mp4)
        assert frames.shape == (n_frames, SIZE[1], SIZE[0], 3)
        doc = json.loads(js.read_text())
        assert TOP_KEYS <= set(doc) and set(doc["truth"]) == TRUTH_KEYS
        assert doc["size"] == list(SIZE) and doc["fps"] == FPS and doc["seconds"] == SECONDS
        assert doc["truth"]["camera_motion"] == doc["camera"]
        with np.load(npz) as z:
            assert z["t"].shape == (n_frames,)
            assert z["root_pos"].shape == (n_frames, 3) and z["cam_mat"].shape == (n_frames, 3, 3)
            assert z["foot_heights"].shape[0] == n_frames and z["subject_px"].shape == (n_frames, 2)


def test_subject_visible(written, empty_frames):
    out, _ = written
    for name in CLIPS:
        frames = _read(out / f"{name}.mp4")
        mask = _subject_mask(frames, empty_frames[name])
        per_frame = mask.reshape(len(mask), -1).sum(1)
        assert per_frame.min() > 40, (name, per_frame.min())  # some 40+ pixels of subject each frame


def test_truth_matches_the_script(written):
    _, docs = written
    t = {n: d["truth"] for n, d in docs.items()}
    pronk = t["quad_pronk_tracking_cluttered"]
    assert pronk["airborne_fraction"] > 0.2
    assert pronk["bounce_frequency_hz"] == pytest.approx(1.6, abs=0.15)
    assert pronk["direction_deg"] == pytest.approx(0.0, abs=5) and pronk["axis_motion"] == "forward"
    walk = t["quad_walk_fixed_plain"]
    assert walk["airborne_fraction"] == 0.0 and walk["cadence_hz"] == pytest.approx(1.25, abs=0.15)
    assert walk["speed_bl_s"] == pytest.approx(0.5 / docs["quad_walk_fixed_plain"]["body_length_m"], rel=0.05)
    turn = t["quad_turn_cw_shaky_checkered"]
    assert turn["turn_rate_deg_s"] == pytest.approx(-60, abs=2)
    assert turn["direction_deg"] is None and turn["axis_motion"] == "none"
    toward = t["quad_toward_fixed_cluttered"]
    assert abs(toward["direction_deg"] + 90) < 10
    side = t["quad_sidestep_fixed_checkered"]
    assert side["axis_motion"] == "sideways" and side["direction_deg"] == pytest.approx(30, abs=10)
    body = docs["quad_walk_fixed_plain"]["body_length_m"]
    assert body == pytest.approx(suite.quad_body_length(), abs=1e-3)
    human = t["human_jumps_tracking_cluttered"]
    assert docs["human_jumps_tracking_cluttered"]["subject"] == "human"
    assert human["airborne_fraction"] > 0.05 and human["speed_bl_s"] > 0.1
    assert human["bounce_amplitude_bl"] > 0.05
    run, run_doc = t["human_run_tracking_checkered"], docs["human_run_tracking_checkered"]
    assert run_doc["subject"] == "human" and "DeepMimic" in run_doc["source"]
    assert run_doc["body_length_m"] == pytest.approx(1.62, abs=0.02)
    assert 1.8 < run["speed_bl_s"] < 2.6  # 3.55 m/s
    assert abs(abs(run["direction_deg"]) - 180) < 10 and run["axis_motion"] == "forward"  # screen left
    assert run["airborne_fraction"] > 0.2  # running has flight
    assert run["cadence_hz"] == pytest.approx(1.25, abs=0.1)  # 0.8 s strides
    assert run["bounce_frequency_hz"] == pytest.approx(2 * run["cadence_hz"], abs=0.2)  # one per step


def test_tracking_keeps_subject_centred_fixed_does_not(written, empty_frames):
    out, _ = written
    w, h = SIZE

    def centroids(name):
        mask = _subject_mask(_read(out / f"{name}.mp4"), empty_frames[name])
        ys, xs = np.mgrid[:h, :w]
        cnt = mask.reshape(len(mask), -1).sum(1)
        return np.stack([(mask * xs).reshape(len(mask), -1).sum(1) / cnt,
                         (mask * ys).reshape(len(mask), -1).sum(1) / cnt], 1)

    for name in ("quad_pronk_tracking_cluttered", "human_jumps_tracking_cluttered"):
        c = centroids(name)
        assert np.abs(c[:, 0] - w / 2).max() < 0.15 * w, name
        assert np.abs(c[:, 1] - h / 2).max() < 0.25 * h, name
        with np.load(out / f"{name}.truth.npz") as z:
            assert np.abs(z["subject_px"][:, 0] - w / 2).max() < 0.1 * w
    fixed = centroids("quad_walk_fixed_plain")
    assert np.ptp(fixed[:, 0]) > 0.25 * w
    with np.load(out / "quad_walk_fixed_plain.truth.npz") as z:  # projection agrees with the image
        assert np.abs(z["subject_px"][:, 0] - fixed[:, 0]).max() < 0.08 * w


def test_quadruped_feet_planted_in_stance(written):
    out, _ = written
    with np.load(out / "quad_walk_fixed_plain.truth.npz") as z:
        fh, rel, root, yaw = z["foot_heights"], z["foot_rel"], z["root_pos"], z["yaw"]
    assert fh.min() > -1e-3 and fh.max() > 0.04  # on the floor, lifted in swing
    world = root[:, None] + np.einsum("tij,tfj->tfi", rotz(yaw), rel)
    stance = (fh[1:] < 1e-3) & (fh[:-1] < 1e-3)
    slip = np.linalg.norm(world[1:, :, :2] - world[:-1, :, :2], axis=2)[stance]
    assert stance.mean() > 0.5 and slip.max() < 1e-3


def test_motion_truth_on_synthetic_kinematics():
    fps, n = 30.0, 180
    t = np.arange(n) / fps
    # Moving along world (1, 1) at 0.5 m/s, facing (1, 1); camera yawed so its right is (1, 1)/sqrt2:
    # seen from the camera that is straight screen right.
    d = np.array([1.0, 1.0]) / math.sqrt(2)
    root = np.zeros((n, 3))
    root[:, :2] = 0.5 * t[:, None] * d
    root[:, 2] = 0.4 + 0.05 * np.sin(2 * np.pi * 2.0 * t)
    yaw = np.full(n, math.pi / 4)
    cam = look_mat(np.array([-d[1], d[0], -0.5]))
    cam_mat = np.repeat(cam[None], n, 0)
    feet = np.zeros((n, 4))
    up = (t * 2.0) % 1 > 0.6  # all four feet up about a third of the time
    feet[up] = 0.1
    rel = np.zeros((n, 4, 3))
    rel[..., 0] = 0.1 * np.sin(2 * np.pi * 2.0 * t)[:, None]
    tr = suite.motion_truth(t, root, yaw, root[:, 2], feet, rel, cam_mat, body_length=1.0,
                            standing_torso_z=0.4, fps=fps, camera="fixed")
    assert tr["direction_deg"] == pytest.approx(0.0, abs=0.5)
    assert tr["speed_bl_s"] == pytest.approx(0.5, rel=0.02)
    assert tr["axis_motion"] == "forward" and tr["turn_rate_deg_s"] == pytest.approx(0.0, abs=1e-6)
    assert tr["bounce_amplitude_bl"] == pytest.approx(0.05, rel=0.1)
    assert tr["bounce_frequency_hz"] == pytest.approx(2.0, abs=0.02)
    assert tr["airborne_fraction"] == pytest.approx(up.mean(), abs=1e-3)
    assert tr["cadence_hz"] == pytest.approx(2.0, abs=0.02)
    assert tr["height_ratio"] == pytest.approx(1.0, abs=0.01)
    # Backward, spinning counter-clockwise, standing still variants.
    tr = suite.motion_truth(t, root, yaw + math.pi, root[:, 2], feet, rel, cam_mat, 1.0, 0.4, fps, "fixed")
    assert tr["axis_motion"] == "backward"
    still = np.repeat(root[:1], n, 0)
    tr = suite.motion_truth(t, still, 0.5 * t, still[:, 2], feet * 0, rel * 0, cam_mat, 1.0, 0.4, fps,
                            "fixed")
    assert tr["direction_deg"] is None and tr["axis_motion"] == "none" and tr["cadence_hz"] is None
    assert tr["turn_rate_deg_s"] == pytest.approx(math.degrees(0.5), abs=0.01)
    assert tr["bounce_frequency_hz"] == 0.0


def test_cli_writes_one_clip(tmp_path):
    path = Path(__file__).resolve().parents[1] / "tools" / "make_motion_suite.py"
    mod_spec = importlib.util.spec_from_file_location("make_motion_suite", path)
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    rc = mod.main(["--out", str(tmp_path), "--only", "quad_hop_fixed_checkered", "--size", "96x72",
                   "--seconds", "1", "--fps", "20", "--jobs", "1"])
    assert rc == 0
    doc = json.loads((tmp_path / "quad_hop_fixed_checkered.truth.json").read_text())
    assert doc["size"] == [96, 72] and doc["frames"] == 20
    assert _read(tmp_path / "quad_hop_fixed_checkered.mp4").shape == (20, 72, 96, 3)
