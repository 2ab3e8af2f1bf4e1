"""The Humanoid: Gymnasium's ``humanoid.xml`` (Humanoid-v5), torque control scaled to ctrlrange."""

from __future__ import annotations

import mujoco

from vidreward.sim.robots.mjcf import gym_model
from vidreward.sim.robots.spec import RobotSpec

HUMANOID_FEET = [("right", "right_foot"), ("left", "left_foot")]


def build_humanoid_model(models=None) -> mujoco.MjModel:  # one model source: ``models`` unused
    return gym_model("humanoid.xml", HUMANOID_FEET, camera_distance=4.0, camera_height=0.0, foot_scale=1.3)


HUMANOID = RobotSpec(
    name="humanoid",
    display_name="Humanoid (Gymnasium Humanoid-v5 model, bipedal)",
    build_model=build_humanoid_model,
    xml_path="gymnasium/envs/mujoco/assets/humanoid.xml",
    root_body="torso",
    frame_skip=5,
    dt=0.015,
    dof_names=(
        "abdomen_z", "abdomen_y", "abdomen_x", "right_hip_x", "right_hip_z", "right_hip_y",
        "right_knee", "left_hip_x", "left_hip_z", "left_hip_y", "left_knee",
        "right_shoulder1", "right_shoulder2", "right_elbow", "left_shoulder1",
        "left_shoulder2", "left_elbow",
    ),  # fmt: skip
    actuator_names=(
        "abdomen_y", "abdomen_z", "abdomen_x", "right_hip_x", "right_hip_z", "right_hip_y",
        "right_knee", "left_hip_x", "left_hip_z", "left_hip_y", "left_knee",
        "right_shoulder1", "right_shoulder2", "right_elbow", "left_shoulder1",
        "left_shoulder2", "left_elbow",
    ),  # fmt: skip
    foot_names=tuple(f for f, _ in HUMANOID_FEET),
    standing_height=1.4,
    body_length=1.6,
    min_torso_height=1.0,
    min_up_proj=None,
    max_episode_steps=1000,
    camera="track",
    control="torque",
    action_scale=1.0,
    reset_noise_qpos=0.01,
    reset_noise_qvel=0.01,
    qvel_noise="uniform",
    notes="The torso (chest) is the root body; the head is 0.19 m above it.",
)
