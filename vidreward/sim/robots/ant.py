"""The Ant: Gymnasium's ``ant.xml`` (Ant-v5), torque control, ctrlrange +-1."""

from __future__ import annotations

import mujoco

from vidreward.sim.robots.mjcf import gym_model
from vidreward.sim.robots.spec import RobotSpec

ANT_FEET = [
    ("front_left", "left_ankle_geom"),
    ("front_right", "right_ankle_geom"),
    ("back_left", "third_ankle_geom"),
    ("back_right", "fourth_ankle_geom"),
]


def build_ant_model(models=None) -> mujoco.MjModel:  # one model source: ``models`` unused
    return gym_model("ant.xml", ANT_FEET, camera_distance=3.0, camera_height=0.3)


ANT = RobotSpec(
    name="ant",
    display_name="Ant (Gymnasium Ant-v5 model, four-legged)",
    build_model=build_ant_model,
    xml_path="gymnasium/envs/mujoco/assets/ant.xml",
    root_body="torso",
    frame_skip=5,
    dt=0.05,
    dof_names=("hip_1", "ankle_1", "hip_2", "ankle_2", "hip_3", "ankle_3", "hip_4", "ankle_4"),
    actuator_names=("hip_4", "ankle_4", "hip_1", "ankle_1", "hip_2", "ankle_2", "hip_3",
                    "ankle_3"),  # fmt: skip
    foot_names=tuple(f for f, _ in ANT_FEET),
    standing_height=0.55,
    body_length=1.5,
    min_torso_height=0.2,
    min_up_proj=0.0,
    max_episode_steps=1000,
    camera="track",
    control="torque",
    action_scale=1.0,
    reset_noise_qpos=0.1,
    reset_noise_qvel=0.1,
    qvel_noise="normal",
    notes="The torso is a sphere of radius 0.25 m; four legs of two segments each (hip, ankle).",
)
