"""Train a policy with rl-games PPO on one iteration's reward code.

``train_policy`` writes into ``out_dir``:

- ``policy.pth``      rl-games checkpoint (model, running stats, optimizer, epoch, frame) plus a
                      ``vidreward`` entry (robot, dims, the TrainConfig) so it can be replayed alone
- ``train_log.csv``   one row per epoch: epoch, env_steps, wall_s, mean_return,
                      mean_episode_length, episodes, steps_per_s, mean_step_reward and
                      ``reward/<component>`` (mean per env step) for every reward component
- ``tb/``             TensorBoard events: rl-games' own scalars plus ``episode/return``,
                      ``episode/length``, ``reward/<component>``, ``reward/mean_step``, ``perf/steps_per_s``
- ``rl_games/``       rl-games' experiment directory (its own last checkpoint, its stdout log)

``policy.pth``, ``train_log.csv`` and ``tb/`` are written under temporary names in ``out_dir``
(:mod:`vidreward.fsutil`) and moved into place only when training has finished: a failure or a
kill before the end leaves the previous files untouched and nothing partial at the final names.
"""

from __future__ import annotations

import contextlib
import csv
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from vidreward.errors import ConfigError
from vidreward.fsutil import Staged
from vidreward.layout import ITERATION_FILES
from vidreward.reward.loader import load_checked_reward
from vidreward.sim.batched import usable_cpus
from vidreward.train.config import TrainConfig
from vidreward.train.vecenv import SimVecEnv, quiet_rl_games, register_vecenv, unregister_vecenv

with quiet_rl_games():
    from rl_games.common.algo_observer import AlgoObserver
    from rl_games.torch_runner import Runner

POLICY_FILE = ITERATION_FILES["policy"]
TRAIN_LOG = ITERATION_FILES["train_log"]
TB_DIR = ITERATION_FILES["tb"]
RL_GAMES_DIR = ITERATION_FILES["rl_games"]
BASE_COLUMNS = ("epoch", "env_steps", "wall_s", "mean_return", "mean_episode_length", "episodes",
                "steps_per_s", "mean_step_reward")


@dataclass
class TrainResult:
    """Where the artifacts are and how the run went."""

    policy_path: Path
    train_log: Path
    tb_dir: Path
    robot: str
    epochs: int
    env_steps: int
    wall_s: float
    steps_per_s: float
    mean_return: float
    mean_episode_length: float
    components: dict[str, float]  # last epoch's per-step mean of each reward component
    warm_started_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_path": str(self.policy_path), "train_log": str(self.train_log),
            "tb_dir": str(self.tb_dir), "robot": self.robot, "epochs": self.epochs,
            "env_steps": self.env_steps, "wall_s": self.wall_s, "steps_per_s": self.steps_per_s,
            "mean_return": self.mean_return, "mean_episode_length": self.mean_episode_length,
            "components": dict(self.components), "warm_started_from": self.warm_started_from,
        }


def rl_games_params(cfg: TrainConfig, robot: str, env_name: str, train_dir: Path,
                    env_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The rl-games ``params`` dict for ``cfg`` (CPU, no torch.compile, in-process env)."""
    threads = cfg.torch_threads or usable_cpus()
    config: dict[str, Any] = {
        "name": robot,
        "full_experiment_name": "run",
        "train_dir": str(train_dir),
        "env_name": env_name,
        "device": "cpu",
        "device_name": "cpu",
        "torch_compile": False,
        "multi_gpu": False,
        "mixed_precision": False,
        "ppo": True,
        "normalize_input": cfg.normalize_input,
        "normalize_value": cfg.normalize_value,
        "normalize_advantage": cfg.normalize_advantage,
        "value_bootstrap": True,
        "reward_shaper": {"scale_value": cfg.reward_scale},
        "num_actors": cfg.num_envs,
        "gamma": cfg.gamma,
        "tau": cfg.tau,
        "learning_rate": cfg.learning_rate,
        "lr_schedule": cfg.lr_schedule,
        "kl_threshold": cfg.kl_threshold,
        "schedule_type": "legacy",
        "max_epochs": cfg.epochs,
        "save_best_after": cfg.epochs + 1,  # no "best" checkpoints mid-run: policy.pth is the last
        "save_frequency": 0,
        "grad_norm": cfg.grad_norm,
        "truncate_grads": True,
        "entropy_coef": cfg.entropy_coef,
        "e_clip": cfg.clip,
        "clip_value": cfg.clip_value,
        "use_smooth_clamp": False,
        "bounds_loss_coef": cfg.bounds_loss_coef,
        "bound_loss_type": "bound",
        "horizon_length": cfg.horizon,
        "minibatch_size": cfg.minibatch_size,
        "mini_epochs": cfg.mini_epochs,
        "critic_coef": cfg.critic_coef,
        "clip_actions": True,
        "games_to_track": cfg.return_window,
        "print_stats": False,
        "env_config": {"seed": cfg.seed},
        "player": {"deterministic": True, "games_num": 1, "print_stats": False, "render": False},
    }
    if env_info is not None:
        config["env_info"] = env_info
    return {
        "seed": cfg.seed,
        "torch_threads": threads,
        "algo": {"name": "a2c_continuous"},
        "model": {"name": "continuous_a2c_logstd"},
        "network": {
            "name": "actor_critic",
            "separate": False,
            "space": {"continuous": {
                "mu_activation": "None", "sigma_activation": "None",
                "mu_init": {"name": "default"},
                "sigma_init": {"name": "const_initializer", "val": 0},
                "fixed_sigma": True,
            }},
            "mlp": {"units": list(cfg.units), "activation": cfg.activation, "d2rl": False,
                    "initializer": {"name": "default"}, "regularizer": {"name": "None"}},
        },
        "config": config,
    }


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a ``policy.pth`` (rl-games checkpoint) with an error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: policy checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ConfigError(f"{path}: not a readable policy checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        raise ConfigError(f"{path}: not an rl-games checkpoint (no 'model' entry)")
    return ckpt


def checkpoint_meta(ckpt: dict[str, Any], path: str | Path, robot: str, obs_dim: int,
                    action_dim: int) -> dict[str, Any]:
    """The ``vidreward`` entry of a checkpoint, checked against the robot it is used with."""
    meta = ckpt.get("vidreward")
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: checkpoint has no 'vidreward' metadata (not written by "
                          "vidreward.train.train_policy)")
    if meta.get("robot") != robot:
        raise ConfigError(f"{path}: checkpoint was trained for robot {meta.get('robot')!r}, "
                          f"not {robot!r}")
    if (meta.get("obs_dim"), meta.get("action_dim")) != (obs_dim, action_dim):
        raise ConfigError(
            f"{path}: checkpoint has obs/action dims {meta.get('obs_dim')}/{meta.get('action_dim')}"
            f", robot {robot!r} has {obs_dim}/{action_dim}")
    return meta


class _TrainMonitor(AlgoObserver):
    """rl-games algo observer: per-epoch CSV row, TensorBoard scalars, progress line."""

    def __init__(self, cfg: TrainConfig, robot: str, log_path: Path, tb_dir: Path, stream: TextIO):
        self.cfg = cfg
        self.robot = robot
        self.log_path = log_path
        self.tb_dir = tb_dir
        self.stream = stream
        self.algo: Any = None
        self.writer: Any = None
        self.t0 = time.perf_counter()
        self._last_print = -math.inf
        self._csv_file: TextIO | None = None
        self._csv: csv.DictWriter | None = None
        self.last_row: dict[str, Any] = {}
        self.components: dict[str, float] = {}

    # rl-games AlgoObserver interface
    def before_init(self, base_name, config, experiment_name):
        pass

    def after_init(self, algo):
        from torch.utils.tensorboard import SummaryWriter

        self.algo = algo
        if algo.writer is not None:  # rl-games' writer points into rl_games/; log into tb/ instead
            algo.writer.close()
        self.writer = SummaryWriter(str(self.tb_dir))
        algo.writer = self.writer

    def process_infos(self, infos, done_indices):
        pass

    def after_steps(self):
        pass

    def after_clear_stats(self):
        pass

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def after_print_stats(self, frame, epoch_num, total_time):
        env: SimVecEnv = self.algo.vec_env
        stats = env.pop_stats()
        wall = time.perf_counter() - self.t0
        env_steps = int(self.algo.frame)
        rate = env_steps / wall if wall > 0 else float("nan")
        row: dict[str, Any] = {
            "epoch": int(epoch_num),
            "env_steps": env_steps,
            "wall_s": round(wall, 3),
            "mean_return": stats.mean_return,
            "mean_episode_length": stats.mean_episode_length,
            "episodes": stats.episodes,
            "steps_per_s": round(rate, 1),
            "mean_step_reward": stats.reward_mean,
        }
        for name, value in stats.component_means.items():
            row[f"reward/{name}"] = value
        self.components = dict(stats.component_means)
        self._write_row(row)
        self.last_row = row

        w = self.writer
        if not math.isnan(stats.mean_return):
            w.add_scalar("episode/return", stats.mean_return, env_steps)
            w.add_scalar("episode/length", stats.mean_episode_length, env_steps)
        w.add_scalar("episode/completed", stats.episodes, env_steps)
        w.add_scalar("reward/mean_step", stats.reward_mean, env_steps)
        for name, value in stats.component_means.items():
            w.add_scalar(f"reward/{name}", value, env_steps)
        w.add_scalar("perf/steps_per_s", rate, env_steps)
        w.add_scalar("perf/wall_s", wall, env_steps)

        last = epoch_num >= self.cfg.epochs
        if self.cfg.progress and (last or wall - self._last_print >= self.cfg.progress_interval_s):
            self._last_print = wall
            self._progress(row, rate, env_steps)

    # helpers
    def _write_row(self, row: dict[str, Any]) -> None:
        if self._csv is None:
            self._csv_file = open(self.log_path, "w", newline="")
            self._csv = csv.DictWriter(self._csv_file, fieldnames=list(row))
            self._csv.writeheader()
        self._csv.writerow(row)
        self._csv_file.flush()

    def _progress(self, row: dict[str, Any], rate: float, env_steps: int) -> None:
        total = self.cfg.epochs * self.cfg.batch_size
        eta = (total - env_steps) / rate if rate > 0 else float("nan")
        ret = row["mean_return"]
        ret_s = "   n/a" if math.isnan(ret) else f"{ret:8.2f}"
        len_s = "n/a" if math.isnan(row["mean_episode_length"]) else f"{row['mean_episode_length']:.0f}"
        print(f"[train {self.robot}] epoch {row['epoch']}/{self.cfg.epochs}  "
              f"steps {env_steps:,}/{total:,} ({100 * env_steps / total:3.0f}%)  "
              f"return {ret_s}  ep_len {len_s}  {rate:,.0f} steps/s  "
              f"elapsed {_fmt_s(row['wall_s'])}  ETA {_fmt_s(eta)}",
              file=self.stream, flush=True)

    def close(self) -> None:
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _fmt_s(s: float) -> str:
    if math.isnan(s):
        return "?"
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _split_threads(agent: Any, update_threads: int) -> None:
    """Collect experience with one torch thread and run the PPO update with ``update_threads``.

    During the rollout MuJoCo's own threads occupy every core, so torch workers there only compete
    with them; during the update the cores are free and the gradient steps use them all.
    """
    play_steps = agent.play_steps
    rollout_threads = torch.get_num_threads()

    def play_steps_then_update_threads():
        torch.set_num_threads(rollout_threads)
        try:
            return play_steps()
        finally:
            torch.set_num_threads(update_threads)

    agent.play_steps = play_steps_then_update_threads


def train_policy(reward_path: str | Path, robot: str, cfg: TrainConfig,
                 out_dir: str | Path | None = None, init_checkpoint: str | Path | None = None, *,
                 policy_out: str | Path | None = None, train_log_out: str | Path | None = None,
                 tb_out: str | Path | None = None, threads: int | None = None) -> TrainResult:
    """Train ``robot`` with PPO on the reward code in ``reward_path``; artifacts go to ``out_dir``
    under the layout's names, or to ``policy_out`` / ``train_log_out`` / ``tb_out`` where given
    (rl-games' scratch directory goes next to the policy).

    ``threads`` caps the PPO update's torch threads when ``cfg.update_threads`` is 0 (default:
    every usable CPU); the workflow passes the rule's thread count.

    ``init_checkpoint`` (a previous iteration's ``policy.pth`` for the same robot) warm-starts the
    network weights and observation/value normalisers; optimizer state and counters start fresh.
    Deterministic for a given ``cfg.seed`` on the same machine and thread count.
    """
    from vidreward.sim import get_robot, make_sim

    reward_path = Path(reward_path)
    if out_dir is None and policy_out is None:
        raise ConfigError("train_policy: give out_dir or policy_out")
    out_dir = Path(out_dir) if out_dir is not None else Path(policy_out).parent
    policy_out = Path(policy_out) if policy_out is not None else out_dir / POLICY_FILE
    train_log_out = Path(train_log_out) if train_log_out is not None else out_dir / TRAIN_LOG
    tb_out = Path(tb_out) if tb_out is not None else out_dir / TB_DIR
    # re-checked against reward_validation.json; RewardCodeError naming the file
    reward_fn, _ = load_checked_reward(reward_path, robot, num_envs=cfg.num_envs)
    spec = get_robot(robot)
    init_ckpt = None
    if init_checkpoint is not None:
        init_ckpt = load_checkpoint(init_checkpoint)
        checkpoint_meta(init_ckpt, init_checkpoint, robot, int(spec.obs_dim), int(spec.action_dim))

    for path in (policy_out, train_log_out, tb_out):
        path.parent.mkdir(parents=True, exist_ok=True)
    rl_dir = policy_out.parent / RL_GAMES_DIR
    rl_dir.mkdir(exist_ok=True)

    def make_env() -> SimVecEnv:
        sim = make_sim(robot, cfg.num_envs, seed=cfg.seed, max_episode_steps=cfg.max_episode_steps)
        return SimVecEnv(sim, reward_fn, str(reward_path), return_window=cfg.return_window,
                         seed=cfg.seed)

    env_name = register_vecenv(make_env)
    # every artifact is written under a temporary name and published only once training is done
    staged = Staged()
    monitor = None
    prev_threads = torch.get_num_threads()
    agent = None
    try:
        tmp_log = staged.file(train_log_out)
        tmp_tb = staged.dir(tb_out)
        tmp_policy = staged.file(policy_out)  # published last
        monitor = _TrainMonitor(cfg, robot, tmp_log, tmp_tb, sys.stderr)
        with open(rl_dir / "stdout.log", "a") as rl_log, contextlib.redirect_stdout(rl_log), \
                quiet_rl_games():
            runner = Runner(algo_observer=monitor)
            runner.load({"params": rl_games_params(cfg, robot, env_name, rl_dir)})
            seed_everything(cfg.seed)
            agent = runner.algo_factory.create("a2c_continuous", base_name="run",
                                               params=runner.params)
            if init_ckpt is not None:
                try:
                    agent.set_weights(init_ckpt)
                except RuntimeError as exc:
                    raise ConfigError(f"{init_checkpoint}: cannot warm-start from this checkpoint "
                                      f"(network differs from train config units={list(cfg.units)}"
                                      f"): {exc}") from exc
            _split_threads(agent, cfg.update_threads or threads or usable_cpus())
            monitor.start()
            agent.train()
            wall = time.perf_counter() - monitor.t0
            state = agent.get_full_state_weights()
        state["vidreward"] = {
            "robot": robot,
            "obs_dim": int(spec.obs_dim),
            "action_dim": int(spec.action_dim),
            "train_config": cfg.to_dict(),
            "reward_path": str(reward_path),
            "components": list(agent.vec_env.component_names or ()),
            "warm_started_from": str(init_checkpoint) if init_checkpoint is not None else None,
        }
        torch.save(state, tmp_policy)
        monitor.close()  # flush and close the CSV and the event file before publishing
        if not tmp_log.exists():
            raise RuntimeError(f"{train_log_out}: training logged no epoch")
        staged.commit()
    finally:
        if monitor is not None:
            monitor.close()
        staged.discard()
        if agent is not None and agent.vec_env is not None:
            agent.vec_env.close()
        unregister_vecenv(env_name)
        torch.set_num_threads(prev_threads)

    env_steps = int(agent.frame)
    row = monitor.last_row
    return TrainResult(
        policy_path=policy_out,
        train_log=train_log_out,
        tb_dir=tb_out,
        robot=robot,
        epochs=int(agent.epoch_num),
        env_steps=env_steps,
        wall_s=wall,
        steps_per_s=env_steps / wall if wall > 0 else float("nan"),
        mean_return=float(row.get("mean_return", float("nan"))),
        mean_episode_length=float(row.get("mean_episode_length", float("nan"))),
        components=dict(monitor.components),
        warm_started_from=str(init_checkpoint) if init_checkpoint is not None else None,
    )
