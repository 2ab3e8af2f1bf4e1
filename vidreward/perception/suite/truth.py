"""The truth of a clip, computed from its kinematics and camera by the definitions in
:mod:`vidreward.perception.suite`."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from vidreward.perception.suite.kinematics import Kinematics
from vidreward.perception.suite.specs import ClipSpec


AIRBORNE_M = 0.02


STILL_BL_S = 0.05


BOUNCE_MIN_BL = 0.02


VEL_HALF_WINDOW_S = 0.25


def _detrend(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    a = np.vstack([t, np.ones_like(t)]).T
    coef, *_ = np.linalg.lstsq(a, x, rcond=None)
    return x - a @ coef


def _periodogram(signals: np.ndarray, t: np.ndarray, fmin: float, fmax: float = 6.0,
                 step: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """Fine-grid periodogram summed over columns of ``signals`` [T, K] (each detrended)."""
    freqs = np.arange(fmin, fmax + 1e-9, step)
    x = np.stack([_detrend(s, t) for s in np.atleast_2d(signals.T)], 1)  # [T, K]
    e = np.exp(-2j * np.pi * np.outer(freqs, t))  # [F, T]
    power = (np.abs(e @ x) ** 2).sum(1) * (2.0 / len(t)) ** 2  # amplitude^2 of a sinusoid
    return freqs, power


def _fmin(seconds: float) -> float:
    return max(0.3, 1.5 / seconds)


def _dominant_frequency(x: np.ndarray, t: np.ndarray) -> float:
    freqs, power = _periodogram(x[:, None], t, _fmin(t[-1] - t[0] + (t[1] - t[0])))
    return float(freqs[int(np.argmax(power))])


def _velocity(t: np.ndarray, xy: np.ndarray, fps: float) -> np.ndarray:
    k = max(int(round(VEL_HALF_WINDOW_S * fps)), 1)
    n = len(t)
    i0 = np.clip(np.arange(n) - k, 0, n - 1)
    i1 = np.clip(np.arange(n) + k, 0, n - 1)
    dt = np.maximum(t[i1] - t[i0], 1e-9)
    return (xy[i1] - xy[i0]) / dt[:, None]


def motion_truth(t: np.ndarray, root_pos: np.ndarray, yaw: np.ndarray, torso_height: np.ndarray,
                 foot_heights: np.ndarray, foot_rel: np.ndarray, cam_mat: np.ndarray,
                 body_length: float, standing_torso_z: float, fps: float,
                 camera: str) -> dict[str, Any]:
    """The ``truth`` block of the contract (see module docstring) from per-frame kinematics."""
    bl = float(body_length)
    seconds = len(t) / fps
    v = _velocity(t, root_pos[:, :2], fps)
    speed = float(np.linalg.norm(v, axis=1).mean()) / bl
    right = cam_mat[:, :2, 0]
    fwd = -cam_mat[:, :2, 2]
    right = right / np.maximum(np.linalg.norm(right, axis=1, keepdims=True), 1e-9)
    fwd = fwd / np.maximum(np.linalg.norm(fwd, axis=1, keepdims=True), 1e-9)
    moving = speed >= STILL_BL_S
    direction = None
    axis = "none"
    if moving:
        vr, vf = (v * right).sum(1).mean(), (v * fwd).sum(1).mean()
        direction = round(math.degrees(math.atan2(vf, vr)), 2)
        heading = np.stack([np.cos(yaw), np.sin(yaw)], 1)
        lateral = np.stack([-np.sin(yaw), np.cos(yaw)], 1)
        ang = math.degrees(math.atan2((v * lateral).sum(1).mean(), (v * heading).sum(1).mean()))
        axis = "forward" if abs(ang) <= 45 else "backward" if abs(ang) >= 135 else "sideways"
    a = np.vstack([t, np.ones_like(t)]).T
    turn = float(np.linalg.lstsq(a, np.degrees(yaw), rcond=None)[0][0])
    zd = _detrend(torso_height, t)
    amp = float(np.ptp(zd) / 2) / bl
    freq = _dominant_frequency(torso_height, t) if amp >= BOUNCE_MIN_BL else 0.0
    airborne = float(np.mean(np.all(foot_heights > AIRBORNE_M, axis=1)))
    sig = foot_rel.reshape(len(t), -1)
    freqs, power = _periodogram(sig, t, _fmin(seconds))
    best = int(np.argmax(power))
    var = sum(float(np.var(_detrend(s, t))) for s in sig.T)
    # per-signal amplitude of the best sinusoid at the peak frequency
    e = np.exp(-2j * np.pi * freqs[best] * t)
    amps = np.abs(np.stack([_detrend(s, t) for s in sig.T], 1).T @ e) * 2 / len(t)
    explained = float(power[best] / 2) / max(var, 1e-12)
    cadence = round(float(freqs[best]), 3) if (amps.max() / bl >= 0.02 and explained >= 0.25) else None
    return {
        "direction_deg": direction,
        "speed_bl_s": round(speed, 4),
        "turn_rate_deg_s": round(turn, 2),
        "bounce_amplitude_bl": round(amp, 4),
        "bounce_frequency_hz": round(freq, 3),
        "airborne_fraction": round(airborne, 4),
        "cadence_hz": cadence,
        "height_ratio": round(float(np.median(torso_height)) / standing_torso_z, 4),
        "axis_motion": axis,
        "camera_motion": camera,
    }


def clip_truth(spec: ClipSpec, kin: Kinematics, arrays: dict[str, np.ndarray], fps: float,
               size: tuple[int, int]) -> dict[str, Any]:
    truth = motion_truth(arrays["t"], arrays["root_pos"], arrays["yaw"], arrays["torso_height"],
                         arrays["foot_heights"], arrays["foot_rel"], arrays["cam_mat"],
                         kin.body_length, kin.standing_torso_z, fps, spec.camera)
    script = {k: v for k, v in asdict(spec).items()
              if k not in ("name", "subject", "motion", "camera", "background") and v not in (None, "")}
    script.update({k: round(float(v), 4) for k, v in kin.extra.items()})
    doc = {
        "name": spec.name,
        "subject": spec.subject,
        "motion": spec.motion,
        "camera": spec.camera,
        "background": spec.background,
        "fps": fps,
        "seconds": round(len(arrays["t"]) / fps, 4),
        "frames": int(len(arrays["t"])),
        "size": [int(size[0]), int(size[1])],
        "body_length_m": round(kin.body_length, 4),
        "body_length_def": kin.body_length_def,
        # the airborne rule's clearance (AIRBORNE_M) in body lengths: a robot measured against
        # this truth clears its own ground by the same share of its own body length
        "airborne_clearance_bl": round(AIRBORNE_M / kin.body_length, 4),
        "standing_torso_height_m": round(kin.standing_torso_z, 4),
        "truth": truth,
        "spec": script,
    }
    if kin.source:
        doc["source"] = kin.source
    return doc
