"""Render the ground-truth motion clip suite (vidreward.perception.suite).

Usage:
    python tools/make_motion_suite.py --out data/motion_suite [--only NAME ...] [--size 320x240]
                                      [--fps 30] [--seconds 6] [--jobs 2] [--list]
    python tools/make_motion_suite.py --extract-mocap [--motion-dir data/motion]

Each clip gets ``<name>.mp4``, ``<name>.truth.json`` (the truth contract, documented in
vidreward/perception/suite/) and ``<name>.truth.npz`` (per-frame world trajectory).

``--extract-mocap`` regenerates the shipped human motion in ``data/motion/*.npz`` from the CMU BVH
files of Debian's ``assimp-testmodels`` package (needed only for that step, never at run time):
joint world positions from vidreward.video.bvh (forward kinematics), metres, z up, floor at z = 0,
resampled to 30 Hz.
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
    ap.add_argument("--motion-dir", type=Path, default=suite.MOTION_DIR)
    a = ap.parse_args(argv)
    if a.extract_mocap:
        extract_mocap(a.motion_dir)
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
