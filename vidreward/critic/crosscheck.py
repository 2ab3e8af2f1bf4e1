"""Cross-check of the robot's two measurements: its rendered rollout video against its trajectory.

In descriptor units, the two agree when |video - trajectory| <= the ``XCHECK_*`` tolerance
(:func:`xcheck_tolerance`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidreward.critic.motion import BOUNCE_MIN, DESCRIPTOR_KEYS

XCHECK_SPEED_ABS, XCHECK_SPEED_REL = 0.10, 0.25  # body lengths/s + share of the trajectory's speed
XCHECK_AMP_ABS = 0.03  # body lengths
XCHECK_FREQ_ABS = 0.30  # Hz (compared only when both sides bounce, amplitude >= BOUNCE_MIN)
XCHECK_AIR_ABS = 0.10  # fraction of the time
XCHECK_HEIGHT_ABS = 0.08  # height ratio
XCHECK_TRAVEL_MIN = 0.08  # body lengths/s: below this the trajectory gives no travel direction

XCHECK_UNITS = {"speed": "body lengths/s", "bounce_amplitude": "body lengths", "bounce_frequency": "Hz",
                "airborne_fraction": "of the time airborne", "height_ratio": "of full height"}


def value_text(key: str, x: float) -> str:
    """A descriptor's value with its unit, for the notes of the cross-check."""
    if key == "airborne_fraction":
        return f"{x:.0%} {XCHECK_UNITS[key]}"
    return f"{x:.3f} {XCHECK_UNITS[key]}" if key == "bounce_amplitude" else f"{x:.2f} {XCHECK_UNITS[key]}"


def xcheck_tolerance(key: str, trajectory: float) -> float:
    """How far the video's value may be from the trajectory's for the two to agree."""
    if key == "speed":
        return XCHECK_SPEED_ABS + XCHECK_SPEED_REL * abs(trajectory)
    return {"bounce_amplitude": XCHECK_AMP_ABS, "bounce_frequency": XCHECK_FREQ_ABS,
            "airborne_fraction": XCHECK_AIR_ABS, "height_ratio": XCHECK_HEIGHT_ABS}[key]


def cross_check(video: dict[str, float], video_unknown: dict[str, str], video_failed: str | None,
                trajectory: dict[str, float], diag: dict[str, float], body_length: float
                ) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    """(robot descriptors for the comparison, cross-check record).

    Each descriptor is the rollout video's where the video shows it (the expert is measured from
    video too), else the trajectory's. Both are in body lengths: the extractor's body length (the
    longer side of the subject's box) is what the robot's ``body_length`` is defined as (the larger
    extent of its standing side-view silhouette). Speed: the video measures ground speed in any
    direction and cannot tell which way the robot faces, so the cross-check compares it with the
    trajectory's ground speed (forward and sideways), and the comparison uses the video's speed
    times the trajectory's forward share of it (its sign: backwards stays negative; sideways drift
    does not count as forward travel). Bounce frequencies are compared only when both sides bounce.
    """
    ground_bl = float(np.hypot(diag["forward_speed_mps"], diag["lateral_speed_mps"])) / body_length
    if ground_bl >= XCHECK_TRAVEL_MIN:
        forward_share = trajectory["speed"] / ground_bl
    else:
        forward_share = 1.0  # the trajectory gives no direction: what the video shows counts as forward
    traj_side = dict(trajectory, speed=ground_bl)
    robot: dict[str, float] = {}
    record: dict[str, dict[str, Any]] = {}
    for key in DESCRIPTOR_KEYS:
        t = traj_side[key]
        v = video.get(key)
        name = key.replace("_", " ")
        if v is None:
            robot[key] = trajectory[key]
            why = (f"the rollout video could not be analysed ({video_failed})" if video_failed else
                   f"the rollout video cannot show it ({video_unknown.get(key, 'not measured')})")
            record[key] = {"video": None, "trajectory": t, "agree": None,
                           "note": f"{why}: compared using the trajectory's value ({value_text(key, t)})."}
            continue
        robot[key] = v * forward_share if key == "speed" else v
        if key == "bounce_frequency" and (video.get("bounce_amplitude", 0.0) >= BOUNCE_MIN) != (
                trajectory["bounce_amplitude"] >= BOUNCE_MIN):
            record[key] = {"video": v, "trajectory": t, "agree": None,
                           "note": "not compared: only one of video and trajectory shows a bounce (see "
                                   "bounce_amplitude); compared using the video's value."}
            continue
        agree = bool(abs(v - t) <= xcheck_tolerance(key, t))
        if agree:
            note = (f"video {value_text(key, v)}, trajectory {value_text(key, t)}: agree within "
                    f"{xcheck_tolerance(key, t):.2f}.")
        else:
            note = (f"the video shows {name} {value_text(key, v)} but the trajectory says "
                    f"{value_text(key, t)}: the render or the measurement is off; this descriptor is "
                    "compared using the video's value.")
            if key == "speed":
                note += " (The trajectory's speed here is its ground speed, forward and sideways.)"
            elif key == "height_ratio":
                note += (" (The video's ratio is relative to the tallest posture in the video, the "
                         "trajectory's to the standing height: a robot that never stands up fully "
                         "reads taller on video.)")
        record[key] = {"video": v, "trajectory": t, "agree": agree, "note": note}
    return robot, record
