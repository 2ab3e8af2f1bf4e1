"""Shared kinematics of the suite: rotations, smoothing, and :class:`Kinematics` (the subject's
motion over time, whatever drives it)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import vidreward  # noqa: F401  (sets MUJOCO_GL before the first import of mujoco)
import mujoco  # noqa: E402



GRAVITY = 9.81


def rotz(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, float)
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def mat2quat(mat: np.ndarray) -> np.ndarray:
    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, np.ascontiguousarray(mat, dtype=np.float64).ravel())
    return q


def euler_small(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation in the camera's own frame: yaw about its up (y), pitch about right (x), roll about z."""
    cy, sy, cp, sp, cr, sr = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch), \
        math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def look_mat(forward: np.ndarray) -> np.ndarray:
    """Camera matrix (columns right, up, backward) looking along ``forward``, no roll."""
    f = forward / np.linalg.norm(forward)
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    return np.stack([right, up, -f], axis=1)


def smooth(x: np.ndarray, n: int) -> np.ndarray:
    """Moving average along axis 0 with edge padding (window ``n`` samples, odd)."""
    if n <= 1:
        return x.copy()
    n = n | 1
    pad = np.concatenate([np.repeat(x[:1], n // 2, 0), x, np.repeat(x[-1:], n // 2, 0)], 0)
    c = np.cumsum(np.concatenate([np.zeros_like(x[:1]), pad], 0), axis=0)
    return (c[n:] - c[:-n]) / n


@dataclass
class Kinematics:
    """Per-frame subject state used to build the camera path and clutter (before rendering)."""

    t: np.ndarray  # [T]
    track: np.ndarray  # [T, 2] smoothed horizontal position the cameras follow
    qpos: np.ndarray | None = None  # quadruped [T, nq]
    joints: np.ndarray | None = None  # human joint world positions [T, J, 3]
    joint_names: list[str] = field(default_factory=list)
    target_z: float = 0.4  # height the cameras aim at
    body_length: float = 1.0
    body_length_def: str = ""
    standing_torso_z: float = 1.0
    source: str = ""
    extra: dict = field(default_factory=dict)
