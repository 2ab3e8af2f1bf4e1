"""The named state fields every simulated robot exposes to reward code.

This table is the single source of truth: the simulator fills these fields, the reward loader passes
them by parameter name, and the environment context given to the rewriter documents them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StateField:
    name: str
    shape: str  # symbolic shape, N = number of envs, D = dofs, A = actions, F = feet
    meaning: str


STATE_FIELDS: tuple[StateField, ...] = (
    StateField("root_pos", "[N, 3]", "torso position in the world frame, metres, z up"),
    StateField("root_quat", "[N, 4]", "torso orientation quaternion (w, x, y, z)"),
    StateField("root_linvel", "[N, 3]", "torso linear velocity, world frame, m/s (x is forward)"),
    StateField("root_angvel", "[N, 3]", "torso angular velocity, world frame, rad/s"),
    StateField("dof_pos", "[N, D]", "joint positions, rad"),
    StateField("dof_vel", "[N, D]", "joint velocities, rad/s"),
    StateField("actions", "[N, A]", "actions applied this step, each in [-1, 1]"),
    StateField("prev_actions", "[N, A]", "actions applied on the previous step, each in [-1, 1]"),
    StateField("foot_contact_forces", "[N, F]", "normal contact force on each foot, newtons"),
    StateField("foot_heights", "[N, F]", "height of each foot's lowest point above the floor (z = 0), metres"),
    StateField("up_proj", "[N]", "z component of the torso's up axis (1 upright, <0 upside down)"),
    StateField("heading_proj", "[N]", "x component of the torso's forward axis (1 = facing +x)"),
    StateField("episode_time", "[N]", "seconds since this environment was reset"),
    StateField("dt", "float", "control time step, seconds"),
    StateField("standing_height", "float", "nominal torso height when standing, metres"),
    StateField("body_length", "float", "nominal body size used to normalise speeds, metres"),
)

STATE_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in STATE_FIELDS)
SCALAR_FIELDS: frozenset[str] = frozenset(f.name for f in STATE_FIELDS if f.shape == "float")
