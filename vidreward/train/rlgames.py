"""The rl-games side of training and replay: the ``params`` dict for a TrainConfig, the Runner
(imported with rl-games' import-time noise silenced) and seeding."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidreward.sim.batched import usable_cpus
from vidreward.train.config import TrainConfig
from vidreward.train.vecenv import quiet_rl_games

with quiet_rl_games():
    from rl_games.torch_runner import Runner

__all__ = ["Runner", "rl_games_params", "seed_everything"]


def rl_games_params(cfg: TrainConfig, robot: str, env_name: str, train_dir: Path,
                    env_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The rl-games ``params`` dict for ``cfg`` (CPU, no torch.compile, in-process env)."""
    threads = cfg.torch_threads or usable_cpus()
    config = _algo_config(cfg, robot, env_name, train_dir)
    if env_info is not None:
        config["env_info"] = env_info
    return {
        "seed": cfg.seed,
        "torch_threads": threads,
        "algo": {"name": "a2c_continuous"},
        "model": {"name": "continuous_a2c_logstd"},
        "network": _network(cfg),
        "config": config,
    }


def _algo_config(cfg: TrainConfig, robot: str, env_name: str, train_dir: Path) -> dict[str, Any]:
    """The ``config`` section: experiment, PPO hyperparameters, env."""
    return {
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


def _network(cfg: TrainConfig) -> dict[str, Any]:
    """The ``network`` section: a shared actor-critic MLP with a fixed, learned log-std."""
    return {
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
    }


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
