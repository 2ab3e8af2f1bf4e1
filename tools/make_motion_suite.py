"""Render the ground-truth motion clip suite (vidreward.perception.suite).

Usage:
    python tools/make_motion_suite.py --out data/motion_suite [--only NAME ...] [--size 320x240]
                                      [--fps 30] [--seconds 6] [--jobs 2] [--list]
    python tools/make_motion_suite.py --extract-mocap [--motion-dir data/motion]
    python tools/make_motion_suite.py --extract-deepmimic [--pybullet-data DIR] [--motion-dir ...]

Each clip gets ``<name>.mp4``, ``<name>.truth.json`` (the truth contract, documented in
vidreward/perception/suite/) and ``<name>.truth.npz`` (per-frame world trajectory).

``--extract-mocap`` regenerates the shipped human motion in ``data/motion/*.npz`` from the CMU BVH
files of Debian's ``assimp-testmodels`` package (needed only for that step, never at run time):
joint world positions from vidreward.video.bvh (forward kinematics), metres, z up, floor at z = 0,
resampled to 30 Hz.

``--extract-deepmimic`` writes ``data/motion/deepmimic_run.npz`` (same keys) from the DeepMimic
running clip and humanoid shipped in the PyPI wheel ``pybullet`` (its ``pybullet_data`` folder:
``pip install --target /tmp/pb pybullet``, then ``--pybullet-data /tmp/pb/pybullet_data``; needed only
for that step, never at run time): forward kinematics of the humanoid's URDF in numpy, the joints
stored under the suite's (CMU) joint names, see data/motion/SOURCES.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import vidreward  # noqa: E402,F401  (headless GL before mujoco)
from vidreward.perception import suite  # noqa: E402
from vidreward.perception.suite.human import H_HEAD_TOP  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from make_shipped_clips import _find_debian_file as _debian_file  # noqa: E402

CMU_UNIT_M = 0.0254 / 0.45  # CMU ASF/AMC length unit (cgspeed BVH keeps it): 1/0.45 inch
MOCAP_FPS = 30.0
# (output stem, BVH file, take start s, take end s)
MOCAP_SEGMENTS = (
    ("cmu_01_01", "BVH/01_01.bvh", 1.0, 16.6),
    ("cmu_01_03", "BVH/01_03.bvh", 0.0, 2.6),
)
STANDING_REF = ("BVH/01_01.bvh", 0.0, 1.0)  # subject 01 standing still at the start of take 01_01


def _take_positions(bvh_path: Path):
    """All joints of a take: (names, parents, fps, positions [F, J, 3] metres, z up)."""
    from vidreward.video.bvh import forward_kinematics, load_bvh

    motion = load_bvh(bvh_path)
    pos = forward_kinematics(motion) * CMU_UNIT_M
    # BVH is y up (x, y, z) -> right-handed z up (x, -z, y): a rotation of +90 deg about x.
    pos = np.stack([pos[..., 0], -pos[..., 2], pos[..., 1]], -1)
    return [j.name for j in motion.joints], [j.parent for j in motion.joints], motion.fps, pos


def _resample(pos: np.ndarray, src_fps: float, start: float, end: float) -> np.ndarray:
    src_t = np.arange(len(pos)) / src_fps
    t = start + np.arange(int(round((end - start) * MOCAP_FPS))) / MOCAP_FPS
    flat = pos.reshape(len(pos), -1)
    out = np.stack([np.interp(t, src_t, flat[:, k]) for k in range(flat.shape[1])], 1)
    return out.reshape(len(t), pos.shape[1], 3)


def _on_floor(pos: np.ndarray, names: list[str]) -> np.ndarray:
    """Frames with the hips below 1.15 m: on the floor (not mid-jump, not on take 01_03's climbing
    frame)."""
    return pos[:, names.index("Hips"), 2] < 1.15


def extract_mocap(motion_dir: Path) -> list[Path]:
    """Write data/motion/<stem>.npz for every MOCAP_SEGMENTS entry.

    Floor and feet: in take 01_01 seconds 0-1 subject 01 stands still. The floor (z = 0) is put at
    the median, over those frames, of the lowest point of the lower foot as the suite draws it
    (capsules), so the standing feet touch the drawn floor. ``foot_ref`` keeps each foot joint's
    height standing still; the suite measures a foot's height as min over its joints of (height -
    standing height). Other takes of the same subject get the floor at the median of the lower
    foot's height over their on-floor frames.
    """
    motion_dir.mkdir(parents=True, exist_ok=True)
    ref_path = _debian_file("assimp-testmodels", STANDING_REF[0])
    names, _, fps, ref = _take_positions(ref_path)
    still = _resample(ref, fps, STANDING_REF[1], STANDING_REF[2])
    ground_ref = float(np.median(suite.human_foot_heights(still, names).min(1)))
    still[..., 2] -= ground_ref
    foot_ref = np.array([[np.median(still[:, names.index(j), 2]) for j in suite.H_FEET[side]]
                         for side in ("L", "R")])
    standing_hip = float(np.median(still[:, names.index("Hips"), 2]))
    standing_height = float(np.median(suite.human_top(still, names)))
    written = []
    for stem, rel, start, end in MOCAP_SEGMENTS:
        bvh = _debian_file("assimp-testmodels", rel)
        names, parents, fps, pos = _take_positions(bvh)
        if rel == STANDING_REF[0]:
            ground = ground_ref
        else:
            low = suite.human_foot_heights(pos, names, foot_ref).min(1)
            ground = float(np.median(low[_on_floor(pos, names)]))
        seg = _resample(pos, fps, start, end)
        seg[..., 2] -= ground
        keep = [i for i, n in enumerate(names) if "Finger" not in n and "Thumb" not in n]
        remap = {old: new for new, old in enumerate(keep)}
        out = motion_dir / f"{stem}.npz"
        np.savez_compressed(
            out,
            positions=seg[:, keep].astype(np.float32),
            names=np.array([names[i] for i in keep]),
            parents=np.array([remap.get(parents[i], -1) for i in keep], dtype=np.int16),
            fps=np.float64(MOCAP_FPS),
            take_start_s=np.float64(start),
            ground_offset_m=np.float64(ground),
            foot_ref=foot_ref,
            standing_hip_height=np.float64(standing_hip),
            standing_height=np.float64(standing_height),
            source=np.array(f"CMU Graphics Lab Motion Capture Database, subject 01, take "
                            f"{bvh.stem} (cgspeed BVH, {bvh} from Debian assimp-testmodels)"),
        )
        written.append(out)
        print(f"{out}: {len(seg)} frames, {len(keep)} joints, take {start}-{end} s, "
              f"{out.stat().st_size / 1024:.0f} KiB; floor offset {ground:+.3f} m")
    print(f"standing (01_01 0-1 s): hips {standing_hip:.3f} m, height {standing_height:.3f} m, "
          f"foot joints {np.round(foot_ref, 3).tolist()}")
    return written


# DeepMimic's running clip and humanoid, from the pybullet wheel's pybullet_data. DeepMimic loads the
# humanoid at globalScaling 0.25 (pybullet_envs/deep_mimic/env/humanoid_stable_pd.py); a frame is
# [duration, root xyz, root quaternion wxyz, then per joint in DEEPMIMIC_DOFS order a quaternion wxyz
# or a 1-dof angle about the joint's z]; y up, x forward (the direction the clip runs), z right.
DEEPMIMIC_CLIP = "data/motions/humanoid3d_run.txt"
DEEPMIMIC_URDF = "humanoid/humanoid.urdf"
DEEPMIMIC_SCALE = 0.25
DEEPMIMIC_DOFS = (("chest", 4), ("neck", 4), ("right_hip", 4), ("right_knee", 1), ("right_ankle", 4),
                  ("right_shoulder", 4), ("right_elbow", 1), ("left_hip", 4), ("left_knee", 1),
                  ("left_ankle", 4), ("left_shoulder", 4), ("left_elbow", 1))
DEEPMIMIC_STRIDES = 8  # 8 x 0.8 s: a 6 s clip from any start in the first 0.35 s
DEEPMIMIC_BLEND = (5, 11)  # frames of a half stride over which its end is blended: the flight phase
DEEPMIMIC_NECK_SPHERE = (0.175, 0.1025)  # head: the neck link's sphere (centre above the joint, radius)
# The suite's joints (the CMU names human.py draws and measures) as points of the DeepMimic humanoid:
# (name, parent, link, offset in the link's frame, m). Per side ({S}: Left/Right, {s}: left/right;
# the offset's z is negated on the left). Feet: the ankle link's box spans 4.4 cm behind the ankle to
# 13.4 cm ahead, sole 5 cm below it; the toe points put the drawn foot capsules' undersides on the sole.
DEEPMIMIC_HEAD = 0.08  # suite "Head" point above the neck joint
DEEPMIMIC_POINTS = (
    ("Hips", None, "root", (0, 0, 0)),
    ("Spine", "Hips", "chest", (0, 0, 0)),
    ("Spine1", "Spine", "chest", (0, 0.17, 0)),
    ("Neck1", "Spine1", "neck", (0, 0, 0)),
    ("Head", "Neck1", "neck", (0, DEEPMIMIC_HEAD, 0)),
    # Head_end: the drawn head capsule's top (H_HEAD_TOP) at the top of the neck sphere
    ("Head_end", "Head", "neck",
     (0, DEEPMIMIC_HEAD + (sum(DEEPMIMIC_NECK_SPHERE) - H_HEAD_TOP[3] - DEEPMIMIC_HEAD)
      / H_HEAD_TOP[2], 0)),
)
DEEPMIMIC_LIMB_POINTS = (
    ("{S}UpLeg", "Hips", "{s}_hip", (0, 0, 0)),
    ("{S}Leg", "{S}UpLeg", "{s}_knee", (0, 0, 0)),
    ("{S}Foot", "{S}Leg", "{s}_ankle", (0, 0, 0)),
    ("{S}ToeBase", "{S}Foot", "{s}_ankle", (0.09, -0.005, 0)),
    ("{S}ToeBase_end", "{S}ToeBase", "{s}_ankle", (0.115, -0.02, 0)),
    ("{S}Shoulder", "Spine1", "chest", (-0.02, 0.2, 0.05)),
    ("{S}Arm", "{S}Shoulder", "{s}_shoulder", (0, 0, 0)),
    ("{S}ForeArm", "{S}Arm", "{s}_elbow", (0, 0, 0)),
    ("{S}Hand", "{S}ForeArm", "{s}_wrist", (0, 0, 0)),
)


def _deepmimic_points() -> list[tuple[str, str | None, str, np.ndarray]]:
    rows = [(n, p, link, np.array(off, float)) for n, p, link, off in DEEPMIMIC_POINTS]
    for side, sign in (("Left", -1.0), ("Right", 1.0)):
        for n, p, link, off in DEEPMIMIC_LIMB_POINTS:
            fill = {"S": side, "s": side.lower()}
            rows.append((n.format(**fill), p.format(**fill), link.format(**fill),
                         np.array(off, float) * [1, 1, sign]))
    return rows


def _urdf_joints(path: Path) -> dict[str, tuple[str, np.ndarray]]:
    """Joint (= child link) name -> (parent link, origin in the parent's frame, m), URDF order."""
    import xml.etree.ElementTree as ET

    robot = ET.fromstring(path.read_bytes().replace(b"\0", b"").decode())
    out = {}
    for j in robot.findall("joint"):
        if j.find("origin").get("rpy").split() != ["0", "0", "0"]:
            raise ValueError(f"{path}: joint {j.get('name')} has a rotated origin (not handled)")
        xyz = np.array([float(v) for v in j.find("origin").get("xyz").split()]) * DEEPMIMIC_SCALE
        out[j.find("child").get("link")] = (j.find("parent").get("link"), xyz)
    return out


def _deepmimic_fk(frames: np.ndarray, joints: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Link -> (world origin [F, 3], rotation [F, 3, 3]) for DeepMimic frames [F, 44] (y up)."""
    from vidreward.sim.base import quat_to_mat

    def quat(q):
        return quat_to_mat(q / np.linalg.norm(q, axis=1, keepdims=True))

    local = {}
    for name, i, k in _dofs():
        v = frames[:, i:i + k]
        if k == 4:
            local[name] = quat(v)
        else:  # revolute about the joint's z (the knees and elbows)
            c, s, z, o = np.cos(v[:, 0]), np.sin(v[:, 0]), np.zeros(len(v)), np.ones(len(v))
            local[name] = np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1),
                                    np.stack([z, z, o], -1)], -2)
    links = {"base": (frames[:, 1:4], quat(frames[:, 4:8]))}
    for link, (parent, xyz) in joints.items():  # URDF order: parents first
        p, r = links[parent]
        rot = r @ local[link] if link in local else r
        links[link] = (p + r @ xyz, rot)
    return links


def _mirror_frame(f: np.ndarray) -> np.ndarray:
    """A DeepMimic frame reflected left-right (z -> -z, left and right joints swapped)."""
    g = f.copy()
    g[3] = -f[3]
    g[4:8] = f[4:8] * [1, -1, -1, 1]
    start = {name: i for name, i, _ in _dofs()}
    for name, i, k in _dofs():
        j = start[name.replace("left_", "@").replace("right_", "left_").replace("@", "right_")]
        g[i:i + k] = f[j:j + k] * ([1, -1, -1, 1] if k == 4 else 1)
    return g


def _dofs() -> list[tuple[str, int, int]]:
    """(joint, start, size) of every joint's rotation in a DeepMimic frame (after the root's)."""
    out, i = [], 8
    for name, k in DEEPMIMIC_DOFS:
        out.append((name, i, k))
        i += k
    return out


def _rotations() -> list[tuple[int, int]]:
    """(start, size) of every rotation in a DeepMimic frame: the root quaternion, then the joints."""
    return [(4, 4)] + [(i, k) for _, i, k in _dofs()]


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    (w1, x1, y1, z1), (w2, x2, y2, z2) = np.moveaxis(a, -1, 0), np.moveaxis(b, -1, 0)
    return np.stack([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2], -1)


def _qpow(q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Unit quaternion ``q`` (shortest arc) raised to the powers ``s`` [K]: [K, 4]."""
    q = q / np.linalg.norm(q) * (1 if q[0] >= 0 else -1)
    half = np.arccos(np.clip(q[0], -1.0, 1.0))
    axis = q[1:] / max(np.linalg.norm(q[1:]), 1e-12)
    return np.concatenate([np.cos(s * half)[:, None], np.sin(s * half)[:, None] * axis], 1)


def _deepmimic_run_frames(clip: dict) -> tuple[np.ndarray, float]:
    """The clip as a seamless run of DEEPMIMIC_STRIDES strides: frames [F, 44], frame rate.

    The clip's 25 frames are a half stride (frames 0-11), its exact mirror image (12-23) and frame
    24, which follows frame 23 smoothly and matches DeepMimic's loop point (frame 0 advanced by the
    cycle offset, frame 24 - frame 0) in the root and the stance leg but not in the swing leg and
    arms (up to 0.22 m apart: the capture is not exactly periodic). DeepMimic's 0.8 s wrap loop jumps
    across that mismatch twice per stride (at 11 -> 12 within one frame step, at the wrap in no
    time). Here each half stride is frames 0-11 followed by the mirror image of frame 24, with the
    mismatch to the next half's first frame blended in over DEEPMIMIC_BLEND, the flight phase, where
    no foot is on the ground to slip (joint rotations slerped by a share easing from 0 to 1, knee
    and elbow angles linearly): a seamless loop with DeepMimic's timing (a stride of 24 frame steps,
    0.8 s) and root path.
    """
    f = np.asarray(clip["Frames"], float)
    dt = float(f[0, 0])
    if len(f) != 25 or not np.allclose(np.stack([_mirror_frame(g) for g in f[:12]])[:, 2:],
                                       f[12:24, 2:], atol=1e-6):
        raise ValueError("humanoid3d_run.txt is not the 25-frame mirrored half-stride clip expected")
    half = np.concatenate([f[:12], _mirror_frame(f[24])[None]])
    half[12, 1:4] = f[12, 1:4]  # the root where the next half starts
    u = np.clip((np.arange(13) - DEEPMIMIC_BLEND[0]) / (DEEPMIMIC_BLEND[1] - DEEPMIMIC_BLEND[0]), 0, 1)
    share = u * u * (3 - 2 * u)
    for i, k in _rotations():
        if k == 4:
            delta = _qmul(half[12, i:i + 4] * [1, -1, -1, -1], f[12, i:i + 4])
            half[:, i:i + 4] = _qmul(half[:, i:i + 4], _qpow(delta, share))
        else:
            half[:, i] += share * (f[12, i] - half[12, i])
    step = f[12, 1] - f[0, 1]  # root advance per half stride
    halves = [half[:12] if k % 2 == 0 else np.stack([_mirror_frame(g) for g in half[:12]])
              for k in range(2 * DEEPMIMIC_STRIDES)]
    frames = np.concatenate(halves)
    frames[:, 1] += np.repeat(np.arange(2 * DEEPMIMIC_STRIDES) * step, 12)
    return frames, 1.0 / dt


def extract_deepmimic(motion_dir: Path, data_dir: Path | None = None) -> Path:
    """Write data/motion/deepmimic_run.npz from pybullet_data's DeepMimic running clip.

    Positions: forward kinematics of the DeepMimic humanoid (checked against pybullet's to 1e-7 m),
    the suite's points per DEEPMIMIC_POINTS, DeepMimic (x, y, z) -> (x, -z, y) (z up, x the running
    direction), resampled to 30 Hz. Standing: the humanoid's zero pose (upright, arms down, feet
    flat, soles on the floor) gives ``foot_ref``, ``standing_hip_height`` and ``standing_height``.
    Floor: DeepMimic's ground is y = 0; z = 0 is put at the median, over the frames with a foot on
    the ground (lower foot within 5 cm of DeepMimic's ground), of the lower foot's height.
    """
    import json

    if data_dir is None:
        try:
            import pybullet_data
        except ImportError as exc:
            raise SystemExit("pybullet_data not importable: pip install --target /tmp/pb pybullet "
                             "and pass --pybullet-data /tmp/pb/pybullet_data") from exc
        data_dir = Path(pybullet_data.getDataPath())
    clip_path, urdf_path = data_dir / DEEPMIMIC_CLIP, data_dir / DEEPMIMIC_URDF
    clip = json.loads(clip_path.read_text())
    joints = _urdf_joints(urdf_path)
    frames, src_fps = _deepmimic_run_frames(clip)
    points = _deepmimic_points()
    names = [p[0] for p in points]

    def positions(fr: np.ndarray) -> np.ndarray:
        links = _deepmimic_fk(fr, joints)
        pos = np.stack([links[link][0] + links[link][1] @ off for _, _, link, off in points], 1)
        return np.stack([pos[..., 0], -pos[..., 2], pos[..., 1]], -1)  # y up -> z up

    zero = np.zeros((1, frames.shape[1]))  # every rotation the identity, every angle 0
    zero[0, [i for i, k in _rotations() if k == 4]] = 1
    still = positions(zero)
    still[..., 2] -= float(suite.human_foot_heights(still, names).min())  # soles on the floor
    foot_ref = np.array([[still[0, names.index(j), 2] for j in suite.H_FEET[side]] for side in ("L", "R")])
    standing_hip = float(still[0, names.index("Hips"), 2])
    standing_height = float(suite.human_top(still, names)[0])
    pos = positions(frames)
    low = suite.human_foot_heights(pos, names, foot_ref).min(1)
    ground = float(np.median(low[low < 0.05]))
    seg = _resample(pos, src_fps, 0.0, (len(pos) - 1) / src_fps)
    seg[..., 2] -= ground
    out = motion_dir / "deepmimic_run.npz"
    motion_dir.mkdir(parents=True, exist_ok=True)
    stride_s = 24 / src_fps
    np.savez_compressed(
        out,
        positions=seg.astype(np.float32),
        names=np.array(names),
        parents=np.array([names.index(p[1]) if p[1] else -1 for p in points], dtype=np.int16),
        fps=np.float64(MOCAP_FPS),
        take_start_s=np.float64(0.0),
        ground_offset_m=np.float64(ground),
        foot_ref=foot_ref,
        standing_hip_height=np.float64(standing_hip),
        standing_height=np.float64(standing_height),
        standing_ref=np.array("the DeepMimic humanoid's zero pose"),
        stride_s=np.float64(stride_s),
        body_points=np.array([f"{link} {np.round(off, 4).tolist()}" for _, _, link, off in points]),
        source=np.array(f"DeepMimic motion capture (running), {clip_path.relative_to(data_dir.parent)} "
                        f"of the PyPI wheel pybullet, on the DeepMimic humanoid ({DEEPMIMIC_URDF}); "
                        f"looped {DEEPMIMIC_STRIDES} strides of {stride_s:.3f} s"),
    )
    print(f"{out}: {len(seg)} frames, {len(names)} joints, {out.stat().st_size / 1024:.0f} KiB; "
          f"floor offset {ground:+.3f} m; standing hips {standing_hip:.3f} m, height "
          f"{standing_height:.3f} m, foot joints {np.round(foot_ref, 3).tolist()}")
    return out


def _one(args):
    name, out, size, fps, seconds = args
    t0 = time.perf_counter()
    doc = suite.write_clip(name, out, size=size, fps=fps, seconds=seconds)
    return name, doc, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "motion_suite")
    ap.add_argument("--only", nargs="+", metavar="NAME")
    ap.add_argument("--size", default="320x240", help="WxH, both even")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--list", action="store_true", help="list the clip specs and exit")
    ap.add_argument("--extract-mocap", action="store_true",
                    help="regenerate data/motion/*.npz from Debian assimp-testmodels and exit")
    ap.add_argument("--extract-deepmimic", action="store_true",
                    help="regenerate data/motion/deepmimic_run.npz from pybullet_data and exit")
    ap.add_argument("--pybullet-data", type=Path, metavar="DIR",
                    help="pybullet_data folder of the pybullet wheel (default: import pybullet_data)")
    ap.add_argument("--motion-dir", type=Path, default=suite.MOTION_DIR)
    a = ap.parse_args(argv)
    if a.extract_mocap:
        extract_mocap(a.motion_dir)
        return 0
    if a.extract_deepmimic:
        extract_deepmimic(a.motion_dir, a.pybullet_data)
        return 0
    if a.list:
        for s in suite.SPECS:
            print(f"{s.name:34s} {s.subject:9s} {s.motion:9s} {s.camera:8s} {s.background}")
        return 0
    try:
        w, h = (int(v) for v in a.size.lower().split("x"))
    except ValueError:
        ap.error(f"--size must look like 320x240, got {a.size!r}")
    names = a.only or [s.name for s in suite.SPECS]
    for n in names:
        try:
            suite.get_spec(n)
        except KeyError as exc:
            ap.error(str(exc))
    jobs = [(n, a.out, (w, h), a.fps, a.seconds) for n in names]
    t0 = time.perf_counter()
    results = []
    if a.jobs > 1 and len(jobs) > 1:
        import multiprocessing as mp

        with ProcessPoolExecutor(a.jobs, mp_context=mp.get_context("spawn")) as ex:
            for r in ex.map(_one, jobs):
                results.append(r)
                print(f"{r[0]:34s} {r[2]:5.1f} s  {json.dumps(r[1]['truth'])}", flush=True)
    else:
        for j in jobs:
            r = _one(j)
            results.append(r)
            print(f"{r[0]:34s} {r[2]:5.1f} s  {json.dumps(r[1]['truth'])}", flush=True)
    print(f"{len(results)} clips in {time.perf_counter() - t0:.1f} s -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
