"""The "environment code" context a language model (or a person) reads before writing reward code.

:func:`environment_context` documents, for one robot: every state field of
:data:`vidreward.sim.fields.STATE_FIELDS` with its concrete shape (D, A, F filled in) and units, the
robot's own description (observations, actions, termination), joint and foot names, dt, standing
height and body length, the rules reward code must follow (signature, batched torch, return value,
allowed imports) and the reward-term vocabulary of the analytic backends.
"""

from __future__ import annotations

from typing import Any

from vidreward.reward.sample_state import RobotDims, robot_dims
from vidreward.reward.terms import describe_library
from vidreward.sim.fields import STATE_FIELDS


def concrete_shape(shape: str, sizes: dict[str, int]) -> str:
    """``"[N, D]"`` -> ``"[N, 8]"`` for D = 8; ``"float"`` stays ``"float"``."""
    if shape == "float":
        return "float (Python scalar)"
    parts = [p.strip() for p in shape.strip("[]").split(",") if p.strip()]
    return "[" + ", ".join(str(sizes.get(p, p)) for p in parts) + "]"


EXAMPLE = '''import torch


def compute_reward(
    root_linvel: torch.Tensor,
    up_proj: torch.Tensor,
    actions: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    forward_velocity = torch.exp(-torch.square((root_linvel[:, 0] - 1.0) / 0.25))
    upright = 0.5 * up_proj
    action_cost = -0.05 * torch.sum(torch.square(actions), dim=1)
    components = {
        "forward_velocity": forward_velocity,
        "upright": upright,
        "action_cost": action_cost,
    }
    reward = forward_velocity + upright + action_cost
    return reward, components
'''


def environment_context(robot: str | Any) -> str:
    """Plain-text environment description for writing reward code for ``robot``."""
    if isinstance(robot, str):
        from vidreward.sim.robots import get_robot

        spec = get_robot(robot)
    else:
        spec = robot
    dims = robot_dims(spec)
    lines = _robot_section(spec, dims) + _state_section(dims) + _rules_section()
    return "\n".join(lines)


def _robot_section(spec: Any, dims: RobotDims) -> list[str]:
    """The robot: its own description, sizes, joint and foot order, time step and sizes."""
    describe = spec.describe() if hasattr(spec, "describe") else ""
    dof_names = list(getattr(spec, "dof_names", ()))
    foot_names = list(getattr(spec, "foot_names", ()))
    return [
        f"# Environment: robot '{dims.name}'",
        "",
        "## Robot",
        describe.strip() or f"Robot '{dims.name}'.",
        "",
        f"- N = number of parallel environments (batch size); D = {dims.num_dofs} joints, "
        f"A = {dims.action_dim} actions, F = {dims.num_feet} feet.",
        f"- Joint order (dof_pos, dof_vel): {', '.join(dof_names) or 'see above'}.",
        f"- Foot order (foot_contact_forces): {', '.join(foot_names) or 'see above'}.",
        f"- Control time step dt = {dims.dt:g} s; standing torso height = {dims.standing_height:g} m; "
        f"body length = {dims.body_length:g} m.",
        "- World frame: x is forward, y is left, z is up. Forward progress means +x velocity.",
        "",
    ]


def _state_section(dims: RobotDims) -> list[str]:
    """The table of state fields with the robot's concrete shapes."""
    sizes = {"D": dims.num_dofs, "A": dims.action_dim, "F": dims.num_feet}
    lines = [
        "## State fields (passed to compute_reward by parameter name)",
        "",
        "| name | shape | meaning and units |",
        "|---|---|---|",
    ]
    for f in STATE_FIELDS:
        lines.append(f"| `{f.name}` | {concrete_shape(f.shape, sizes)} | {f.meaning} |")
    lines += [
        "",
        "Tensors are float32 torch tensors on the CPU, batched over N environments; `dt`, "
        f"`standing_height` ({dims.standing_height:g}) and `body_length` ({dims.body_length:g}) are "
        "Python floats.",
        "",
    ]
    return lines


def _rules_section() -> list[str]:
    """The rules reward code must follow, an example, and the reward-term vocabulary."""
    return [
        "## Rules for reward code",
        "",
        "1. Define exactly one top-level function `compute_reward(...)`. Each parameter must be the name "
        "of a state field above (ask only for the fields you use); no *args or **kwargs.",
        "2. Return `(reward, components)`: `reward` a float tensor of shape [N]; `components` a dict "
        "mapping a component name to a float tensor of shape [N]. Write each name as a string "
        "literal (`components[\"upright\"] = ...`) of lower-case letters, digits and underscores "
        "(at most 48 characters). Components are logged per epoch as `reward/<name>`; make them the "
        "weighted terms that add up to the reward.",
        "3. Work on the whole batch with torch operations (no Python loops over environments). Every "
        "value must be finite for every state and every step, including a robot at rest (zero "
        "velocities, zero actions, episode_time 0), a robot in flight (all contact forces 0) and a "
        "robot upside down: guard divisions.",
        "4. Treat the state tensors as read-only: no in-place methods (`x.add_(...)`), no item "
        "assignment into them; `x = x + 1` style is fine. Augmented assignment to an item or slice "
        "(`r[mask] += 1`) is not supported: use `torch.where`.",
        "5. Allowed imports: `import torch` (and torch.nn.functional, torch.linalg), `import math`, "
        "`from torch import ...`, `from typing import ...`, `from __future__ import annotations`. "
        "The code runs in a restricted namespace: torch offers its tensor maths (exp, clamp, where, "
        "stack, norm, ...), dtypes and constants, tensors their non-in-place methods; nothing else "
        "is reachable (no file, network, process or OS access, no numpy, no open/exec/eval/getattr/"
        "type, no names starting with an underscore, no global state such as torch.manual_seed).",
        "6. The code runs every control step for all environments: keep it cheap and deterministic.",
        "",
        "Example:",
        "",
        "```python",
        EXAMPLE.rstrip(),
        "```",
        "",
        "## Reward-term vocabulary (analytic backends; `TERMS` literal at the top of their code)",
        "",
        describe_library(),
        "",
    ]
