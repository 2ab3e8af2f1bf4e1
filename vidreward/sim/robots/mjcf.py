"""Additions every robot's model gets, whatever its source file: foot touch sensors, a tracking
camera, an offscreen buffer (see :mod:`vidreward.sim.robots`)."""

from __future__ import annotations

from pathlib import Path

import mujoco

from vidreward.errors import ConfigError

OFFSCREEN_SIZE = 1920


def gym_asset(name: str) -> Path:
    import gymnasium

    path = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / name
    if not path.is_file():
        raise ConfigError(f"Gymnasium MuJoCo asset {path} not found (install gymnasium[mujoco])")
    return path


def gym_model(asset: str, feet: list[tuple[str, str]], camera_distance: float, camera_height: float,
              foot_scale: float = 1.5) -> mujoco.MjModel:
    """A Gymnasium MuJoCo asset (root body ``torso``) compiled with foot sensors (``feet``: foot
    name, geom name) and the side-view tracking camera ``track``."""
    spec = mujoco.MjSpec.from_file(str(gym_asset(asset)))
    add_foot_sensors(spec, feet, scale=foot_scale)
    ensure_camera(spec, "torso", "track", camera_distance, camera_height)
    return finish_model(spec)


def add_foot_sensors(spec: mujoco.MjSpec, feet: list[tuple[str, str]], scale: float = 1.5) -> None:
    """Add a site enclosing each foot geom and a touch sensor on it, and the foot geom's world
    position and z axis (sensors ``foot_pos_<foot>``, ``foot_zaxis_<foot>``), from which the
    simulator reads each foot's lowest point (``foot_heights``).

    ``feet``: (foot name, geom name). A capsule or cylinder foot (a leg's lower segment, e.g. the
    Ant's ankles) gets a capsule site along the whole segment, so contact anywhere on it counts: a
    leg pressed flat on the floor is standing, not flying. A sphere foot gets a sphere site. The
    site's radius is ``scale`` x the geom's.
    """
    model = spec.compile()
    for foot, geom_name in feet:
        gid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, geom_name)
        if gid < 0:
            raise ConfigError(f"foot geom '{geom_name}' not found in model '{spec.modelname}'")
        size = model.geom_size[gid]
        gtype = int(model.geom_type[gid])
        if gtype in (int(mujoco.mjtGeom.mjGEOM_CAPSULE), int(mujoco.mjtGeom.mjGEOM_CYLINDER)):
            site_type = mujoco.mjtGeom.mjGEOM_CAPSULE
            site_size = [float(size[0]) * scale, float(size[1]), 0]
        elif gtype == int(mujoco.mjtGeom.mjGEOM_SPHERE):
            site_type = mujoco.mjtGeom.mjGEOM_SPHERE
            site_size = [float(size[0]) * scale, 0, 0]
        else:
            raise ConfigError(f"foot geom '{geom_name}' must be a sphere, capsule or cylinder")
        body = spec.geom(geom_name).parent
        site = body.add_site(
            name=f"foot_site_{foot}",
            type=site_type,
            size=site_size,
            pos=model.geom_pos[gid].tolist(),
            quat=model.geom_quat[gid].tolist(),
            rgba=[0, 0, 0, 0],
            group=5,
        )
        spec.add_sensor(
            name=f"touch_{foot}",
            type=mujoco.mjtSensor.mjSENS_TOUCH,
            objtype=mujoco.mjtObj.mjOBJ_SITE,
            objname=site.name,
        )
        for kind, sensor in (("pos", mujoco.mjtSensor.mjSENS_FRAMEPOS),
                             ("zaxis", mujoco.mjtSensor.mjSENS_FRAMEZAXIS)):
            spec.add_sensor(name=f"foot_{kind}_{foot}", type=sensor, objtype=mujoco.mjtObj.mjOBJ_GEOM,
                            objname=geom_name)


def ensure_camera(spec: mujoco.MjSpec, root_body: str, name: str, distance: float, height: float):
    """A trackcom camera on the root body looking along +y (side view), unless one is named so."""
    if any(c.name == name for c in spec.cameras):
        return
    spec.body(root_body).add_camera(
        name=name,
        mode=mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM,
        pos=[0.0, -distance, height],
        xyaxes=[1, 0, 0, 0, 0, 1],
    )


def finish_model(spec: mujoco.MjSpec) -> mujoco.MjModel:
    """Compile ``spec`` with an offscreen buffer of ``OFFSCREEN_SIZE`` pixels."""
    spec.visual.global_.offwidth = OFFSCREEN_SIZE
    spec.visual.global_.offheight = OFFSCREEN_SIZE
    return spec.compile()
