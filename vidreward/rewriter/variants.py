"""K distinct reward candidates from one set of reward terms: the analytic rewriter's search moves.

The first candidate is the edit as the critique (or the task) asks for it. The others explore
around it, in this order, until ``k`` candidates exist that are distinct from each other and from
every candidate tried earlier in the run (``SearchHistory.tried``):

1. a line search over the ``scale`` of the term that matters most (the term behind the largest
   normalised gap between robot and expert, :func:`key_terms`): x2, x0.5, x4, x0.25, x8 ...;
2. its targets pushed past the expert's values (x1.25, then x1.5: a reward that asks for a bit
   more than the clip often gets the clip), and pulled back (x0.8);
3. the same line search on the second term that matters;
4. a different term set: without the effort penalty ``action_cost``, or without the ``alive``
   bonus (which pays for standing still);
5. combinations: larger steps of the key term's scale (x16 ...) until enough exist.

Each variant is a terms dict (rendered to code by the caller) with a one-line label saying what it
changes relative to the first candidate.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from vidreward.critic.motion import gap_terms
from vidreward.reward.terms import check_param, complete_terms

Terms = dict[str, dict[str, Any]]

DESCRIPTOR_TERMS = {
    # descriptor -> reward terms that act on it, the most direct first
    "airborne_fraction": ("takeoff", "flight", "airborne", "gait_schedule", "ground_contact"),
    "bounce_frequency": ("gait_schedule", "vertical_bounce"),
    "bounce_amplitude": ("vertical_bounce", "takeoff", "flight"),
    "speed": ("forward_velocity", "heading_velocity"),
    "height_ratio": ("height", "posture"),
}
TARGET_PARAMS = {
    # term -> its parameters that say how much of the behaviour to ask for
    "forward_velocity": ("target_speed",),
    "heading_velocity": ("target_speed",),
    "vertical_bounce": ("amplitude",),
    "airborne": ("target_fraction",),
    "takeoff": ("target_vz",),
    "flight": ("flight_time",),
}
COST_TERMS = ("action_cost", "alive")
SCALE_STEPS = (2.0, 0.5, 4.0, 0.25, 8.0)
TARGET_STEPS = (1.25, 1.5, 0.8)


def key_terms(terms: Terms, descriptors: dict[str, dict[str, float]] | None,
              fallback: tuple[str, ...] = ()) -> list[str]:
    """The reward's terms ordered by how much the behaviour they act on is off: the descriptor
    with the largest normalised gap first (its most direct term the reward has), then the rest;
    without descriptors, ``fallback`` order then the reward's own order (costs last)."""
    order: list[str] = []
    expert, robot = (descriptors or {}).get("expert"), (descriptors or {}).get("robot")
    if expert and robot:
        try:
            ranked = sorted(gap_terms(expert, robot).items(), key=lambda kv: -abs(kv[1]))
        except Exception:  # noqa: BLE001 - descriptors a model critic left incomplete
            ranked = []
        for descriptor, _ in ranked:
            for name in DESCRIPTOR_TERMS.get(descriptor, ()):
                if name in terms and name not in order:
                    order.append(name)
                    break
    for name in list(fallback) + list(terms):
        if name in terms and name not in order and name not in COST_TERMS + ("upright",):
            order.append(name)
    return order


def _scaled(terms: Terms, name: str, factor: float) -> Terms | None:
    out = copy.deepcopy(terms)
    value, problem = check_param(name, "scale", round(float(out[name].get("scale", 1.0)) * factor, 6))
    if problem or value is None or value == out[name].get("scale"):
        return None
    out[name]["scale"] = value
    return out


def _targets(terms: Terms, name: str, factor: float) -> Terms | None:
    out = copy.deepcopy(terms)
    changed = False
    for key in TARGET_PARAMS.get(name, ()):
        old = out[name].get(key)
        if not isinstance(old, (int, float)) or old == 0:
            continue
        value, problem = check_param(name, key, round(float(old) * factor, 6))
        if problem is None and value is not None and value != old:
            out[name][key] = value
            changed = True
    return out if changed else None


def _without(terms: Terms, name: str) -> Terms | None:
    if name not in terms or len(terms) <= 2:
        return None
    out = copy.deepcopy(terms)
    del out[name]
    return out


def variants(base: Terms, keys: list[str]) -> Iterator[tuple[Terms, str]]:
    """(terms, label) of the first candidate and then of each search move, in the documented
    order; moves that change nothing (a bound reached, no such term) are left out. Missing
    parameters of ``base`` take the library defaults first, so a scale step is relative to the
    scale the code will have."""
    base = complete_terms(copy.deepcopy(base), origin="search base terms")
    yield copy.deepcopy(base), "as asked"
    moves: list[tuple[Callable[[], Terms | None], str]] = []
    first = keys[0] if keys else None
    second = keys[1] if len(keys) > 1 else None
    if first:
        moves += [(_bind(_scaled, base, first, f), f"{first} scale x{f:g}") for f in SCALE_STEPS]
        moves += [(_bind(_targets, base, first, f), f"{first} targets x{f:g}") for f in TARGET_STEPS]
    if second:
        moves += [(_bind(_scaled, base, second, f), f"{second} scale x{f:g}") for f in SCALE_STEPS[:3]]
        moves += [(_bind(_targets, base, second, f), f"{second} targets x{f:g}") for f in TARGET_STEPS[:1]]
    moves += [(_bind(_without, base, c), f"without {c}") for c in COST_TERMS]
    if first:
        for j in itertools.count(4):
            if j > 12:
                break
            for f in (2.0 ** j, 2.0 ** -j):
                moves.append((_bind(_scaled, base, first, f), f"{first} scale x{f:g}"))
    for make, label in moves:
        terms = make()
        if terms is not None:
            yield terms, label


def _bind(fn, *args):
    return lambda: fn(*args)


def pick(candidates: Iterator[tuple[Terms, str]], render: Callable[[Terms, str], str],
         digest: Callable[[str], str], k: int, tried: set[str]) -> list[tuple[str, str]]:
    """The first ``k`` (code, label) whose code is new: not an earlier pick, not in ``tried``."""
    seen = set(tried)
    picked: list[tuple[str, str]] = []
    for terms, label in candidates:
        code = render(terms, label)
        d = digest(code)
        if d in seen:
            continue
        seen.add(d)
        picked.append((code, label))
        if len(picked) == k:
            break
    return picked
