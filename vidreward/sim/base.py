"""``BatchedSim``: N environments of one robot, stepped together, state kept as arrays.

The physics state of every environment lives in one float64 array ``[N, nstate]`` laid out as
MuJoCo's ``mjSTATE_FULLPHYSICS`` (time, qpos, qvel, act, ...). Backends (``batched.py``) only
implement two things: advance all states by ``frame_skip`` physics steps under given controls, and
recompute the sensors of freshly reset states. Everything else -- action scaling, reset noise,
observation, named state tensors, termination, truncation -- is computed here, vectorised with
numpy over the batch, with no per-environment Python.

Semantics (what the trainer relies on):

* ``step(actions)`` applies actions in [-1, 1] and returns ``StepResult``; it does NOT auto-reset.
  The trainer computes the reward on ``result.state``, then calls ``reset_envs`` with the ids of
  ``terminated | truncated``.
* ``terminated``: the robot fell (torso below ``min_torso_height``, upside down where the robot
  checks orientation) or the physics state became non-finite.
* ``truncated``: the environment's step count since reset reached ``max_episode_steps``.
* The observation ends with a gait clock, sin and cos of 2 pi phase with phase = frac(``clock_hz``
  * episode_time), each env's own time since reset; ``clock_hz`` 0 (the default) holds it still.
  A phase-based reward term (``gait_schedule``, ``bounce_clock``) is then a function of what the policy observes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import mujoco
import numpy as np
import torch

from vidreward.errors import ConfigError
from vidreward.sim.fields import STATE_FIELD_NAMES
from vidreward.sim.kinematics import round_geom_bottoms
from vidreward.sim.robots.anymal import ANYMAL_STAND
from vidreward.sim.robots.spec import GRAVITY, RobotSpec

FULLPHYSICS = mujoco.mjtState.mjSTATE_FULLPHYSICS


@dataclass
class StepResult:
    obs: torch.Tensor  # [N, obs_dim] float32
    terminated: torch.Tensor  # [N] bool
    truncated: torch.Tensor  # [N] bool
    state: dict  # STATE_FIELDS: torch tensors (float32) and python floats


# --------------------------------------------------------------------------------------------------
# vectorised quaternion helpers (w, x, y, z)
# --------------------------------------------------------------------------------------------------
def quat_to_mat(q: np.ndarray) -> np.ndarray:
    """[N, 4] unit quaternions -> [N, 3, 3] rotation matrices (body -> world)."""
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    r = np.empty((q.shape[0], 3, 3), dtype=q.dtype)
    r[:, 0, 0] = 1 - 2 * (y * y + z * z)
    r[:, 0, 1] = 2 * (x * y - w * z)
    r[:, 0, 2] = 2 * (x * z + w * y)
    r[:, 1, 0] = 2 * (x * y + w * z)
    r[:, 1, 1] = 1 - 2 * (x * x + z * z)
    r[:, 1, 2] = 2 * (y * z - w * x)
    r[:, 2, 0] = 2 * (x * z - w * y)
    r[:, 2, 1] = 2 * (y * z + w * x)
    r[:, 2, 2] = 1 - 2 * (x * x + y * y)
    return r


def _state_layout(model: mujoco.MjModel) -> dict[str, slice]:
    """Slices of qpos/qvel/act inside a FULLPHYSICS state vector, checked against mj_getState."""
    offsets, start = {}, 0
    for name, bit in (
        ("time", mujoco.mjtState.mjSTATE_TIME),
        ("qpos", mujoco.mjtState.mjSTATE_QPOS),
        ("qvel", mujoco.mjtState.mjSTATE_QVEL),
        ("act", mujoco.mjtState.mjSTATE_ACT),
    ):
        size = mujoco.mj_stateSize(model, bit)
        offsets[name] = slice(start, start + size)
        start += size
    data = mujoco.MjData(model)
    data.time = 0.25
    data.qpos[:] = np.arange(model.nq) + 1.0
    data.qvel[:] = -np.arange(model.nv) - 1.0
    full = np.empty(mujoco.mj_stateSize(model, FULLPHYSICS))
    mujoco.mj_getState(model, data, full, FULLPHYSICS)
    if not (
        full[offsets["time"]][0] == 0.25
        and np.array_equal(full[offsets["qpos"]], data.qpos)
        and np.array_equal(full[offsets["qvel"]], data.qvel)
    ):
        raise RuntimeError(f"unexpected mjSTATE_FULLPHYSICS layout for model {model.names[:20]!r}")
    return offsets


def as_env_ids(env_ids, num_envs: int) -> np.ndarray:
    """Env ids as an int64 numpy array from a torch/numpy int index or bool mask, or a sequence."""
    if isinstance(env_ids, torch.Tensor):
        env_ids = env_ids.detach().cpu().numpy()
    ids = np.asarray(env_ids)
    if ids.dtype == bool:
        if ids.shape != (num_envs,):
            raise ValueError(f"env_ids mask has shape {ids.shape}, expected ({num_envs},)")
        return np.flatnonzero(ids)
    ids = ids.astype(np.int64, copy=False).reshape(-1)
    if ids.size and (ids.min() < 0 or ids.max() >= num_envs):
        raise ValueError(f"env_ids {ids.tolist()} out of range for {num_envs} environments")
    return ids


# --------------------------------------------------------------------------------------------------
class BatchedSim:
    """N environments of one robot. Subclasses implement ``_advance`` and ``_sensors_at``."""

    backend = "abstract"

    def __init__(
        self,
        robot: RobotSpec,
        num_envs: int,
        seed: int = 0,
        max_episode_steps: int | None = None,
    ):
        if int(num_envs) < 1:
            raise ConfigError(f"num_envs must be >= 1, got {num_envs!r}")
        self.robot = robot
        self.num_envs = n = int(num_envs)
        self.max_episode_steps = int(max_episode_steps or robot.max_episode_steps)
        if self.max_episode_steps < 1:
            raise ConfigError(f"max_episode_steps must be >= 1, got {max_episode_steps!r}")
        self.seed = int(seed)
        self.model = m = robot.model()
        if m.nq != 7 + robot.num_dofs or m.nu != robot.action_dim:
            raise ConfigError(
                f"robot '{robot.name}': model has nq={m.nq}, nu={m.nu}; spec expects "
                f"{7 + robot.num_dofs} and {robot.action_dim}"
            )
        self._layout = _state_layout(m)
        self.nstate = mujoco.mj_stateSize(m, FULLPHYSICS)
        self._qpos_sl, self._qvel_sl = self._layout["qpos"], self._layout["qvel"]
        self._time_i = self._layout["time"].start

        # sensors: one touch sensor per foot, in foot order
        self._touch_adr = np.array(
            [m.sensor_adr[m.sensor(f"touch_{foot}").id] for foot in robot.foot_names], dtype=np.int64
        )
        self._weight = float(m.body_subtreemass[m.body(robot.root_body).id] * GRAVITY)
        # and each foot geom's centre and z axis, for its lowest point (foot_heights)
        pos = [m.sensor(f"foot_pos_{foot}") for foot in robot.foot_names]
        self._foot_z_adr = np.array([m.sensor_adr[s.id] + 2 for s in pos], dtype=np.int64)
        self._foot_axis_z_adr = np.array(
            [m.sensor_adr[m.sensor(f"foot_zaxis_{foot}").id] + 2 for foot in robot.foot_names], dtype=np.int64
        )
        foot_geoms = np.array([m.sensor_objid[s.id] for s in pos])
        self._foot_kind, self._foot_size = m.geom_type[foot_geoms].astype(int), m.geom_size[foot_geoms]

        # control mapping
        lo, hi = m.actuator_ctrlrange[:, 0].copy(), m.actuator_ctrlrange[:, 1].copy()
        self._ctrl_lo, self._ctrl_hi = lo, hi
        self._ctrl_mid, self._ctrl_half = (lo + hi) / 2, (hi - lo) / 2

        self._set_initial_state()
        self._state = np.tile(self._init_state, (n, 1))  # [N, nstate] float64, C-contiguous
        self._sens = np.zeros((n, m.nsensordata))
        self._steps = np.zeros(n, dtype=np.int64)
        self._actions = np.zeros((n, robot.action_dim), dtype=np.float32)
        self._prev_actions = np.zeros((n, robot.action_dim), dtype=np.float32)
        self._ctrl = np.tile(self._reset_ctrl(), (n, 1))
        self._rng = np.random.default_rng(self.seed)
        self._cached_state: dict | None = None
        self._closed = False
        self.clock_hz = 0.0  # the gait clock's frequency (Hz); see the module docstring

    def _set_initial_state(self) -> None:
        """The state every env starts from before reset noise (``_init_state``, ``_init_qpos``) and
        the default joint pose of position control (``_default_pose``)."""
        m, robot = self.model, self.robot
        init = np.empty(self.nstate)
        data = mujoco.MjData(m)
        init_qpos = m.qpos0.copy()
        if robot.control == "position":
            pose = np.array([ANYMAL_STAND[j] for j in robot.dof_names])
            init_qpos[7:] = pose
            init_qpos[3:7] = [1.0, 0.0, 0.0, 0.0]  # face +x whatever the source model's yaw
            self._default_pose = pose
        else:
            self._default_pose = np.zeros(robot.num_dofs)
        data.qpos[:] = init_qpos
        mujoco.mj_getState(m, data, init, FULLPHYSICS)
        self._init_state = init
        self._init_qpos = init_qpos

    # ---------------------------------------------------------------- backend interface
    def _advance(self, ctrl: np.ndarray) -> None:
        """Advance every state in ``self._state`` by frame_skip physics steps under ``ctrl``;
        leave the sensordata of the last physics step in ``self._sens``."""
        raise NotImplementedError

    def _sensors_at(self, ids: np.ndarray) -> None:
        """Recompute ``self._sens[ids]`` for freshly set states (a forward pass)."""
        raise NotImplementedError

    def close(self) -> None:
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- public API
    @property
    def dt(self) -> float:
        return self.robot.dt

    def reset(self, seed: int | None = None) -> torch.Tensor:
        """Reset every environment (reseeding the noise generator if ``seed`` is given)."""
        if seed is not None:
            self.seed = int(seed)
            self._rng = np.random.default_rng(self.seed)
        self.reset_envs(np.arange(self.num_envs))
        return self._obs()

    def reset_envs(self, env_ids) -> None:
        """Reset the given environments (int ids or a bool mask, torch or numpy), batched."""
        self._check_open()
        ids = as_env_ids(env_ids, self.num_envs)
        if ids.size == 0:
            return
        k, r = ids.size, self.robot
        m = self.model
        qpos = np.tile(self._init_qpos, (k, 1))
        noise = self._rng.uniform(-r.reset_noise_qpos, r.reset_noise_qpos, size=(k, m.nq))
        qpos += noise
        qpos[:, 3:7] /= np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)
        if r.qvel_noise == "normal":
            qvel = r.reset_noise_qvel * self._rng.standard_normal(size=(k, m.nv))
        else:
            qvel = self._rng.uniform(-r.reset_noise_qvel, r.reset_noise_qvel, size=(k, m.nv))
        state = np.tile(self._init_state, (k, 1))
        state[:, self._qpos_sl] = qpos
        state[:, self._qvel_sl] = qvel
        self._state[ids] = state
        self._steps[ids] = 0
        self._actions[ids] = 0.0
        self._prev_actions[ids] = 0.0
        self._ctrl[ids] = self._reset_ctrl()
        self._sensors_at(ids)
        self._cached_state = None

    def step(self, actions: torch.Tensor) -> StepResult:
        """Apply actions [N, A] in [-1, 1] for one control step; no auto-reset."""
        self._check_open()
        a = actions.detach().cpu().numpy() if isinstance(actions, torch.Tensor) else actions
        a = np.asarray(a, dtype=np.float32)
        n, dim = self.num_envs, self.robot.action_dim
        if a.shape != (n, dim):
            raise ValueError(f"actions have shape {a.shape}, expected ({n}, {dim})")
        if not np.isfinite(a).all():
            bad = np.flatnonzero(~np.isfinite(a).all(axis=1)).tolist()
            raise ValueError(f"actions contain non-finite values in envs {bad}")
        a = np.clip(a, -1.0, 1.0)
        self._prev_actions[:] = self._actions
        self._actions[:] = a
        self._ctrl[:] = self._action_to_ctrl(a.astype(np.float64))
        self._advance(self._ctrl)
        self._steps += 1
        self._cached_state = None
        state = self.state()
        terminated = self._terminated(state)
        truncated = torch.from_numpy(self._steps >= self.max_episode_steps)
        return StepResult(self._obs(), terminated, truncated, state)

    def state(self) -> dict:
        """All STATE_FIELDS of the current state (torch float32 tensors, python floats)."""
        if self._cached_state is None:
            self._cached_state = self._compute_state()
        return self._cached_state

    def qpos_qvel(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of qpos [N, nq] and qvel [N, nv] (float64), e.g. for rendering."""
        return self._state[:, self._qpos_sl].copy(), self._state[:, self._qvel_sl].copy()

    @property
    def episode_steps(self) -> np.ndarray:
        return self._steps.copy()

    def obs(self) -> torch.Tensor:
        return self._obs()

    # ---------------------------------------------------------------- internals
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"BatchedSim({self.robot.name}) is closed")

    def _reset_ctrl(self) -> np.ndarray:
        if self.robot.control == "position":
            return np.clip(self._default_pose, self._ctrl_lo, self._ctrl_hi)
        return np.clip(np.zeros(self.robot.action_dim), self._ctrl_lo, self._ctrl_hi)

    def _action_to_ctrl(self, a: np.ndarray) -> np.ndarray:
        if self.robot.control == "position":
            target = self._default_pose + self.robot.action_scale * a
            return np.clip(target, self._ctrl_lo, self._ctrl_hi)
        return self._ctrl_mid + self._ctrl_half * a

    def _compute_state(self) -> dict:
        qpos = self._state[:, self._qpos_sl]
        qvel = self._state[:, self._qvel_sl]
        quat = qpos[:, 3:7]
        rot = quat_to_mat(quat)
        angvel_world = np.einsum("nij,nj->ni", rot, qvel[:, 3:6])
        feet = self._sens[:, self._touch_adr]
        f32 = np.float32

        def t(x):
            return torch.from_numpy(np.ascontiguousarray(x, dtype=f32))

        state = {
            "root_pos": t(qpos[:, 0:3]),
            "root_quat": t(quat),
            "root_linvel": t(qvel[:, 0:3]),
            "root_angvel": t(angvel_world),
            "dof_pos": t(qpos[:, 7:]),
            "dof_vel": t(qvel[:, 6:]),
            "actions": torch.from_numpy(self._actions.copy()),
            "prev_actions": torch.from_numpy(self._prev_actions.copy()),
            "foot_contact_forces": t(feet),
            "foot_heights": t(round_geom_bottoms(self._foot_kind, self._foot_size,
                                                 self._sens[:, self._foot_z_adr], self._sens[:, self._foot_axis_z_adr])),
            "up_proj": t(rot[:, 2, 2]),
            "heading_proj": t(rot[:, 0, 0]),
            "episode_time": t(self._steps * self.robot.dt),
            "dt": float(self.robot.dt),
            "standing_height": float(self.robot.standing_height),
            "body_length": float(self.robot.body_length),
        }
        assert tuple(state) == STATE_FIELD_NAMES
        return state

    def _obs(self) -> torch.Tensor:
        qpos = self._state[:, self._qpos_sl]
        qvel = self._state[:, self._qvel_sl]
        feet = self._sens[:, self._touch_adr] / self._weight
        phase = 2.0 * np.pi * np.remainder(self.clock_hz * self._steps * self.robot.dt, 1.0)
        clock = np.stack([np.sin(phase), np.cos(phase)], axis=1)
        obs = np.concatenate([qpos[:, 2:], qvel, feet, clock], axis=1).astype(np.float32)
        np.nan_to_num(obs, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        return torch.from_numpy(obs)

    def _terminated(self, state: dict) -> torch.Tensor:
        r = self.robot
        z = state["root_pos"][:, 2]
        fallen = z < r.min_torso_height
        if r.min_up_proj is not None:
            fallen |= state["up_proj"] < r.min_up_proj
        finite = np.isfinite(self._state).all(axis=1)
        return fallen | torch.from_numpy(~finite)

    def set_root_pose(self, env_ids, pos: Sequence[float] | None = None,
                      quat: Sequence[float] | None = None) -> None:
        """Place the torso of the given envs (tests, scripted starts); recomputes sensors."""
        ids = as_env_ids(env_ids, self.num_envs)
        if pos is not None:
            self._state[ids, self._qpos_sl.start: self._qpos_sl.start + 3] = np.asarray(pos, float)
        if quat is not None:
            q = np.asarray(quat, float)
            self._state[ids, self._qpos_sl.start + 3: self._qpos_sl.start + 7] = q / np.linalg.norm(q)
        self._sensors_at(ids)
        self._cached_state = None
