"""The simulated robots: their MuJoCo models and the facts reward code and the trainer rely on.

Each robot is a :class:`RobotSpec`. Its model is compiled through ``mujoco.MjSpec`` so that every
robot gets the same additions regardless of its source file:

* a touch sensor on a site enclosing each foot, so ``foot_contact_forces`` come from ``sensordata``
  (which ``mujoco.rollout`` returns, so the batched fast path needs no per-env Python);
* a tracking camera named :attr:`RobotSpec.camera` giving a side view (looking along +y);
* an offscreen buffer large enough for 1080-pixel renders.

Robots:

``ant``       Gymnasium's ``ant.xml`` (Ant-v5), torque control, ctrlrange +-1.
``humanoid``  Gymnasium's ``humanoid.xml`` (Humanoid-v5), torque control scaled to ctrlrange.
``anymal``    ANYbotics ANYmal C with position (PD) control. The MuJoCo Menagerie model is used when
              it is available locally (``mujoco_menagerie`` cache or ``MENAGERIE_ROOT``); the
              ``mujoco-menagerie`` wheel carries only a registry and downloads models on first use,
              which is impossible offline, so otherwise a built-in ANYmal-C-class model is compiled
              (primitive geometry with ANYmal C's link lengths, masses, joint layout and PD gains).
              ``VIDREWARD_ANYMAL_SOURCE`` = ``auto`` (default), ``menagerie`` or ``builtin`` picks
              one; :func:`anymal_source` tells which one is in use.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import mujoco

from vidreward.errors import ConfigError

GRAVITY = 9.81
OFFSCREEN_SIZE = 1920


# --------------------------------------------------------------------------------------------------
# spec
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobotSpec:
    """Everything about one robot that the simulator, trainer, renderer and LLM context need."""

    name: str
    display_name: str
    build_model: Callable[[], mujoco.MjModel] = field(repr=False, compare=False)
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
        return (1 + 4 + self.num_dofs) + (6 + self.num_dofs) + self.num_feet

    def model(self) -> mujoco.MjModel:
        """The compiled model (compiled once per process; treat it as read-only)."""
        return _compiled(self.name)

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
            "velocities, and foot normal contact forces divided by the robot's weight.",
            "The simulator computes no reward: the reward function receives the named state tensors.",
        ]
        if self.notes:
            lines.append(self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# model building helpers
# --------------------------------------------------------------------------------------------------
def _gym_asset(name: str) -> Path:
    import gymnasium

    path = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / name
    if not path.is_file():
        raise ConfigError(f"Gymnasium MuJoCo asset {path} not found (install gymnasium[mujoco])")
    return path


def _add_foot_sensors(spec: mujoco.MjSpec, feet: list[tuple[str, str]], scale: float = 1.5) -> None:
    """Add a site enclosing each foot geom and a touch sensor on it.

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


def _ensure_camera(spec: mujoco.MjSpec, root_body: str, name: str, distance: float, height: float):
    """A trackcom camera on the root body looking along +y (side view), unless one is named so."""
    if any(c.name == name for c in spec.cameras):
        return
    spec.body(root_body).add_camera(
        name=name,
        mode=mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM,
        pos=[0.0, -distance, height],
        xyaxes=[1, 0, 0, 0, 0, 1],
    )


def _finish(spec: mujoco.MjSpec) -> mujoco.MjModel:
    spec.visual.global_.offwidth = OFFSCREEN_SIZE
    spec.visual.global_.offheight = OFFSCREEN_SIZE
    return spec.compile()


# --------------------------------------------------------------------------------------------------
# ant, humanoid
# --------------------------------------------------------------------------------------------------
ANT_FEET = [
    ("front_left", "left_ankle_geom"),
    ("front_right", "right_ankle_geom"),
    ("back_left", "third_ankle_geom"),
    ("back_right", "fourth_ankle_geom"),
]


def _build_ant() -> mujoco.MjModel:
    spec = mujoco.MjSpec.from_file(str(_gym_asset("ant.xml")))
    _add_foot_sensors(spec, ANT_FEET)
    _ensure_camera(spec, "torso", "track", 3.0, 0.3)
    return _finish(spec)


HUMANOID_FEET = [("right", "right_foot"), ("left", "left_foot")]


def _build_humanoid() -> mujoco.MjModel:
    spec = mujoco.MjSpec.from_file(str(_gym_asset("humanoid.xml")))
    _add_foot_sensors(spec, HUMANOID_FEET, scale=1.3)
    _ensure_camera(spec, "torso", "track", 4.0, 0.0)
    return _finish(spec)


# --------------------------------------------------------------------------------------------------
# anymal
# --------------------------------------------------------------------------------------------------
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


def anymal_source() -> str:
    """'menagerie' or 'builtin': which ANYmal C model this process uses (see module doc)."""
    choice = os.environ.get("VIDREWARD_ANYMAL_SOURCE", "auto").strip().lower()
    if choice not in ("auto", "menagerie", "builtin"):
        raise ConfigError(
            f"VIDREWARD_ANYMAL_SOURCE={choice!r} is not one of 'auto', 'menagerie', 'builtin'"
        )
    if choice != "auto":
        return choice
    return "menagerie" if _menagerie_dir() is not None else "builtin"


def _menagerie_dir() -> Path | None:
    """The local ANYmal C menagerie directory if present (never downloads)."""
    try:
        import mujoco_menagerie
    except ImportError:
        return None
    root = os.environ.get("MENAGERIE_ROOT")
    if root and (Path(root) / MENAGERIE_NAME / "scene.xml").is_file():
        return Path(root) / MENAGERIE_NAME
    cache = mujoco_menagerie.Cache()
    robot = mujoco_menagerie.get(MENAGERIE_NAME)
    if cache.is_cached(robot):
        path = cache.model_path(robot)
        hits = list(path.rglob("scene.xml"))
        return hits[0].parent if hits else None
    return None


def _build_anymal_menagerie() -> mujoco.MjModel:
    import mujoco_menagerie

    directory = _menagerie_dir()
    if directory is None:
        try:  # explicit choice: let the package fetch it (needs network)
            directory = mujoco_menagerie.get(MENAGERIE_NAME).path()
            hits = list(Path(directory).rglob("scene.xml"))
            directory = hits[0].parent
        except Exception as exc:
            raise ConfigError(
                f"robot 'anymal': MuJoCo Menagerie model '{MENAGERIE_NAME}' is not available "
                f"locally and could not be fetched ({exc}); set MENAGERIE_ROOT to a menagerie "
                "checkout or VIDREWARD_ANYMAL_SOURCE=builtin"
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
    _add_foot_sensors(spec, feet, scale=1.5)
    _ensure_camera(spec, "base", "track", 3.0, 0.2)
    return _finish(spec)


def _build_anymal_builtin() -> mujoco.MjModel:
    """ANYmal-C-class quadruped from primitives: ANYmal C's link lengths, masses and servo gains."""
    spec = anymal_builtin_spec()
    _add_foot_sensors(spec, [(leg, f"{leg}_foot") for leg in ANYMAL_LEGS], scale=1.5)
    _ensure_camera(spec, "base", "track", 3.0, 0.2)
    return _finish(spec)


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

    for leg in ANYMAL_LEGS:
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
    return spec


def _build_anymal() -> mujoco.MjModel:
    return _build_anymal_menagerie() if anymal_source() == "menagerie" else _build_anymal_builtin()


# --------------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------------
ROBOTS: dict[str, RobotSpec] = {
    "ant": RobotSpec(
        name="ant",
        display_name="Ant (Gymnasium Ant-v5 model, four-legged)",
        build_model=_build_ant,
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
    ),
    "humanoid": RobotSpec(
        name="humanoid",
        display_name="Humanoid (Gymnasium Humanoid-v5 model, bipedal)",
        build_model=_build_humanoid,
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
    ),
    "anymal": RobotSpec(
        name="anymal",
        display_name="ANYmal C (ANYbotics quadruped, 12 position-controlled joints)",
        build_model=_build_anymal,
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
    ),
}


@functools.lru_cache(maxsize=None)
def _compiled(name: str) -> mujoco.MjModel:
    return get_robot(name).build_model()


def get_robot(name: str) -> RobotSpec:
    """The robot called ``name``; ConfigError naming it and the valid names otherwise."""
    try:
        return ROBOTS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown robot {name!r}; valid robots: {', '.join(sorted(ROBOTS))}"
        ) from None
