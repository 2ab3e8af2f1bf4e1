"""The simulated robots: their MuJoCo models and the facts reward code and the trainer rely on.

Each robot is a ``RobotSpec`` (``spec.py``), defined with its model builder in its own module
(``ant.py``, ``humanoid.py``, ``anymal.py``); this package holds the registry. Every model is
compiled through ``mujoco.MjSpec`` with the same additions (``mjcf.py``), whatever its source file:

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
              one; ``vidreward.sim.robots.anymal.anymal_source`` tells which one is in use.
"""

from __future__ import annotations

import functools

import mujoco

from vidreward.errors import ConfigError
from vidreward.sim.robots.ant import ANT
from vidreward.sim.robots.anymal import ANYMAL
from vidreward.sim.robots.humanoid import HUMANOID
from vidreward.sim.robots.spec import RobotSpec

ROBOTS: dict[str, RobotSpec] = {spec.name: spec for spec in (ANT, HUMANOID, ANYMAL)}


@functools.lru_cache(maxsize=None)
def compiled_model(name: str) -> mujoco.MjModel:
    """The robot's compiled model, built once per process (treat it as read-only)."""
    return get_robot(name).build_model()


def get_robot(name: str) -> RobotSpec:
    """The robot called ``name``; ConfigError naming it and the valid names otherwise."""
    try:
        return ROBOTS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown robot {name!r}; valid robots: {', '.join(sorted(ROBOTS))}"
        ) from None
