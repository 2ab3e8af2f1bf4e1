"""The reward-term vocabulary shared by the analytic critic and the analytic rewriter.

Reward code written from terms is self-contained Isaac-Gym-style code::

    # header comment
    TERMS = {"forward_velocity": {"scale": 1.0, "target_speed": 0.5, "sigma": 0.25}, ...}

    import torch

    def compute_reward(<only the fields used>) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        components = {}
        # forward_velocity: ...        one commented block per term, scaled by TERMS[name]["scale"]
        ...
        reward = sum of components
        return reward, components      # components[name] is the SCALED term

``TERMS`` is the machine-readable spec (:func:`read_terms` reads it back with
``ast.literal_eval``); the function body is generated from :data:`TERM_LIBRARY` templates, which
live in :mod:`vidreward.reward.term_templates` (each term, its parameters and what it rewards):
``forward_velocity``, ``vertical_bounce``, ``airborne``, ``ground_contact``, ``height``,
``upright``, ``alive``, ``action_cost``, ``lateral_drift``; for jumps ``takeoff`` (upward push
while the feet are loaded), ``flight`` (all feet off with the torso above standing height) and
``gait_schedule`` (a clocked stance/flight contact schedule: frequency, duty) and ``bounce_clock``
(a clocked vertical height and speed reference: amplitude, frequency); for direction and
orientation ``heading_velocity``, ``lateral_velocity`` (across a heading), ``yaw_rate`` and
``posture`` (pitch and roll). Cost terms (``action_cost``, ``lateral_drift``) are negative by
construction; every ``scale`` is a non-negative weight.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from vidreward.errors import RewardCodeError
from vidreward.reward.term_templates import ALL_TERMS, TermSpec
from vidreward.sim.fields import SCALAR_FIELDS, STATE_FIELD_NAMES


def forward_sigma(target_speed: float) -> float:
    """Kernel width (m/s) for tracking ``target_speed``: as wide as the target itself (at least
    0.25 m/s), so a robot at rest still earns exp(-1) of the term and PPO has a gradient to follow."""
    return max(abs(target_speed), 0.25)


def height_sigma(target_height: float, standing_height: float) -> float:
    """Kernel width (m) for holding the torso at ``target_height``: as wide as the distance from
    the robot's standing height (at least the term's default width, 0.1 m), so a robot standing
    still earns exp(-1) of the term and PPO has a gradient toward a crouch. With the fixed 0.1 m a
    crawl target 0.18 m below standing paid exp(-3.3) = 0.04 there, and the oracle run on the
    motion suite's crawl never lowered the torso (README, "Oracle critic and imitation score")."""
    return max(abs(standing_height - target_height), TERM_LIBRARY["height"].defaults["sigma"])


TERM_LIBRARY: dict[str, TermSpec] = {s.name: s for s in ALL_TERMS}
"""Every reward term by name (templates and their documentation: :mod:`vidreward.reward.term_templates`)."""

# constraints on parameter values: name -> (lower bound, lower inclusive, upper bound)
_BOUNDS: dict[str, tuple[float, bool, float]] = {
    "scale": (0.0, True, math.inf),
    "sigma": (0.0, False, math.inf),
    "amplitude": (0.0, True, math.inf),
    "frequency": (0.0, True, math.inf),
    "target_fraction": (0.0, True, 1.0),
    "contact_threshold": (0.0, True, math.inf),
    "target_height": (0.0, False, math.inf),
    "target_speed": (-math.inf, True, math.inf),
    "target_vz": (0.0, False, math.inf),
    "flight_time": (0.0, False, math.inf),
    "max_speed": (0.0, False, math.inf),
    "sigma_v": (0.0, False, math.inf),
    "sigma_z": (0.0, False, math.inf),
    "duty": (0.0, True, 1.0),
    "heading": (-2.0 * math.pi, True, 2.0 * math.pi),
    "target_rate": (-math.inf, True, math.inf),
    "target_pitch": (-math.pi / 2, True, math.pi / 2),
    "target_roll": (-math.pi / 2, True, math.pi / 2),
}


def check_param(term: str, key: str, value: Any) -> tuple[Any, str | None]:
    """Return ``(normalised value, None)`` or ``(None, reason)`` for one parameter of one term."""
    spec = TERM_LIBRARY.get(term)
    if spec is None:
        return None, f"unknown term {term!r} (known: {', '.join(TERM_LIBRARY)})"
    if key not in spec.defaults:
        return None, f"term {term!r} has no parameter {key!r} (parameters: {', '.join(spec.defaults)})"
    if value is None:
        if key in spec.nullable:
            return None, None
        return None, f"{term}.{key} may not be None"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"{term}.{key} must be a number, got {type(value).__name__} {value!r}"
    value = float(value)
    if not math.isfinite(value):
        return None, f"{term}.{key} must be finite, got {value!r}"
    lo, lo_inclusive, hi = _BOUNDS.get(key, (-math.inf, True, math.inf))
    if value < lo or (value == lo and not lo_inclusive) or value > hi:
        low = f"{'>=' if lo_inclusive else '>'} {lo:g}"
        return None, f"{term}.{key} must be {low}" + (f" and <= {hi:g}" if hi != math.inf else "") + f", got {value:g}"
    return value, None


def complete_terms(terms: dict[str, dict[str, Any]], origin: str = "TERMS") -> dict[str, dict[str, Any]]:
    """Check a terms dict and fill each term's missing parameters from the library defaults."""
    if not isinstance(terms, dict) or not terms:
        raise RewardCodeError(f"{origin}: reward terms must be a non-empty dict, got {terms!r}", "terms")
    out: dict[str, dict[str, Any]] = {}
    for name, params in terms.items():
        if name not in TERM_LIBRARY:
            raise RewardCodeError(
                f"{origin}: unknown reward term {name!r} (known: {', '.join(TERM_LIBRARY)})", "terms"
            )
        if not isinstance(params, dict):
            raise RewardCodeError(f"{origin}: parameters of term {name!r} must be a dict", "terms")
        full = dict(TERM_LIBRARY[name].defaults)
        for key, value in params.items():
            checked, problem = check_param(name, key, value)
            if problem:
                raise RewardCodeError(f"{origin}: {problem}", "terms")
            full[key] = checked
        out[name] = {k: (None if v is None else float(v)) for k, v in full.items()}
    return out


def _literal(value: Any) -> str:
    return "None" if value is None else repr(float(value))


def _render_terms_literal(terms: dict[str, dict[str, Any]]) -> str:
    lines = ["TERMS = {"]
    for name, params in terms.items():
        inner = ", ".join(f'"{k}": {_literal(v)}' for k, v in params.items())
        lines.append(f'    "{name}": {{{inner}}},')
    lines.append("}")
    return "\n".join(lines)


def comment_safe(text: str, limit: int = 300) -> str:
    """One line of printable text for a ``#`` comment (untrusted text cannot break out of it)."""
    flat = "".join(ch if ch.isprintable() else " " for ch in str(text))
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def render_reward_code(terms: dict[str, dict[str, Any]], header_comment: str = "") -> str:
    """Reward code for ``terms`` (name -> params; missing params take the library defaults)."""
    terms = complete_terms(terms)
    used = {f for name in terms for f in TERM_LIBRARY[name].fields}
    params = [f for f in STATE_FIELD_NAMES if f in used]
    uses_math = any(TERM_LIBRARY[name].uses_math for name in terms)

    out: list[str] = []
    for line in str(header_comment).splitlines():
        printable = "".join(ch if ch.isprintable() else " " for ch in line).rstrip()
        out.append(("# " + printable[:1000]).rstrip())
    if out:
        out.append("")
    out.append(_render_terms_literal(terms))
    out.append("")
    if uses_math:
        out.append("import math")
        out.append("")
    out.append("import torch")
    out.append("")
    out.append("")
    out.append("def compute_reward(")
    for f in params:
        out.append(f"    {f}: {'float' if f in SCALAR_FIELDS else 'torch.Tensor'},")
    out.append(") -> tuple[torch.Tensor, dict[str, torch.Tensor]]:")
    out.append('    """Total reward = sum of the scaled terms in TERMS; components[name] is each scaled term."""')
    out.append("    components: dict[str, torch.Tensor] = {}")
    for name in terms:
        out.append("")
        out.append(TERM_LIBRARY[name].template)
    out.append("")
    out.append("    reward = torch.stack(list(components.values()), dim=0).sum(dim=0)")
    out.append("    return reward, components")
    return "\n".join(out) + "\n"


def read_terms(code: str) -> dict[str, dict[str, Any]] | None:
    """The module-level ``TERMS`` literal of reward code; None if absent or malformed."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError):
        return None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "TERMS"
        ):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return None
            if not isinstance(value, dict):
                return None
            out: dict[str, dict[str, Any]] = {}
            for name, params in value.items():
                if not isinstance(name, str) or not isinstance(params, dict):
                    return None
                clean: dict[str, Any] = {}
                for key, v in params.items():
                    if not isinstance(key, str):
                        return None
                    if v is None:
                        clean[key] = None
                    elif isinstance(v, (int, float)) and not isinstance(v, bool):
                        clean[key] = float(v)
                    else:
                        return None
                out[name] = clean
            return out
    return None


CLOCK_TERMS = ("gait_schedule", "bounce_clock")
"""The clocked terms: their ``frequency`` sets the gait clock the policy observes (``vidreward.sim.base``)."""


def clock_frequency(code: str, origin: str = "reward code") -> float:
    """The gait clock (Hz) the policy observes while it trains on, or replays, this reward code:
    the ``frequency`` of the clocked terms (:data:`CLOCK_TERMS`) in its module-level ``TERMS``
    literal, read without running the code; 0 (a clock standing still) when it declares none. An
    out-of-range value, or two clocked terms at different frequencies (the policy sees one clock),
    raises :class:`RewardCodeError` naming ``origin``."""
    terms = read_terms(code) or {}
    found: dict[str, float] = {}
    for name in CLOCK_TERMS:
        value = terms.get(name, {}).get("frequency")
        if value is None:
            continue
        checked, reason = check_param(name, "frequency", value)
        if reason is not None:
            raise RewardCodeError(f"{origin}: {reason}", "terms")
        found[name] = float(checked)
    if len(set(found.values())) > 1:
        listed = ", ".join(f"{name}.frequency = {hz:g} Hz" for name, hz in found.items())
        raise RewardCodeError(f"{origin}: the clocked terms disagree ({listed}); the policy observes "
                              "one clock, so give them the same frequency", "terms")
    return next(iter(found.values()), 0.0)


def describe_library() -> str:
    """Text description of every term and its parameters (for prompts and environment context)."""
    lines = []
    for spec in TERM_LIBRARY.values():
        defaults = ", ".join(f"{k}={_literal(v)}" for k, v in spec.defaults.items())
        lines.append(f"- {spec.name} ({defaults}): {spec.description}")
    return "\n".join(lines)
