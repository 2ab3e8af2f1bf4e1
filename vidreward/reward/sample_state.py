"""Plausible random state batches for exercising reward code without a simulator.

``sample_state(robot, num_envs, seed)`` returns every field of
:data:`vidreward.sim.fields.STATE_FIELDS` with the robot's shapes and dtypes (tensors ``float32``;
``dt``, ``standing_height`` and ``body_length`` Python floats). The batch deliberately contains the
corner cases a trainer meets: env 0 is at rest right after a reset (zero velocities and actions,
``episode_time`` 0, upright, feet loaded and on the floor), env 1 is fully airborne (no foot
contact, every foot well off the floor), env 2 is upside down; the others are random but
physically plausible. Reward code that divides by a speed or a contact force without a guard
shows up here as NaN/inf.

This module imports only torch and the field table, so the sandbox child process stays light; the
robot table (``vidreward.sim.robots``) is imported only when a robot is named by string.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from vidreward.errors import RewardCodeError
from vidreward.sim.fields import STATE_FIELD_NAMES

MIN_ENVS = 3  # the corner-case envs 0..2 above


@dataclass(frozen=True)
class RobotDims:
    """The numbers reward code sees of a robot: sizes of the batched fields and the scalar fields."""

    name: str
    num_dofs: int
    action_dim: int
    num_feet: int
    dt: float
    standing_height: float
    body_length: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RobotDims":
        return cls(
            name=str(data["name"]),
            num_dofs=int(data["num_dofs"]),
            action_dim=int(data["action_dim"]),
            num_feet=int(data["num_feet"]),
            dt=float(data["dt"]),
            standing_height=float(data["standing_height"]),
            body_length=float(data["body_length"]),
        )


def robot_dims(robot: Any) -> RobotDims:
    """Resolve ``robot`` to :class:`RobotDims`.

    ``robot`` is a robot name for ``vidreward.sim.robots.get_robot``, a :class:`RobotDims`, or any
    object with the RobotSpec attributes ``num_dofs``, ``action_dim``, ``num_feet``, ``dt``,
    ``standing_height``, ``body_length`` (and optionally ``name``).
    """
    if isinstance(robot, RobotDims):
        return robot
    if isinstance(robot, str):
        from vidreward.sim.robots import get_robot  # lazy: keeps the sandbox child light

        spec = get_robot(robot)
    else:
        spec = robot
    try:
        dims = RobotDims(
            name=str(getattr(spec, "name", robot if isinstance(robot, str) else "robot")),
            num_dofs=int(spec.num_dofs),
            action_dim=int(spec.action_dim),
            num_feet=int(spec.num_feet),
            dt=float(spec.dt),
            standing_height=float(spec.standing_height),
            body_length=float(spec.body_length),
        )
    except AttributeError as exc:
        raise RewardCodeError(f"robot {robot!r}: not a robot spec ({exc})", "robot") from exc
    for key in ("num_dofs", "action_dim", "num_feet"):
        if getattr(dims, key) < 1:
            raise RewardCodeError(f"robot {dims.name!r}: {key} must be >= 1", "robot")
    return dims


def _small_rotation_quats(n: int, max_angle: float, gen: torch.Generator) -> torch.Tensor:
    """Random unit quaternions (w, x, y, z) with rotation angles up to ``max_angle`` radians."""
    axis = torch.randn(n, 3, generator=gen)
    axis = axis / axis.norm(dim=1, keepdim=True).clamp_min(1e-6)
    angle = torch.rand(n, generator=gen) * max_angle
    half = 0.5 * angle
    return torch.cat([torch.cos(half)[:, None], axis * torch.sin(half)[:, None]], dim=1)


def _up_and_heading(quat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """z component of the body up axis and x component of the body forward axis."""
    w, x, y, z = quat.unbind(dim=1)
    up_proj = 1.0 - 2.0 * (x * x + y * y)
    heading_proj = 1.0 - 2.0 * (y * y + z * z)
    return up_proj, heading_proj


def sample_state_from_dims(dims: RobotDims, num_envs: int = 8, seed: int = 0,
                           shuffle: bool = False) -> dict[str, Any]:
    """A random state batch of ``num_envs`` environments for a robot of the given dimensions.

    With ``shuffle`` the rows are permuted (seeded), so the corner cases sit at no fixed index and
    the batch looks like any other state a trainer passes.
    """
    if num_envs < MIN_ENVS:
        raise ValueError(f"sample_state: num_envs must be >= {MIN_ENVS}, got {num_envs}")
    gen = torch.Generator().manual_seed(int(seed))
    batch = _random_batch(dims, num_envs, gen)
    _place_corner_cases(batch, dims.standing_height)
    up_proj, heading_proj = _up_and_heading(batch["root_quat"])
    state: dict[str, Any] = {
        **batch,
        "up_proj": up_proj,
        "heading_proj": heading_proj,
        "dt": float(dims.dt),
        "standing_height": float(dims.standing_height),
        "body_length": float(dims.body_length),
    }
    order = torch.randperm(num_envs, generator=gen) if shuffle else None
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            value = value if order is None else value[order]
            state[key] = value.to(torch.float32).contiguous()
    missing = set(STATE_FIELD_NAMES) - set(state)
    if missing:  # the field table grew: this module must follow it
        raise RuntimeError(f"sample_state does not produce field(s) {sorted(missing)}")
    return {name: state[name] for name in STATE_FIELD_NAMES}


def _random_batch(dims: RobotDims, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """The random part of the batch, drawn from ``gen`` in a fixed order."""
    d, a, f = dims.num_dofs, dims.action_dim, dims.num_feet
    h = dims.standing_height
    quat = _small_rotation_quats(n, 0.6, gen)
    root_pos = torch.stack(
        [
            torch.rand(n, generator=gen) * 4.0 - 1.0,
            torch.rand(n, generator=gen) - 0.5,
            h * (0.5 + 0.8 * torch.rand(n, generator=gen)),
        ],
        dim=1,
    )
    root_linvel = torch.randn(n, 3, generator=gen) * torch.tensor([0.8, 0.3, 0.4]) + torch.tensor(
        [0.4, 0.0, 0.0]
    )
    root_angvel = torch.randn(n, 3, generator=gen)
    dof_pos = (torch.rand(n, d, generator=gen) * 2.0 - 1.0) * 0.8
    dof_vel = torch.randn(n, d, generator=gen) * 2.0
    actions = torch.rand(n, a, generator=gen) * 2.0 - 1.0
    prev_actions = (actions + 0.2 * torch.randn(n, a, generator=gen)).clamp(-1.0, 1.0)
    in_contact = torch.rand(n, f, generator=gen) < 0.6
    foot_contact_forces = torch.where(
        in_contact, torch.rand(n, f, generator=gen) * 150.0 + 5.0, torch.zeros(n, f)
    )
    steps = torch.randint(0, max(1, int(round(10.0 / dims.dt))), (n,), generator=gen)
    episode_time = steps.to(torch.float32) * dims.dt
    foot_heights = torch.where(in_contact, torch.zeros(n, f), torch.rand(n, f, generator=gen) * 0.4 * h)
    return {
        "root_pos": root_pos,
        "root_quat": quat,
        "root_linvel": root_linvel,
        "root_angvel": root_angvel,
        "dof_pos": dof_pos,
        "dof_vel": dof_vel,
        "actions": actions,
        "prev_actions": prev_actions,
        "foot_contact_forces": foot_contact_forces,
        "foot_heights": foot_heights,
        "episode_time": episode_time,
    }


def _place_corner_cases(batch: dict[str, torch.Tensor], h: float) -> None:
    """Rows 0-2 become the corner cases (in place): env 0 at rest right after a reset, feet loaded;
    env 1 fully airborne; env 2 upside down, lying on its back."""
    batch["root_quat"][0] = torch.tensor([1.0, 0.0, 0.0, 0.0])
    batch["root_quat"][2] = torch.tensor([0.0, 1.0, 0.0, 0.0])  # rolled 180 degrees about x: upside down
    root_pos = batch["root_pos"]
    root_pos[0] = torch.tensor([0.0, 0.0, h])
    root_pos[1, 2] = h * 1.4  # airborne
    root_pos[2, 2] = h * 0.3  # lying on its back
    for key in ("root_linvel", "root_angvel", "dof_vel", "actions", "prev_actions"):
        batch[key][0] = 0.0
    batch["dof_pos"][0] = 0.0
    batch["foot_contact_forces"][0] = 50.0
    batch["episode_time"][0] = 0.0
    batch["foot_contact_forces"][1] = 0.0
    batch["foot_heights"][0] = 0.0  # standing on its feet
    batch["foot_heights"][1] = 0.4 * h  # every foot well off the floor
    batch["foot_heights"][2] = 0.9 * h  # legs in the air, the torso on the floor


def sample_state(robot: Any, num_envs: int = 8, seed: int = 0) -> dict[str, Any]:
    """A random state batch for ``robot`` (a name for ``get_robot`` or a RobotSpec-like object)."""
    return sample_state_from_dims(robot_dims(robot), num_envs=num_envs, seed=seed)


__all__ = [
    "RobotDims",
    "robot_dims",
    "sample_state",
    "sample_state_from_dims",
]
