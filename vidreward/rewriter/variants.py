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

A speed-tracking term (``forward_velocity``, ``heading_velocity`` with a forward target) has one
more move, after its targets: reward the speed itself (``target_speed`` None, linear and clipped)
at twice the scale. A robot standing still earns nothing from that, where a Gaussian around the
target still pays it exp(-(target/sigma)^2). Measured on iteration 0 of the default run at 250k
env steps with its PPO settings (README, "What the default run does"), the linear x2 reward moved
the Ant at 1.32 and 0.73 m/s in two rollouts.

Flight costs speed control. On the default run (2026-12-04), 12 of the 16 candidates of
iterations 3 and 4 added ``airborne`` to an incumbent that paid for speed itself (linear). They
ran at 1.6-3.7x the clip's speed (0.61-1.39 against 0.37 body lengths/s), so the speed error ate
what the flight won. When the caller gives the clip's speed, and the reward pays speed itself,
every move therefore comes twice: as it is, and *capped*, where ``forward_velocity`` pays no more
above the clip's speed (``max_speed``). The analytic rewriter gives the clip's speed when the key
term is one the critique has just added.

Measured on those two iterations, rerun from the same incumbent:
- The capped moves' speeds were off the clip's by a median 0.08 body lengths/s. The plain moves'
  were off by 0.20.
- Each iteration's best candidate was a capped one: 0.583 and 0.528, against 0.618 and 0.665.
- Tracking the clip's speed instead (a Gaussian around it) slowed the robot to 0.07-0.22.

Iteration 0 has no measured gap, so no term is known to matter most: :func:`initial_variants`
takes the task's motion terms in turn (breadth first), the speed term opening with that move.

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
    "airborne_fraction": ("takeoff", "flight", "airborne", "bounce_clock", "gait_schedule", "ground_contact"),
    "bounce_frequency": ("bounce_clock", "gait_schedule", "vertical_bounce"),
    "bounce_amplitude": ("bounce_clock", "vertical_bounce", "takeoff", "flight"),
    "speed": ("forward_velocity", "heading_velocity"),
    "height_ratio": ("height", "posture"),
}
TARGET_PARAMS = {
    # term -> its parameters that say how much of the behaviour to ask for
    "forward_velocity": ("target_speed",),
    "heading_velocity": ("target_speed",),
    "vertical_bounce": ("amplitude",),
    "bounce_clock": ("amplitude",),
    "airborne": ("target_fraction",),
    "takeoff": ("target_vz",),
    "flight": ("flight_time",),
}
LINEAR_TARGETS = {"forward_velocity": "target_speed", "heading_velocity": "target_speed"}
LINEAR_SCALE_STEP = 2.0  # the linear move's scale factor
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


def _linear(terms: Terms, name: str, factor: float) -> Terms | None:
    key = LINEAR_TARGETS[name]
    old = terms[name].get(key)
    if not isinstance(old, (int, float)) or old <= 0:  # no target, or one backwards: keep tracking
        return None
    out = _scaled(terms, name, factor)
    if out is None:
        return None
    out[name][key] = None
    return out


def _without(terms: Terms, name: str) -> Terms | None:
    if name not in terms or len(terms) <= 2:
        return None
    out = copy.deepcopy(terms)
    del out[name]
    return out


def _capped(terms: Terms | None, speed: float) -> Terms | None:
    """``terms`` with the linear ``forward_velocity`` paying no more above ``speed`` (m/s)."""
    fv = (terms or {}).get("forward_velocity", {})
    if fv.get("target_speed", 0) is not None or fv.get("max_speed") is not None:
        return None
    out = copy.deepcopy(terms)
    out["forward_velocity"]["max_speed"] = round(speed, 4)
    return out


def _with_capped(moves, speed: float) -> list[tuple[Callable[[], Terms | None], str]]:
    """Each move followed by its capped version (linear speed reward flat above ``speed`` m/s)."""
    out = []
    for make, label in moves:
        out.append((make, label))
        out.append((lambda make=make: _capped(make(), speed), _capped_label(label, speed)))
    return out


def _capped_label(label: str, speed: float) -> str:
    return f"{label}, forward_velocity capped at the clip's {speed:.2f} m/s"


def _term_moves(base: Terms, name: str, scales: tuple[float, ...], targets: tuple[float, ...],
                linear_first: bool = False) -> list[tuple[Callable[[], Terms | None], str]]:
    f = LINEAR_SCALE_STEP
    linear = ([(_bind(_linear, base, name, f), f"{name} speed itself (linear), scale x{f:g}")]
              if name in LINEAR_TARGETS else [])
    moves = [(_bind(_scaled, base, name, f), f"{name} scale x{f:g}") for f in scales]
    moves += [(_bind(_targets, base, name, f), f"{name} targets x{f:g}") for f in targets]
    return linear + moves if linear_first else moves + linear


def _tail(base: Terms, first: str | None) -> list[tuple[Callable[[], Terms | None], str]]:
    """The term-set moves, then ever larger steps of the key term's scale."""
    moves = [(_bind(_without, base, c), f"without {c}") for c in COST_TERMS]
    if first:
        for j in range(4, 13):
            for f in (2.0 ** j, 2.0 ** -j):
                moves.append((_bind(_scaled, base, first, f), f"{first} scale x{f:g}"))
    return moves


def _made(base: Terms, moves) -> Iterator[tuple[Terms, str]]:
    base = complete_terms(copy.deepcopy(base), origin="search base terms")
    yield copy.deepcopy(base), "as asked"
    for make, label in moves(base):
        terms = make()
        if terms is not None:
            yield terms, label


def variants(base: Terms, keys: list[str],
             clip_speed: float | None = None) -> Iterator[tuple[Terms, str]]:
    """(terms, label) of the first candidate and then of each search move, in the documented
    order; moves that change nothing (a bound reached, no such term) are left out. Missing
    parameters of ``base`` take the library defaults first, so a scale step is relative to the
    scale the code will have. ``clip_speed`` (m/s, the clip's measured forward speed) pairs each
    move with its capped version when the reward pays speed itself and the key term is another
    (the capped "as asked" first)."""
    first = keys[0] if keys else None
    second = keys[1] if len(keys) > 1 else None

    def moves(b: Terms):
        out = _term_moves(b, first, SCALE_STEPS, TARGET_STEPS) if first else []
        if second:
            out += _term_moves(b, second, SCALE_STEPS[:3], TARGET_STEPS[:1])
        out += _tail(b, first)
        pairs = clip_speed is not None and clip_speed > 0 and first not in LINEAR_TARGETS
        capped_base = _capped(b, clip_speed) if pairs else None
        if capped_base is None:
            return out
        as_asked = (lambda: capped_base, _capped_label("as asked", clip_speed))
        return [as_asked] + _with_capped(out, clip_speed)

    return _made(base, moves)


def initial_variants(base: Terms, keys: list[str]) -> Iterator[tuple[Terms, str]]:
    """Iteration 0's candidates: as asked, then the moves of each key term in turn (the first
    move of every term, then the second of every term ...), a speed term opening with its linear
    move; then the term-set moves and larger scale steps of the first key term."""
    def moves(b: Terms):
        lists = [_term_moves(b, name, SCALE_STEPS, TARGET_STEPS, linear_first=True) for name in keys]
        out = [m for group in itertools.zip_longest(*lists) for m in group if m is not None]
        return out + _tail(b, keys[0] if keys else None)

    return _made(base, moves)


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
