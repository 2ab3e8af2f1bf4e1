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

The rl-games configuration is built in :mod:`vidreward.train.rlgames`, the per-epoch logging is
:mod:`vidreward.train.monitor`, checkpoints are read by :mod:`vidreward.train.checkpoint`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vidreward.errors import ConfigError
from vidreward.fsutil import Staged
from vidreward.layout import ITERATION_FILES
from vidreward.reward.loader import load_checked_reward
from vidreward.sim.batched import usable_cpus
from vidreward.train.checkpoint import checkpoint_meta, load_checkpoint
from vidreward.train.config import TrainConfig
from vidreward.train.monitor import TrainMonitor
from vidreward.train.rlgames import Runner, rl_games_params, seed_everything
from vidreward.train.vecenv import SimVecEnv, quiet_rl_games, register_vecenv, unregister_vecenv

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


def _output_paths(out_dir: str | Path | None, policy_out: str | Path | None,
                  train_log_out: str | Path | None,
                  tb_out: str | Path | None) -> tuple[Path, Path, Path]:
    """(policy, train log, TensorBoard dir): the given paths, else the layout's names in ``out_dir``."""
    if out_dir is None and policy_out is None:
        raise ConfigError("train_policy: give out_dir or policy_out")
    out_dir = Path(out_dir) if out_dir is not None else Path(policy_out).parent
    policy_out = Path(policy_out) if policy_out is not None else out_dir / POLICY_FILE
    train_log_out = Path(train_log_out) if train_log_out is not None else out_dir / TRAIN_LOG
    tb_out = Path(tb_out) if tb_out is not None else out_dir / TB_DIR
    return policy_out, train_log_out, tb_out


def _create_agent(cfg: TrainConfig, robot: str, env_name: str, rl_dir: Path,
                  monitor: TrainMonitor) -> Any:
    """The rl-games PPO agent, seeded."""
    runner = Runner(algo_observer=monitor)
    runner.load({"params": rl_games_params(cfg, robot, env_name, rl_dir)})
    seed_everything(cfg.seed)
    return runner.algo_factory.create("a2c_continuous", base_name="run", params=runner.params)


def _warm_start(agent: Any, init_ckpt: dict[str, Any], init_checkpoint: str | Path,
                cfg: TrainConfig) -> None:
    """Load ``init_ckpt``'s weights and normalisers into ``agent``."""
    try:
        agent.set_weights(init_ckpt)
    except RuntimeError as exc:
        raise ConfigError(f"{init_checkpoint}: cannot warm-start from this checkpoint "
                          f"(network differs from train config units={list(cfg.units)}"
                          f"): {exc}") from exc


def _vidreward_entry(robot: str, spec: Any, cfg: TrainConfig, reward_path: Path, agent: Any,
                     init_checkpoint: str | Path | None) -> dict[str, Any]:
    """The checkpoint's ``vidreward`` entry, so the policy can be replayed alone."""
    return {
        "robot": robot,
        "obs_dim": int(spec.obs_dim),
        "action_dim": int(spec.action_dim),
        "train_config": cfg.to_dict(),
        "reward_path": str(reward_path),
        "components": list(agent.vec_env.component_names or ()),
        "clock_hz": float(agent.vec_env.sim.clock_hz),
        "warm_started_from": str(init_checkpoint) if init_checkpoint is not None else None,
    }


def _load_inputs(reward_path: Path, robot: str, cfg: TrainConfig,
                 init_checkpoint: str | Path | None) -> tuple[Any, Any, dict[str, Any] | None]:
    """(reward function, robot spec, warm-start checkpoint or None), each checked."""
    from vidreward.sim import get_robot

    # re-checked against reward_validation.json; RewardCodeError naming the file
    reward_fn, _ = load_checked_reward(reward_path, robot, num_envs=cfg.num_envs)
    spec = get_robot(robot)
    init_ckpt = None
    if init_checkpoint is not None:
        init_ckpt = load_checkpoint(init_checkpoint)
        checkpoint_meta(init_ckpt, init_checkpoint, robot, int(spec.obs_dim), int(spec.action_dim))
    return reward_fn, spec, init_ckpt


def _register_env(robot: str, cfg: TrainConfig, reward_fn: Any, reward_path: Path) -> str:
    """Register the training env factory with rl-games; returns its env name."""
    from vidreward.reward.terms import clock_frequency
    from vidreward.sim import make_sim

    clock_hz = clock_frequency(reward_path.read_text(), str(reward_path))  # the policy's gait clock

    def make_env() -> SimVecEnv:
        sim = make_sim(robot, cfg.num_envs, seed=cfg.seed, max_episode_steps=cfg.max_episode_steps,
                       clock_hz=clock_hz)
        return SimVecEnv(sim, reward_fn, str(reward_path), return_window=cfg.return_window,
                         seed=cfg.seed)

    return register_vecenv(make_env)


def _clean_up(monitor: TrainMonitor | None, staged: Staged, agent: Any, env_name: str,
              prev_threads: int) -> None:
    """Close the logs, drop unpublished files, close the env, unregister it, restore threads."""
    if monitor is not None:
        monitor.close()
    staged.discard()
    if agent is not None and agent.vec_env is not None:
        agent.vec_env.close()
    unregister_vecenv(env_name)
    torch.set_num_threads(prev_threads)


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
    reward_path = Path(reward_path)
    policy_out, train_log_out, tb_out = _output_paths(out_dir, policy_out, train_log_out, tb_out)
    reward_fn, spec, init_ckpt = _load_inputs(reward_path, robot, cfg, init_checkpoint)
    for path in (policy_out, train_log_out, tb_out):
        path.parent.mkdir(parents=True, exist_ok=True)
    rl_dir = policy_out.parent / RL_GAMES_DIR
    rl_dir.mkdir(exist_ok=True)
    env_name = _register_env(robot, cfg, reward_fn, reward_path)
    # every artifact is written under a temporary name and published only once training is done
    staged = Staged()
    monitor = None
    prev_threads = torch.get_num_threads()
    agent = None
    try:
        tmp_log = staged.file(train_log_out)
        tmp_tb = staged.dir(tb_out)
        tmp_policy = staged.file(policy_out)  # published last
        monitor = TrainMonitor(cfg, robot, tmp_log, tmp_tb, sys.stderr)
        with open(rl_dir / "stdout.log", "a") as rl_log, contextlib.redirect_stdout(rl_log), \
                quiet_rl_games():
            agent = _create_agent(cfg, robot, env_name, rl_dir, monitor)
            if init_ckpt is not None:
                _warm_start(agent, init_ckpt, init_checkpoint, cfg)
            _split_threads(agent, cfg.update_threads or threads or usable_cpus())
            monitor.start()
            agent.train()
            wall = time.perf_counter() - monitor.t0
            state = agent.get_full_state_weights()
        state["vidreward"] = _vidreward_entry(robot, spec, cfg, reward_path, agent, init_checkpoint)
        torch.save(state, tmp_policy)
        monitor.close()  # flush and close the CSV and the event file before publishing
        if not tmp_log.exists():
            raise RuntimeError(f"{train_log_out}: training logged no epoch")
        staged.commit()
    finally:
        _clean_up(monitor, staged, agent, env_name, prev_threads)

    return _result(policy_out, train_log_out, tb_out, robot, agent, monitor, wall,
                   init_checkpoint)


def _result(policy_out: Path, train_log_out: Path, tb_out: Path, robot: str, agent: Any,
            monitor: TrainMonitor, wall: float,
            init_checkpoint: str | Path | None) -> TrainResult:
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
