"""Deterministic replay of a trained policy: ``trajectory.npz`` (the stable contract) + ``rollout.mp4``.

Both files are written under temporary names next to their final ones (:mod:`vidreward.fsutil`) and
moved into place together once both are complete: a failure or a kill before the end leaves the
previous files untouched and nothing partial at the final names.
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidreward.errors import ConfigError
from vidreward.fsutil import Staged
from vidreward.layout import ITERATION_FILES
from vidreward.reward.loader import load_checked_reward
from vidreward.train.config import TrainConfig
from vidreward.train.checkpoint import checkpoint_meta, load_checkpoint
from vidreward.train.rlgames import Runner, rl_games_params, seed_everything
from vidreward.train.vecenv import SimVecEnv, quiet_rl_games

TRAJECTORY_FILE = ITERATION_FILES["trajectory"]
VIDEO_FILE = ITERATION_FILES["rollout"]
# state fields recorded per step, in the order of the trajectory contract (docs/ARCHITECTURE.md)
TRAJECTORY_FIELDS = ("root_pos", "root_quat", "root_linvel", "root_angvel", "dof_pos", "dof_vel",
                     "actions", "foot_contact_forces")


def rollout_policy(policy_path: str | Path, reward_path: str | Path, robot: str,
                   out_dir: str | Path | None = None, steps: int = 0, seed: int = 0,
                   render_size: int = 480, fps: float | None = None, camera: str = "tracking", *,
                   video_out: str | Path | None = None,
                   trajectory_out: str | Path | None = None) -> dict[str, Any]:
    """Replay ``policy_path`` deterministically in ONE env of ``robot`` for ``steps`` control steps
    (fewer if the episode terminates or hits its time limit) and write ``trajectory.npz`` and
    ``rollout.mp4`` into ``out_dir`` (the layout's names), or to ``trajectory_out`` / ``video_out``
    where given.

    Row k of the trajectory is the state after control step k+1 (``t`` = (k+1) * dt), with the
    action applied in that step and each reward component computed on that state; the video
    shows the same T states. Env 0 of a 1-env simulator seeded with ``seed``; the policy's
    mean action is used (deterministic). ``camera`` is "tracking" or "fixed" (see
    :mod:`vidreward.sim.render`). The video plays at real time (``1 / dt`` fps) unless
    ``fps`` is given. Neither file is replaced unless both were written completely. Returns
    ``{"steps", "total_reward", "components", "terminated", "truncated", "dt", "video_fps",
    "render_fps", "frames", "trajectory", "video"}``.
    """
    from vidreward.sim import get_robot

    if not isinstance(steps, int) or isinstance(steps, bool) or steps <= 0:
        raise ConfigError(f"steps={steps!r}: rollout length must be a positive integer")
    if fps is not None and not fps > 0:
        raise ConfigError(f"fps={fps!r}: must be > 0")
    if out_dir is None and video_out is None:
        raise ConfigError("rollout_policy: give out_dir or video_out")
    policy_path, reward_path = Path(policy_path), Path(reward_path)
    out_dir = Path(out_dir) if out_dir is not None else Path(video_out).parent
    traj_path = Path(trajectory_out) if trajectory_out is not None else out_dir / TRAJECTORY_FILE
    video_path = Path(video_out) if video_out is not None else out_dir / VIDEO_FILE
    reward_fn, _ = load_checked_reward(reward_path, robot)  # re-checked, as in training
    spec = get_robot(robot)
    ckpt = load_checkpoint(policy_path)
    meta = checkpoint_meta(ckpt, policy_path, robot, int(spec.obs_dim), int(spec.action_dim))
    cfg = TrainConfig.from_dict(meta.get("train_config", {}), where=f"{policy_path}:train_config")
    del ckpt
    for path in (traj_path, video_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    with Staged() as staged:
        tmp_traj = staged.file(traj_path)
        tmp_video = staged.file(video_path)
        result = _replay_and_render(policy_path, reward_path, reward_fn, robot, spec, cfg, out_dir,
                                    steps, seed, render_size, fps, tmp_traj, tmp_video, camera,
                                    clock_hz=meta.get("clock_hz", 0.0))
        staged.commit()  # the video is published last
    result["trajectory"] = str(traj_path)
    result["video"] = str(video_path)
    return result


def _replay_and_render(policy_path: Path, reward_path: Path, reward_fn: Any, robot: str, spec: Any,
                       cfg: TrainConfig, out_dir: Path, steps: int, seed: int, render_size: int,
                       fps: float | None, traj_out: Path, video_out: Path,
                       camera: str = "tracking", clock_hz: float = 0.0) -> dict[str, Any]:
    """The rollout itself: the trajectory goes to ``traj_out``, the video to ``video_out``. The
    policy observes the gait clock it trained with (``clock_hz``, from its checkpoint)."""
    from vidreward.sim import make_sim
    from vidreward.sim.render import render_video

    sim = make_sim(robot, 1, seed=seed, max_episode_steps=cfg.max_episode_steps, clock_hz=clock_hz)
    try:
        env = SimVecEnv(sim, reward_fn, str(reward_path), seed=seed)
        player = _make_player(policy_path, robot, cfg, seed, out_dir, env)
        dt = float(spec.dt)
        played = _play(sim, env, player, steps, seed, int(spec.action_dim))
        np.savez(traj_out, **_trajectory_arrays(played, robot, dt))
    finally:
        sim.close()

    T = len(played["qpos_frames"])
    video_fps = float(fps) if fps is not None else 1.0 / dt
    t0 = time.perf_counter()
    info = render_video(robot, np.stack(played["qpos_frames"]), video_out, video_fps,
                        size=render_size, camera=camera)
    render_wall = time.perf_counter() - t0
    return {
        "steps": T,
        "total_reward": played["total_reward"],
        "components": {name: float(np.sum(v)) for name, v in played["components"].items()},
        "terminated": played["terminated"],
        "truncated": played["truncated"],
        "dt": dt,
        "video_fps": video_fps,
        "render_fps": float(info.get("render_fps", T / render_wall if render_wall > 0 else 0.0)),
        "frames": int(info.get("frames", T)),
    }


def _make_player(policy_path: Path, robot: str, cfg: TrainConfig, seed: int, out_dir: Path,
                 env: SimVecEnv) -> Any:
    """An rl-games player for one env, restored from ``policy_path``."""
    params = rl_games_params(cfg.__class__(**{**cfg.to_dict(), "num_envs": 1, "horizon": 1,
                                              "minibatch_size": 1, "seed": seed}),
                             robot, env_name="vidreward_rollout",
                             train_dir=out_dir, env_info=env.get_env_info())
    prev_threads = torch.get_num_threads()
    with contextlib.redirect_stdout(io.StringIO()), quiet_rl_games():  # rl-games' noise
        runner = Runner()
        runner.load({"params": params})
        seed_everything(seed)
        player = runner.create_player()
        player.restore(str(policy_path))
    torch.set_num_threads(prev_threads)
    player.has_batch_dimension = True
    return player


def _play(sim: Any, env: SimVecEnv, player: Any, steps: int, seed: int,
          action_dim: int) -> dict[str, Any]:
    """Up to ``steps`` deterministic control steps of env 0: the recorded state fields, reward
    components, qpos frames, total reward and how the episode ended."""
    records: dict[str, list[np.ndarray]] = {k: [] for k in TRAJECTORY_FIELDS}
    comp_records: dict[str, list[float]] = {}
    qpos_frames: list[np.ndarray] = []
    total_reward = 0.0
    terminated = truncated = False
    obs = sim.reset(seed)
    for _ in range(steps):
        action = player.get_action(obs, is_deterministic=True).reshape(1, action_dim)
        res = sim.step(action.to(torch.float32))
        reward, comps = env.compute_reward(res.state)
        state = res.state
        for k in TRAJECTORY_FIELDS:
            records[k].append(_row0(state[k]))
        for name, value in comps.items():
            comp_records.setdefault(name, []).append(float(value.reshape(-1)[0]))
        total_reward += float(reward[0])
        qpos_frames.append(np.asarray(sim.qpos_qvel()[0][0], dtype=np.float64).copy())
        terminated = bool(res.terminated[0])
        truncated = bool(res.truncated[0]) and not terminated
        if terminated or truncated:
            break
        obs = res.obs
    return {"records": records, "components": comp_records, "qpos_frames": qpos_frames,
            "total_reward": total_reward, "terminated": terminated, "truncated": truncated}


def _trajectory_arrays(played: dict[str, Any], robot: str, dt: float) -> dict[str, Any]:
    """The arrays of ``trajectory.npz`` (the trajectory contract) from what :func:`_play` recorded."""
    T = len(played["qpos_frames"])
    arrays: dict[str, Any] = {
        "dt": np.float64(dt),
        "robot": np.str_(robot),
        "t": np.arange(1, T + 1, dtype=np.float64) * dt,
    }
    for k in TRAJECTORY_FIELDS:
        arrays[k] = np.stack(played["records"][k]).astype(np.float32)
    for name, values in played["components"].items():
        arrays[f"reward_{name}"] = np.asarray(values, dtype=np.float32)
    return arrays


def _row0(value: Any) -> np.ndarray:
    """Env 0's value of one state field as a numpy array."""
    if isinstance(value, torch.Tensor):
        return value[0].detach().cpu().numpy()
    return np.asarray(value)[0]
