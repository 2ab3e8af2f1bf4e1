"""Simulation backends for :class:`~vidreward.sim.base.BatchedSim` and ``make_sim``.

``rollout`` (fast, default): ``mujoco.rollout.Rollout`` steps all N states ``frame_skip`` physics
steps per call in C++ threads, no per-environment Python. Each control step starts the constraint
solver from a zero warm start (``initial_warmstart`` = 0), which keeps results independent of thread
scheduling, hence deterministic for a seed.

``python`` (reference): one ``MjData`` per environment and a plain ``mujoco.mj_step`` loop, used by
tests to check the fast path against MuJoCo. It zeroes ``qacc_warmstart`` at each control step
the same way, so both backends compute the same physics; pass ``warmstart=True`` to keep MuJoCo's
continuous warm start instead (differences then are at the solver tolerance level).
"""

from __future__ import annotations

import math
import os

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from vidreward.errors import ConfigError
from vidreward.sim.base import FULLPHYSICS, BatchedSim
from vidreward.sim.robots import get_robot

BACKENDS = ("rollout", "python")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask; the CPU count where there is none)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Threads for the rollout backend: VIDREWARD_SIM_THREADS, else the usable CPU count."""
    env = os.environ.get("VIDREWARD_SIM_THREADS")
    if env:
        try:
            value = int(env)
        except ValueError:
            raise ConfigError(f"VIDREWARD_SIM_THREADS={env!r} is not an integer") from None
        if value < 1:
            raise ConfigError(f"VIDREWARD_SIM_THREADS={env!r} must be >= 1")
        return value
    return usable_cpus()


class _ForwardMixin:
    """Sensor values of freshly set states via one scratch MjData and mj_forward."""

    def _forward_into(self, data: mujoco.MjData, i: int) -> None:
        mujoco.mj_resetData(self.model, data)
        mujoco.mj_setState(self.model, data, self._state[i], FULLPHYSICS)
        data.ctrl[:] = self._ctrl[i]
        mujoco.mj_forward(self.model, data)
        self._sens[i] = data.sensordata


class RolloutSim(_ForwardMixin, BatchedSim):
    backend = "rollout"

    def __init__(self, robot, num_envs, seed=0, max_episode_steps=None, nthread: int | None = None):
        super().__init__(robot, num_envs, seed, max_episode_steps)
        self.nthread = int(nthread or default_threads())
        self._pool = mj_rollout.Rollout(nthread=self.nthread)
        self._datas = [mujoco.MjData(self.model) for _ in range(self.nthread)]
        self._scratch = mujoco.MjData(self.model)
        n, fs, m = self.num_envs, self.robot.frame_skip, self.model
        self._out_state = np.zeros((n, fs, self.nstate))
        self._out_sens = np.zeros((n, fs, m.nsensordata))
        self._warm = np.zeros((n, m.nv))
        self._ctrl3 = np.zeros((n, fs, m.nu))  # skip_checks wants full shapes, no tiling
        self._models = [m] * n
        self._checked = False
        self.reset(seed)

    def _advance(self, ctrl: np.ndarray) -> None:
        self._ctrl3[:] = ctrl[:, None, :]
        self._pool.rollout(
            self._models if self._checked else self.model,
            self._datas,
            self._state,
            self._ctrl3,
            nstep=self.robot.frame_skip,
            initial_warmstart=self._warm,
            state=self._out_state,
            sensordata=self._out_sens,
            skip_checks=self._checked,
        )
        self._checked = True  # shapes and dtypes are fixed after the first checked call
        self._state[:] = self._out_state[:, -1]
        self._sens[:] = self._out_sens[:, -1]

    def _sensors_at(self, ids: np.ndarray) -> None:
        for i in ids.tolist():
            self._forward_into(self._scratch, i)

    def close(self) -> None:
        if not self._closed:
            self._pool.close()
        super().close()


class PythonSim(_ForwardMixin, BatchedSim):
    backend = "python"

    def __init__(self, robot, num_envs, seed=0, max_episode_steps=None, warmstart: bool = False):
        super().__init__(robot, num_envs, seed, max_episode_steps)
        self.warmstart = bool(warmstart)
        self._datas = [mujoco.MjData(self.model) for _ in range(self.num_envs)]
        self.reset(seed)

    @property
    def datas(self) -> list[mujoco.MjData]:
        """The per-env MjData (reference access to MuJoCo's own quantities)."""
        return self._datas

    def _advance(self, ctrl: np.ndarray) -> None:
        m, fs = self.model, self.robot.frame_skip
        for i, d in enumerate(self._datas):
            d.ctrl[:] = ctrl[i]
            if not self.warmstart:
                d.qacc_warmstart[:] = 0.0
            mujoco.mj_step(m, d, nstep=fs)
            mujoco.mj_getState(m, d, self._state[i], FULLPHYSICS)
            self._sens[i] = d.sensordata

    def _sensors_at(self, ids: np.ndarray) -> None:
        for i in ids.tolist():
            self._forward_into(self._datas[i], i)


def make_sim(
    robot: str,
    num_envs: int,
    seed: int = 0,
    max_episode_steps: int | None = None,
    backend: str = "auto",
    clock_hz: float = 0.0,
    **kwargs,
) -> BatchedSim:
    """N environments of ``robot``; ``backend`` 'auto' (= 'rollout'), 'rollout' or 'python'.
    ``clock_hz``: the frequency of the gait clock in the observation (0: it stands still).

    Extra keyword arguments go to the backend (``nthread`` for rollout, ``warmstart`` for python).
    The returned sim is already reset with ``seed``.
    """
    if isinstance(clock_hz, bool) or not isinstance(clock_hz, (int, float)) or not (
            math.isfinite(clock_hz) and clock_hz >= 0):
        raise ConfigError(f"clock_hz={clock_hz!r}: the gait clock's frequency must be a finite "
                          "number of Hz >= 0")
    spec = get_robot(robot)
    name = "rollout" if backend == "auto" else backend
    if name == "rollout":
        sim = RolloutSim(spec, num_envs, seed, max_episode_steps, **kwargs)
    elif name == "python":
        sim = PythonSim(spec, num_envs, seed, max_episode_steps, **kwargs)
    else:
        raise ConfigError(f"unknown simulator backend {backend!r}; valid: auto, {', '.join(BACKENDS)}")
    sim.clock_hz = float(clock_hz)
    return sim
