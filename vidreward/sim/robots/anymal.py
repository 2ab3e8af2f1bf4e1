"""ANYbotics ANYmal C with position (PD) control: the MuJoCo Menagerie model or a built-in
ANYmal-C-class model, as the run's ``robot_model`` settings ask (:class:`RobotModelConfig`; see
:mod:`vidreward.sim.robots`)."""

from __future__ import annotations

from pathlib import Path

import mujoco

from vidreward.errors import ConfigError
from vidreward.sim.robots.mjcf import add_foot_sensors, ensure_camera, finish_model
from vidreward.sim.robots.spec import ANYMAL_MODELS, RobotModelConfig, RobotSpec

ANYMAL_LEGS = ("LF", "RF", "LH", "RH")
ANYMAL_JOINTS = tuple(f"{leg}_{j}" for leg in ANYMAL_LEGS for j in ("HAA", "HFE", "KFE"))
# Standing pose (rad) in ANYmal's joint convention (the one legged_gym uses for ANYmal C).
ANYMAL_STAND = {
    **{f"{leg}_HAA": 0.0 for leg in ANYMAL_LEGS},
    "LF_HFE": 0.4, "RF_HFE": 0.4, "LH_HFE": -0.4, "RH_HFE": -0.4,
    "LF_KFE": -0.8, "RF_KFE": -0.8, "LH_KFE": 0.8, "RH_KFE": 0.8,
}  # fmt: skip
ANYMAL_KP = 100.0  # position servo stiffness, N m / rad (ANYmal C menagerie "affine" class)
ANYMAL_FORCE = 80.0  # servo torque limit, N m
ANYMAL_DAMPING = 1.0  # joint damping, N m s / rad (the servo's D term)
MENAGERIE_NAME = "anybotics_anymal_c"


def anymal_source(models: RobotModelConfig | None = None) -> str:
    """'menagerie' or 'builtin': which ANYmal C model ``models`` (default: ``auto``) compiles."""
    models = models or RobotModelConfig()
    if models.anymal not in ANYMAL_MODELS:
        raise ConfigError(
            f"config robot_model.anymal: {models.anymal!r} is not one of {list(ANYMAL_MODELS)}"
        )
    if models.anymal != "auto":
        return models.anymal
    return "menagerie" if _menagerie_dir(models.menagerie_root) is not None else "builtin"


def _menagerie_dir(root: str | None = None) -> Path | None:
    """The local ANYmal C menagerie directory if present: under ``root`` (a Menagerie checkout),
    else in the ``mujoco_menagerie`` cache (never downloads)."""
    if root and (Path(root) / MENAGERIE_NAME / "scene.xml").is_file():
        return Path(root) / MENAGERIE_NAME
    try:
        import mujoco_menagerie
    except ImportError:
        return None
    cache = mujoco_menagerie.Cache()
    robot = mujoco_menagerie.get(MENAGERIE_NAME)
    if cache.is_cached(robot):
        path = cache.model_path(robot)
        hits = list(path.rglob("scene.xml"))
        return hits[0].parent if hits else None
    return None


def _build_anymal_menagerie(root: str | None = None) -> mujoco.MjModel:
    directory = _menagerie_dir(root)
    if directory is None:
        try:  # explicit choice: let the package fetch it (needs network)
            import mujoco_menagerie

            directory = mujoco_menagerie.get(MENAGERIE_NAME).path()
            hits = list(Path(directory).rglob("scene.xml"))
            directory = hits[0].parent
        except Exception as exc:
            raise ConfigError(
                f"robot 'anymal': MuJoCo Menagerie model '{MENAGERIE_NAME}' is not available "
                f"locally and could not be fetched ({exc}); set robot_model.menagerie_root to a "
                "menagerie checkout or robot_model.anymal: builtin"
            ) from exc
    spec = mujoco.MjSpec.from_file(str(directory / "scene.xml"))
    if not any(g.type == mujoco.mjtGeom.mjGEOM_PLANE for g in spec.geoms):
        spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05])
    # Foot geoms are unnamed colliding spheres on the shanks: name them so sensors can be placed.
    feet = []
    for leg in ANYMAL_LEGS:
        shank = spec.body(f"{leg}_SHANK")
        if shank is None:
            raise ConfigError(f"robot 'anymal': body {leg}_SHANK not found in {directory}")
        spheres = [
            g
            for g in shank.geoms
            if g.type == mujoco.mjtGeom.mjGEOM_SPHERE and (g.contype or g.conaffinity)
        ]
        if not spheres:
            raise ConfigError(f"robot 'anymal': no foot sphere on body {leg}_SHANK in {directory}")
        spheres[0].name = f"{leg}_foot"
        feet.append((leg, f"{leg}_foot"))
    add_foot_sensors(spec, feet, scale=1.5)
    ensure_camera(spec, "base", "track", 3.0, 0.2)
    return finish_model(spec)


def _build_anymal_builtin() -> mujoco.MjModel:
    """ANYmal-C-class quadruped from primitives: ANYmal C's link lengths, masses and servo gains."""
    spec = anymal_builtin_spec()
    add_foot_sensors(spec, [(leg, f"{leg}_foot") for leg in ANYMAL_LEGS], scale=1.5)
    ensure_camera(spec, "base", "track", 3.0, 0.2)
    return finish_model(spec)


def anymal_builtin_spec() -> mujoco.MjSpec:
    """The built-in quadruped as a plain MJCF spec (bodies, joints, PD actuators, floor; no sensors
    or camera), laid out and named like Menagerie's ANYmal C."""
    spec = mujoco.MjSpec()
    spec.modelname = "anymal_c_builtin"
    spec.option.timestep = 0.002
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.add_texture(
        name="grid", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=[0.2, 0.3, 0.4], rgb2=[0.1, 0.2, 0.3], width=300, height=300,
    )  # fmt: skip
    spec.add_material(name="grid", textures=["", "grid"], texrepeat=[5, 5], reflectance=0.0)
    spec.add_material(name="body", rgba=[0.85, 0.45, 0.1, 1])
    spec.add_material(name="leg", rgba=[0.15, 0.15, 0.15, 1])
    spec.add_material(name="foot", rgba=[0.05, 0.05, 0.05, 1])
    base = _add_builtin_world(spec)
    for leg in ANYMAL_LEGS:
        _add_builtin_leg(base, leg)
    _add_builtin_servos(spec)
    return spec


def _add_builtin_world(spec: mujoco.MjSpec) -> mujoco.MjsBody:
    """Light, floor and the base body (free joint, ANYmal C's mass and inertia); returns the base."""
    world = spec.worldbody
    world.add_light(name="sun", pos=[0, 0, 4], dir=[0, 0, -1],
                    type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, diffuse=[0.8] * 3)
    world.add_geom(
        name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[100, 100, 0.05], material="grid",
        friction=[1.0, 0.005, 0.0001],
    )  # fmt: skip

    base = world.add_body(name="base", pos=[0, 0, 0.62])
    base.add_freejoint(name="root")
    base.mass = 19.2035
    base.ipos = [0.0025, 0, 0.0502]
    base.inertia = [0.2174, 0.6396, 0.6240]
    base.explicitinertial = True
    box = mujoco.mjtGeom.mjGEOM_BOX
    cyl = mujoco.mjtGeom.mjGEOM_CYLINDER
    base.add_geom(name="base_box", type=box, size=[0.5245, 0.1425, 0.09], material="body", mass=0)
    base.add_geom(name="lidar", type=cyl, size=[0.07, 0.06, 0], pos=[-0.364, 0, 0.1335],
                  material="leg", mass=0)  # fmt: skip
    base.add_geom(name="face", type=box, size=[0.01, 0.1, 0.05], pos=[0.52, 0, 0.0],
                  rgba=[0.1, 0.1, 0.1, 1], contype=0, conaffinity=0, mass=0)  # fmt: skip
    return base


def _add_builtin_leg(base: mujoco.MjsBody, leg: str) -> None:
    """Hip, thigh and shank of ``leg`` (``LF``, ``RF``, ``LH``, ``RH``) with their joints and the foot."""
    box = mujoco.mjtGeom.mjGEOM_BOX
    cyl = mujoco.mjtGeom.mjGEOM_CYLINDER
    sx = 1.0 if leg[1] == "F" else -1.0
    sy = 1.0 if leg[0] == "L" else -1.0
    hip = base.add_body(name=f"{leg}_HIP", pos=[sx * 0.2999, sy * 0.104, 0.0])
    hip.mass, hip.ipos, hip.inertia = 2.781, [sx * 0.0566, sy * 0.0153, 0.0], [0.0033, 0.0049, 0.0059]
    hip.explicitinertial = True
    hip.add_joint(name=f"{leg}_HAA", axis=[1, 0, 0], range=[-0.72, 0.72],
                  damping=ANYMAL_DAMPING, frictionloss=0.1)  # fmt: skip
    hip.add_geom(type=cyl, size=[0.05, 0.07, 0], pos=[sx * 0.06, sy * 0.012, 0],
                 quat=[0.7071068, 0, 0.7071068, 0], material="leg", mass=0)  # fmt: skip

    thigh = hip.add_body(name=f"{leg}_THIGH", pos=[sx * 0.0599, sy * 0.0726, 0.0])
    thigh.mass, thigh.ipos, thigh.inertia = 3.071, [0, sy * 0.03, -0.2457], [0.0302, 0.0299, 0.0042]
    thigh.explicitinertial = True
    thigh.add_joint(name=f"{leg}_HFE", axis=[0, 1, 0], range=[-9.42478, 9.42478],
                    damping=ANYMAL_DAMPING, frictionloss=0.1)  # fmt: skip
    thigh.add_geom(type=box, size=[0.0375, 0.03, 0.1413], pos=[0, sy * 0.03, -0.1413],
                   material="leg", mass=0)  # fmt: skip
    thigh.add_geom(type=cyl, size=[0.05, 0.07, 0], pos=[0, sy * 0.03, -0.285],
                   quat=[0.7071068, 0.7071068, 0, 0], material="body", mass=0)  # fmt: skip

    shank = thigh.add_body(name=f"{leg}_SHANK", pos=[0, sy * 0.1003, -0.285])
    shank.mass, shank.ipos, shank.inertia = 0.58842, [0, 0, -0.0807], [0.0102, 0.0092, 0.0011]
    shank.explicitinertial = True
    shank.add_joint(name=f"{leg}_KFE", axis=[0, 1, 0], range=[-9.42478, 9.42478],
                    damping=ANYMAL_DAMPING, frictionloss=0.1)  # fmt: skip
    shank.add_geom(type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[0.0175, 0, 0],
                   fromto=[0, sy * 0.013, 0, 0, sy * 0.013, -0.30], material="leg", mass=0)  # fmt: skip
    shank.add_geom(name=f"{leg}_foot", type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[0.03, 0, 0],
                   pos=[0, sy * 0.013, -0.31547], material="foot", friction=[0.8, 0.02, 0.01],
                   mass=0)  # fmt: skip


def _add_builtin_servos(spec: mujoco.MjSpec) -> None:
    """A PD position servo per joint, and no collisions between the base and the hips and thighs."""
    for leg in ANYMAL_LEGS:
        for j in ("HAA", "HFE", "KFE"):
            act = spec.add_actuator(name=f"{leg}_{j}", target=f"{leg}_{j}",
                                    trntype=mujoco.mjtTrn.mjTRN_JOINT)  # fmt: skip
            act.set_to_position(kp=ANYMAL_KP)
            act.ctrlrange = [-6.28, 6.28]
            act.ctrllimited = True
            act.forcerange = [-ANYMAL_FORCE, ANYMAL_FORCE]
            act.forcelimited = True
    for leg in ANYMAL_LEGS:  # thighs overlap the base box at the hips, as on the robot
        spec.add_exclude(bodyname1="base", bodyname2=f"{leg}_THIGH")
        spec.add_exclude(bodyname1="base", bodyname2=f"{leg}_HIP")


def build_anymal_model(models: RobotModelConfig | None = None) -> mujoco.MjModel:
    """The ANYmal C model ``models`` asks for (:func:`anymal_source`)."""
    if anymal_source(models) == "menagerie":
        return _build_anymal_menagerie((models or RobotModelConfig()).menagerie_root)
    return _build_anymal_builtin()


ANYMAL = RobotSpec(
    name="anymal",
    display_name="ANYmal C (ANYbotics quadruped, 12 position-controlled joints)",
    build_model=build_anymal_model,
    xml_path=f"mujoco_menagerie:{MENAGERIE_NAME}/scene.xml or builtin:anymal_c",
    root_body="base",
    frame_skip=10,
    dt=0.02,
    dof_names=ANYMAL_JOINTS,
    actuator_names=ANYMAL_JOINTS,
    foot_names=ANYMAL_LEGS,
    standing_height=0.62,
    body_length=1.05,
    min_torso_height=0.25,
    min_up_proj=0.0,
    max_episode_steps=1000,
    camera="track",
    control="position",
    action_scale=0.5,
    reset_noise_qpos=0.02,
    reset_noise_qvel=0.02,
    qvel_noise="uniform",
    notes=(
        "Legs LF, RF, LH, RH (left/right, front/hind); per leg HAA (hip abduction), HFE (hip "
        "flexion), KFE (knee). Base mass about 19 kg, total about 50 kg."
    ),
)
