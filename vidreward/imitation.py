"""One 0-1 imitation score: how closely a robot's motion descriptors match an expert's.

Every method (the bi-level loop with any critic, the oracle upper bound, baselines) is scored with
this one function, so numbers are comparable across methods. The descriptors are those of
:mod:`vidreward.critic.motion` (``DESCRIPTOR_KEYS``: speed in body lengths/s, bounce amplitude in
body lengths, bounce frequency in Hz, airborne fraction, height ratio), the scales its
``GAP_SCALES`` (one source of truth with the critic's ``gap``).

Formula. Over the compared descriptors ``K`` (those of ``DESCRIPTOR_KEYS`` that both sides
define, non-null)::

    z_k   = (robot[k] - expert[k]) / GAP_SCALES[k]
    z_f  *= w,  w = min(|a_r|, |a_e|) / max(|a_r|, |a_e|)   (0 when both are 0)
    score = (1 / |K|) * sum_k exp(-z_k ** 2)

where ``f`` is ``bounce_frequency`` and ``a_r``, ``a_e`` the two ``bounce_amplitude`` values:
the frequency of a bounce counts in proportion to how comparable the two bounces are, exactly as
in :func:`vidreward.critic.motion.gap_terms` (when either side lacks ``bounce_amplitude``,
``w = 1``). Each descriptor then contributes 1 when equal, ``exp(-1) = 0.368`` one scale away,
``exp(-4) = 0.018`` two scales away; unlike ``gap`` no cap is needed. The score is 1 for identical
descriptors, strictly decreasing in each ``|z_k|``, and in (0, 1].

Example: expert and robot equal except the speed, 0.25 body lengths/s (one scale) apart, all five
descriptors compared: ``score = (4 + exp(-1)) / 5 = 0.8736``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from vidreward.critic.motion import DESCRIPTOR_KEYS, GAP_SCALES
from vidreward.errors import CritiqueError


def _value(side: str, key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CritiqueError(f"imitation score: {side} descriptor {key!r} must be a finite number, "
                            f"got {value!r}")
    return float(value)


def imitation_terms(expert: dict[str, Any], robot: dict[str, Any]) -> dict[str, float]:
    """Per compared descriptor, its similarity ``exp(-z_k ** 2)`` in (0, 1] (module docstring).
    Keys outside ``DESCRIPTOR_KEYS`` and null values are ignored; raises ``CritiqueError`` when no
    descriptor is compared or a value is not a finite number."""
    e = {k: _value("expert", k, expert.get(k)) for k in DESCRIPTOR_KEYS}
    r = {k: _value("robot", k, robot.get(k)) for k in DESCRIPTOR_KEYS}
    keys = [k for k in DESCRIPTOR_KEYS if e[k] is not None and r[k] is not None]
    if not keys:
        have_e = sorted(k for k in e if e[k] is not None)
        have_r = sorted(k for k in r if r[k] is not None)
        raise CritiqueError(f"imitation score: no descriptor in common (expert has {have_e}, robot has "
                            f"{have_r}; known: {list(DESCRIPTOR_KEYS)})")
    z = {k: (r[k] - e[k]) / GAP_SCALES[k] for k in keys}
    if "bounce_frequency" in z and e["bounce_amplitude"] is not None and r["bounce_amplitude"] is not None:
        a_r, a_e = abs(r["bounce_amplitude"]), abs(e["bounce_amplitude"])
        z["bounce_frequency"] *= min(a_r, a_e) / max(a_r, a_e) if max(a_r, a_e) > 0 else 0.0
    return {k: math.exp(-z[k] * z[k]) for k in keys}


def imitation_score(expert: dict[str, Any], robot: dict[str, Any]) -> float:
    """The 0-1 imitation score of ``robot``'s descriptors against ``expert``'s (module docstring):
    the mean of :func:`imitation_terms`. 1 = identical descriptors."""
    terms = imitation_terms(expert, robot)
    return float(sum(terms.values()) / len(terms))


def imitation_score_from_truth(truth_path: str | Path, trajectory_path: str | Path,
                               robot: str | None = None) -> float:
    """The score of a rollout ``trajectory.npz`` against a clip's truth file (``*.truth.json``,
    read by :func:`vidreward.critic.oracle.read_truth`): the expert's descriptors are the truth's,
    the robot's :func:`vidreward.critic.motion.descriptors_from_trajectory` with ``robot``'s body
    length and standing height (``None``: the robot the trajectory names) and the truth's airborne
    clearance. Only the descriptors the truth defines are compared."""
    from vidreward.critic.motion import descriptors_from_trajectory, robot_dims
    from vidreward.critic.oracle import read_truth

    truth = read_truth(truth_path)
    dims = robot_dims(robot) if robot else (None, None)
    robot_side = descriptors_from_trajectory(trajectory_path, *dims, truth.airborne_clearance)
    return imitation_score(truth.known, robot_side)
