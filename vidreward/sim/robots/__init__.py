"""The simulated robots: their MuJoCo models and the facts reward code and the trainer rely on.

Each robot is a ``RobotSpec`` (``spec.py``), defined with its model builder in its own module
(``ant.py``, ``humanoid.py``, ``anymal.py``); this package holds the registry. Every model is
compiled through ``mujoco.MjSpec`` with the same additions (``mjcf.py``), whatever its source file:

* a touch sensor on a site enclosing each foot, so ``foot_contact_forces`` come from ``sensordata``
  (which ``mujoco.rollout`` returns, so the batched fast path needs no per-env Python), and the
  foot geom's position and z axis, from which ``foot_heights`` are read the same way;
* a tracking camera named :attr:`RobotSpec.camera` giving a side view (looking along +y);
* an offscreen buffer large enough for 1080-pixel renders.

Robots:

``ant``       Gymnasium's ``ant.xml`` (Ant-v5), torque control, ctrlrange +-1.
``humanoid``  Gymnasium's ``humanoid.xml`` (Humanoid-v5), torque control scaled to ctrlrange.
``anymal``    ANYbotics ANYmal C with position (PD) control. The run's ``robot_model.anymal``
              (:class:`RobotModelConfig`) picks the model: ``menagerie`` (the MuJoCo Menagerie
              model, from ``robot_model.menagerie_root`` or the ``mujoco_menagerie`` cache; the
              ``mujoco-menagerie`` wheel carries only a registry and downloads models on first use,
              which is impossible offline), ``builtin`` (primitive geometry with ANYmal C's link
              lengths, masses, joint layout and PD gains) or ``auto`` (default: Menagerie's when its
              files are on disk, else the built-in one); ``vidreward.sim.robots.anymal.anymal_source``
              tells which one a setting compiles.

A process compiles the models its stage's settings select (:func:`use_models`, called by the
stages before anything is simulated or rendered; default ``RobotModelConfig()``).
"""

from __future__ import annotations

import functools

import mujoco

from vidreward.errors import ConfigError
from vidreward.sim.robots.ant import ANT
from vidreward.sim.robots.anymal import ANYMAL
from vidreward.sim.robots.humanoid import HUMANOID
from vidreward.sim.robots.spec import RobotModelConfig, RobotSpec

ROBOTS: dict[str, RobotSpec] = {spec.name: spec for spec in (ANT, HUMANOID, ANYMAL)}
_SELECTED: list[RobotModelConfig] = [RobotModelConfig()]


def use_models(models: RobotModelConfig | None) -> None:
    """Compile robots from the model sources ``models`` names (None: the defaults) in this process
    from now on."""
    models = models if models is not None else RobotModelConfig()
    if not isinstance(models, RobotModelConfig):
        raise TypeError(f"use_models takes a RobotModelConfig, not {type(models).__name__}")
    _SELECTED[0] = models


def selected_models() -> RobotModelConfig:
    """The model sources this process compiles robots from (:func:`use_models`)."""
    return _SELECTED[0]


def model_source(name: str, models: RobotModelConfig | None = None) -> str:
    """Which model robot ``name`` compiles from under ``models`` (for provenance): ANYmal's
    'menagerie' or 'builtin', else the robot's model file."""
    if name == ANYMAL.name:
        from vidreward.sim.robots.anymal import anymal_source

        return anymal_source(models or selected_models())
    return get_robot(name).xml_path


@functools.lru_cache(maxsize=None)
def compiled_model(name: str, models: RobotModelConfig | None = None) -> mujoco.MjModel:
    """The robot's compiled model, built once per process and ``models`` (treat it as read-only)."""
    return get_robot(name).build_model(models or selected_models())


def get_robot(name: str) -> RobotSpec:
    """The robot called ``name``; ConfigError naming it and the valid names otherwise."""
    try:
        return ROBOTS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown robot {name!r}; valid robots: {', '.join(sorted(ROBOTS))}"
        ) from None
