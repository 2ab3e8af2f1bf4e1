"""The camera of each clip over time: fixed, panning, tracking, shaky (hand-held jitter) or
zooming, aimed from ``ELEVATION_DEG`` above the ground."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vidreward.perception.suite.kinematics import Kinematics, euler_small, look_mat
from vidreward.perception.suite.specs import ClipSpec


ELEVATION_DEG = 30.0


FOVY_DEG = 45.0


ZOOM_FOVY = (50.0, 26.0)


@dataclass
class CameraPath:
    pos: np.ndarray  # [T, 3]
    mat: np.ndarray  # [T, 3, 3] columns right, up, backward
    fovy: np.ndarray  # [T] degrees


def _jitter(rng: np.random.Generator, t: np.ndarray, rms: float, k: int = 3) -> np.ndarray:
    freqs = rng.uniform(0.3, 2.5, size=k)
    amps = rng.uniform(0.5, 1.0, size=k)
    phases = rng.uniform(0, 2 * np.pi, size=k)
    x = (amps[None] * np.sin(2 * np.pi * freqs[None] * t[:, None] + phases[None])).sum(1)
    return x * rms / np.sqrt((amps ** 2).sum() / 2)


def camera_path(spec: ClipSpec, kin: Kinematics, size: tuple[int, int]) -> CameraPath:
    t, track = kin.t, kin.track
    n = len(t)
    w, h = size
    el = math.radians(ELEVATION_DEG)
    fwd0 = np.array([0.0, math.cos(el), -math.sin(el)])
    base = 3.2 if spec.subject == "quadruped" else 5.0
    fovy = np.full(n, FOVY_DEG)
    if spec.camera == "zoom":
        s = 0.5 - 0.5 * np.cos(np.pi * np.clip(t / max(t[-1], 1e-9), 0, 1))
        fovy = ZOOM_FOVY[0] + (ZOOM_FOVY[1] - ZOOM_FOVY[0]) * s
    target_z = kin.target_z
    mid = np.array([(track[:, 0].min() + track[:, 0].max()) / 2,
                    (track[:, 1].min() + track[:, 1].max()) / 2, target_z])

    if spec.camera in ("fixed", "zoom", "panning"):
        dist = base
        if spec.camera != "panning":
            tan_h = (w / h) * math.tan(math.radians(float(fovy.min())) / 2)
            half_w = np.abs(track[:, 0] - mid[0]).max() + 0.7 * max(kin.body_length, 0.6)
            depth = np.abs(track[:, 1] - mid[1]).max()
            dist = max(base, half_w / tan_h * 1.05, (depth + 0.6 * base) / math.cos(el))
        pos0 = mid - dist * fwd0
        pos = np.repeat(pos0[None], n, 0)
        if spec.camera == "panning":
            mats = []
            for p in track:
                d = np.array([p[0] - pos0[0], p[1] - pos0[1]])
                d /= np.linalg.norm(d)
                hz = math.cos(el)
                mats.append(look_mat(np.array([d[0] * hz, d[1] * hz, -math.sin(el)])))
            mat = np.stack(mats)
        else:
            mat = np.repeat(look_mat(fwd0)[None], n, 0)
        return CameraPath(pos, mat, fovy)

    # tracking / shaky
    tgt = np.concatenate([track, np.full((n, 1), target_z)], 1)
    pos = tgt - base * fwd0
    mat = np.repeat(look_mat(fwd0)[None], n, 0)
    if spec.camera == "shaky":
        rng = np.random.default_rng(spec.rng_seed + 1)
        pos = pos + np.stack([_jitter(rng, t, 0.03) for _ in range(3)], 1)
        ang = np.stack([_jitter(rng, t, math.radians(1.2)) for _ in range(3)], 1)
        mat = np.stack([m @ euler_small(*a) for m, a in zip(mat, ang)])
    return CameraPath(pos, mat, fovy)
