"""People of the suite: motion capture (shipped in ``data/motion/``: CMU takes, a DeepMimic run),
the drawn body (capsules per bone), heading, feet and head top.

Every shipped file stores its joints under the same names (the CMU BVH skeleton's, below); a file
from another skeleton maps its joints onto them when it is extracted (tools/make_motion_suite.py)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from vidreward.perception.suite.kinematics import Kinematics, rotz, smooth
from vidreward.perception.suite.specs import ClipSpec, MOTION_DIR


H_FOOT_R, H_TOE_R = 0.045, 0.03


H_SHIRT = (0.42, 0.44, 0.50, 1)


H_TROUSERS = (0.36, 0.30, 0.25, 1)


H_SKIN = (0.76, 0.60, 0.50, 1)


H_SHOE = (0.20, 0.19, 0.20, 1)


# (from joint, to joint, radius, colour); a joint name with "@a:b:f" means a + f * (b - a)
H_BONES: tuple[tuple[str, str, float, tuple], ...] = (
    ("LeftUpLeg", "RightUpLeg", 0.10, H_TROUSERS),
    ("Hips", "Spine", 0.125, H_SHIRT),
    ("Spine", "Spine1", 0.13, H_SHIRT),
    ("LeftArm", "RightArm", 0.065, H_SHIRT),
    ("Spine1", "Neck1", 0.05, H_SKIN),
    ("Neck1", "Head", 0.05, H_SKIN),
    ("@Head:Head_end:0.25", "@Head:Head_end:0.7", 0.095, H_SKIN),
    ("LeftShoulder", "LeftArm", 0.06, H_SHIRT),
    ("RightShoulder", "RightArm", 0.06, H_SHIRT),
    ("LeftArm", "LeftForeArm", 0.05, H_SHIRT),
    ("RightArm", "RightForeArm", 0.05, H_SHIRT),
    ("LeftForeArm", "LeftHand", 0.04, H_SKIN),
    ("RightForeArm", "RightHand", 0.04, H_SKIN),
    ("LeftHand", "@LeftHand:LeftForeArm:-0.45", 0.035, H_SKIN),
    ("RightHand", "@RightHand:RightForeArm:-0.45", 0.035, H_SKIN),
    ("LeftUpLeg", "LeftLeg", 0.075, H_TROUSERS),
    ("RightUpLeg", "RightLeg", 0.075, H_TROUSERS),
    ("LeftLeg", "LeftFoot", 0.055, H_TROUSERS),
    ("RightLeg", "RightFoot", 0.055, H_TROUSERS),
    ("LeftFoot", "LeftToeBase", H_FOOT_R, H_SHOE),
    ("RightFoot", "RightToeBase", H_FOOT_R, H_SHOE),
    ("LeftToeBase", "LeftToeBase_end", H_TOE_R, H_SHOE),
    ("RightToeBase", "RightToeBase_end", H_TOE_R, H_SHOE),
)


H_HEAD_TOP = ("Head", "Head_end", 0.7, 0.095)  # head capsule top end and radius


H_FEET = {"L": ("LeftFoot", "LeftToeBase", "LeftToeBase_end"),
          "R": ("RightFoot", "RightToeBase", "RightToeBase_end")}


def load_mocap(stem: str, motion_dir: Path | None = None) -> dict[str, Any]:
    """Shipped mocap segment ``data/motion/<stem>.npz`` (see data/motion/SOURCES.md)."""
    path = (motion_dir or MOTION_DIR) / f"{stem}.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: shipped mocap missing (regenerate with "
                                f"tools/make_motion_suite.py --extract-mocap)")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files} | {"path": str(path)}


def joint(pos: np.ndarray, names: list[str], key: str) -> np.ndarray:
    """Positions [T, 3] of joint ``key`` or an interpolated point ``@a:b:f``."""
    if key.startswith("@"):
        a, b, f = key[1:].split(":")
        pa, pb = pos[:, names.index(a)], pos[:, names.index(b)]
        return pa + float(f) * (pb - pa)
    return pos[:, names.index(key)]


def human_yaw(pos: np.ndarray, names: list[str]) -> np.ndarray:
    """Body heading [T] (rad): perpendicular to the left-right hip axis, pointing forward."""
    lr = pos[:, names.index("LeftUpLeg")] - pos[:, names.index("RightUpLeg")]
    return np.unwrap(np.arctan2(-lr[:, 0], lr[:, 1]))


def human_foot_heights(pos: np.ndarray, names: list[str],
                       foot_ref: np.ndarray | None = None) -> np.ndarray:
    """Height [T, 2] of the left and right foot above the floor.

    With ``foot_ref`` ([2, 3]: standing-still heights of ankle, toe base and toe tip per side) a
    foot's height is min over its three joints of (joint height - standing height): 0 when any part
    of it is as low as when standing. Without it: the lowest point of the drawn foot capsules.
    """
    out = []
    for i, side in enumerate(("L", "R")):
        z = [pos[:, names.index(j), 2] for j in H_FEET[side]]
        if foot_ref is not None:
            out.append(np.min([zj - foot_ref[i, k] for k, zj in enumerate(z)], axis=0))
        else:
            out.append(np.minimum(np.minimum(z[0], z[1]) - H_FOOT_R, z[2] - H_TOE_R))
    return np.stack(out, 1)


def human_top(pos: np.ndarray, names: list[str]) -> np.ndarray:
    a, b, f, r = H_HEAD_TOP
    top = joint(pos, names, f"@{a}:{b}:{f}")
    return top[:, 2] + r


def human_kinematics(spec: ClipSpec, fps: float, seconds: float,
                      motion_dir: Path | None = None) -> Kinematics:
    mo = load_mocap(spec.mocap, motion_dir)
    names = [str(s) for s in mo["names"]]
    src_fps = float(mo["fps"])
    pos_all = mo["positions"].astype(np.float64)
    src_t = np.arange(len(pos_all)) / src_fps
    avail = src_t[-1] - spec.mocap_start_s
    if spec.mocap_max_s is not None:
        avail = min(avail, spec.mocap_max_s)
    seconds = min(seconds, avail)
    n = int(math.floor(seconds * fps + 1e-6))
    t = np.arange(n) / fps
    ts = spec.mocap_start_s + t
    flat = pos_all.reshape(len(pos_all), -1)
    pos = np.stack([np.interp(ts, src_t, flat[:, k]) for k in range(flat.shape[1])], 1)
    pos = pos.reshape(n, len(names), 3)
    # Rotate about z so the initial facing is spec.heading_deg; centre the path on the origin.
    yaw0 = float(np.median(human_yaw(pos[: max(int(0.5 * fps), 1)], names)))
    rot = rotz(math.radians(spec.heading_deg) - yaw0)
    root = pos[:, names.index("Hips")]
    centre = np.array([(root[:, 0].min() + root[:, 0].max()) / 2,
                       (root[:, 1].min() + root[:, 1].max()) / 2, 0.0])
    pos = np.einsum("ij,tkj->tki", rot, pos - centre)
    root = pos[:, names.index("Hips")]
    track = smooth(root[:, :2], int(round(fps)))
    return Kinematics(
        t=t, track=track, joints=pos, joint_names=names,
        target_z=0.9, body_length=float(mo["standing_height"]),
        body_length_def="standing height: floor to top of head while standing still "
                        f"({str(mo.get('standing_ref', 'CMU 01_01'))})",
        standing_torso_z=float(mo["standing_hip_height"]),
        extra={"foot_ref": mo["foot_ref"]},
        source=str(mo["source"]) + f"; segment from {float(mo['take_start_s']) + spec.mocap_start_s:.2f} s "
                                   f"of the take, {seconds:.2f} s",
    )
