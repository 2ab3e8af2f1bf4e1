"""``RobotSpec``: everything about one robot that the simulator, trainer, renderer and language-model
context need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import mujoco

GRAVITY = 9.81
CLOCK_DIMS = 2  # the gait clock at the end of the observation: sin and cos of its phase

ANYMAL_MODELS = ("auto", "menagerie", "builtin")
"""``robot_model.anymal``: the MuJoCo Menagerie ANYmal C, the built-in ANYmal-C-class model, or
``auto``: Menagerie's when its files are on disk, else the built-in one."""


@dataclass(frozen=True)
class RobotModelConfig:
    """Which model file a robot is compiled from (a run's ``robot_model`` settings)."""

    anymal: str = "auto"  # one of ANYMAL_MODELS
    menagerie_root: str | None = None  # a MuJoCo Menagerie checkout (``<root>/anybotics_anymal_c``)


@dataclass(frozen=True)
class RobotSpec:
    """Everything about one robot that the simulator, trainer, renderer and LLM context need."""

    name: str
    display_name: str
    build_model: Callable[[RobotModelConfig | None], mujoco.MjModel] = field(repr=False, compare=False)
    xml_path: str  # source model file (or "builtin:<name>")
    root_body: str  # body with the free joint ("torso")
    frame_skip: int  # physics steps per control step
    dt: float  # control step, seconds (= timestep * frame_skip)
    dof_names: tuple[str, ...]  # hinge joints, in qpos order (after the free joint)
    actuator_names: tuple[str, ...]  # in action order
    foot_names: tuple[str, ...]  # in foot_contact_forces order
    standing_height: float  # torso z when standing still (m)
    body_length: float  # larger extent of the standing side-view silhouette (m)
    min_torso_height: float  # terminated when the torso z falls below this
    min_up_proj: float | None  # terminated when up_proj < this (None: no orientation check)
    max_episode_steps: int
    camera: str  # tracking camera name
    control: str  # "torque" or "position"
    action_scale: float  # position control: target = default pose + action_scale * action
    reset_noise_qpos: float  # uniform +- this on qpos (and on the root quaternion, renormalised)
    reset_noise_qvel: float  # qvel noise scale
    qvel_noise: str  # "normal" (Ant-v5 style) or "uniform"
    notes: str = ""  # extra sentence for describe()

    @property
    def num_dofs(self) -> int:
        return len(self.dof_names)

    @property
    def action_dim(self) -> int:
        return len(self.actuator_names)

    @property
    def num_feet(self) -> int:
        return len(self.foot_names)

    @property
    def obs_dim(self) -> int:
        # qpos without x, y (z + quat + D joints) + qvel (6 + D) + one contact value per foot
        # + the gait clock (sin, cos)
        return (1 + 4 + self.num_dofs) + (6 + self.num_dofs) + self.num_feet + CLOCK_DIMS

    def model(self, models: RobotModelConfig | None = None) -> mujoco.MjModel:
        """The compiled model (compiled once per process and ``models``; treat it as read-only).
        ``models`` None: the process's selection (:func:`vidreward.sim.robots.use_models`)."""
        from vidreward.sim.robots import compiled_model, selected_models  # the registry imports us

        return compiled_model(self.name, models or selected_models())

    def describe(self) -> str:
        """Plain-text environment description for a language model."""
        d, a, f = self.num_dofs, self.action_dim, self.num_feet
        if self.control == "torque":
            act = (
                f"{a} actions in [-1, 1], one per joint motor, linearly scaled to each motor's "
                "control range (a torque command)."
            )
        else:
            act = (
                f"{a} actions in [-1, 1], one per joint: joint position target = standing pose + "
                f"{self.action_scale} rad * action, tracked by the model's PD position servos "
                "(clipped to their control range)."
            )
        term = f"torso height z < {self.min_torso_height} m"
        if self.min_up_proj is not None:
            term += f" or up_proj < {self.min_up_proj} (upside down)"
        lines = [
            f"Robot: {self.display_name} ('{self.name}'), MuJoCo, simulated in parallel environments.",
            f"Control step dt = {self.dt:g} s ({self.frame_skip} physics steps of "
            f"{self.dt / self.frame_skip:g} s). Episodes last at most {self.max_episode_steps} steps "
            f"({self.max_episode_steps * self.dt:g} s).",
            "World frame: x is forward, z is up; the robot starts at the origin facing +x.",
            f"Actions: {act}",
            f"Joints (D = {d}, order of dof_pos / dof_vel): {', '.join(self.dof_names)}.",
            f"Feet (F = {f}, order of foot_contact_forces): {', '.join(self.foot_names)}.",
            f"Standing torso height about {self.standing_height:g} m; body length about "
            f"{self.body_length:g} m (use it to normalise speeds, e.g. body lengths per second).",
            f"Episode terminates (robot fallen) when {term}. There is NO upper height limit: "
            "jumping and flight phases are allowed. Episodes are also truncated at the step limit.",
            f"Observation given to the policy ({self.obs_dim} values): torso z, torso quaternion, "
            "joint positions, torso linear velocity (world) and angular velocity (local), joint "
            "velocities, foot normal contact forces divided by the robot's weight, and a gait "
            "clock: sin and cos of 2 pi frac(f * episode_time), where f is the reward's "
            "frequency in Hz of the reward's clocked terms, TERMS['gait_schedule'] and "
            "TERMS['bounce_clock'] (they must agree; 0, a clock standing still, when the reward "
            "code declares neither).",
            "The simulator computes no reward: the reward function receives the named state tensors.",
        ]
        if self.notes:
            lines.append(self.notes)
        return "\n".join(lines)
