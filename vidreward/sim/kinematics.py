"""Geometry of recorded robot poses: how high the robot's lowest point is above the floor.

This is the simulated counterpart of a video subject's silhouette bottom: the critic calls a robot
airborne by the same rule it applies to the expert clip (the lowest point clears its usual ground
level by a fraction of the body size), so expert and robot flight phases are measured alike.
"""

from __future__ import annotations

import mujoco
import numpy as np

from vidreward.sim.robots import get_robot


def _collision_geoms(model: mujoco.MjModel) -> list[int]:
    """Geoms of the robot (not the world body) that take part in collisions."""
    return [
        g
        for g in range(model.ngeom)
        if model.geom_bodyid[g] != 0 and (model.geom_contype[g] or model.geom_conaffinity[g])
    ]


ROUND_GEOMS = (int(mujoco.mjtGeom.mjGEOM_SPHERE), int(mujoco.mjtGeom.mjGEOM_CAPSULE),
               int(mujoco.mjtGeom.mjGEOM_CYLINDER))


def round_geom_bottoms(kind: np.ndarray, size: np.ndarray, centre_z: np.ndarray,
                       axis_z: np.ndarray) -> np.ndarray:
    """World z of the lowest points of spheres, capsules and cylinders (``ROUND_GEOMS``), exact:
    ``kind`` [G] geom types, ``size`` [G, >=2] radius and half-length, ``centre_z`` and ``axis_z``
    [..., G] the centre's height and the z component of the geom's own z axis."""
    radius, half = size[:, 0], size[:, 1]
    tilt = np.abs(axis_z)
    sphere = kind == int(mujoco.mjtGeom.mjGEOM_SPHERE)
    cylinder = kind == int(mujoco.mjtGeom.mjGEOM_CYLINDER)
    side = np.where(cylinder, np.sqrt(np.clip(1.0 - axis_z * axis_z, 0.0, 1.0)), 1.0) * radius
    return np.where(sphere, centre_z - radius, centre_z - tilt * half - side)


def _geom_bottom(model: mujoco.MjModel, data: mujoco.MjData, g: int) -> float:
    """World z of the lowest point of geom ``g`` (exact for spheres, capsules, cylinders, boxes;
    the bounding sphere for other shapes)."""
    centre_z = data.geom_xpos[g][2]
    rot_z = data.geom_xmat[g].reshape(3, 3)[2]  # z components of the geom's local axes
    size = model.geom_size[g]
    kind = int(model.geom_type[g])
    if kind in ROUND_GEOMS:
        return float(round_geom_bottoms(np.array([kind]), size[None], np.array([centre_z]),
                                        np.array([rot_z[2]]))[0])
    if kind == mujoco.mjtGeom.mjGEOM_BOX:
        return centre_z - float(np.abs(rot_z) @ size)
    return centre_z - model.geom_rbound[g]


def lowest_point_heights(
    robot: str, root_pos: np.ndarray, root_quat: np.ndarray, dof_pos: np.ndarray
) -> np.ndarray:
    """Height (m) of the robot's lowest collision point for each recorded pose [T]."""
    model = get_robot(robot).model()
    data = mujoco.MjData(model)
    geoms = _collision_geoms(model)
    heights = np.empty(len(root_pos))
    for k in range(len(root_pos)):
        data.qpos[:3] = root_pos[k]
        data.qpos[3:7] = root_quat[k]
        data.qpos[7:] = dof_pos[k]
        mujoco.mj_kinematics(model, data)
        heights[k] = min(_geom_bottom(model, data, g) for g in geoms)
    return heights
