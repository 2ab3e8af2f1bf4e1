"""rl-games vector-env adapter over :class:`vidreward.sim` batched simulators.

One ``step`` = one simulator call for all envs, one call of the run's reward code on the batched
state, and one ``reset_envs`` call for the envs that finished. No per-env Python on that path.
The adapter also accumulates what the training log reports: per-episode returns and lengths
(unscaled reward) and the per-step mean of every reward component.
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from gymnasium import spaces


@contextlib.contextmanager
def quiet_rl_games():
    """Silence rl-games' own deprecation noise (its torch.jit.script / numpy.core uses)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"numpy\.core is deprecated",
                                category=DeprecationWarning)
        yield


with quiet_rl_games():
    from rl_games.common import env_configurations, vecenv
    from rl_games.common.ivecenv import IVecEnv

from vidreward.errors import RewardCodeError
from vidreward.reward.loader import RewardFunction

_counter = itertools.count()


@dataclass
class EpochStats:
    """What the vector env saw since the last :meth:`SimVecEnv.pop_stats` call."""

    env_steps: int
    episodes: int
    mean_return: float  # over the last ``return_window`` completed episodes (NaN: none yet)
    mean_episode_length: float
    component_means: dict[str, float] = field(default_factory=dict)  # per env step, this epoch
    reward_mean: float = float("nan")  # per env step, this epoch


class SimVecEnv(IVecEnv):
    """``IVecEnv`` over one ``BatchedSim``; reward computed by ``reward_fn`` on the step's state.

    Rewards are returned unscaled (rl-games' reward shaper applies ``TrainConfig.reward_scale``),
    ``dones`` = terminated or truncated, and ``infos["time_outs"]`` marks the truncations so that
    rl-games bootstraps their value instead of treating them as terminal.
    """

    def __init__(self, sim: Any, reward_fn: RewardFunction, reward_origin: str,
                 return_window: int = 100, seed: int = 0):
        self.sim = sim
        self.reward_fn = reward_fn
        self.reward_origin = reward_origin
        self.num_envs = int(sim.num_envs)
        self.seed_value = int(seed)
        spec = sim.robot
        self.obs_dim = int(spec.obs_dim)
        self.action_dim = int(spec.action_dim)
        n = self.num_envs
        self._ep_return = torch.zeros(n, dtype=torch.float64)
        self._ep_len = torch.zeros(n, dtype=torch.int64)
        self._done_returns: deque[float] = deque(maxlen=return_window)
        self._done_lengths: deque[int] = deque(maxlen=return_window)
        self.component_names: tuple[str, ...] | None = None
        self._comp_sum: torch.Tensor | None = None
        self._reward_sum = torch.zeros((), dtype=torch.float64)
        self._steps = 0
        self._episodes = 0

    # ------------------------------------------------------------------ IVecEnv
    def get_env_info(self) -> dict[str, Any]:
        return {
            "observation_space": spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float32),
            "action_space": spaces.Box(-1.0, 1.0, (self.action_dim,), np.float32),
            "agents": 1,
            "value_size": 1,
        }

    def get_number_of_agents(self) -> int:
        return 1

    def seed(self, seed: int) -> None:
        self.seed_value = int(seed)

    def reset(self) -> torch.Tensor:
        obs = self.sim.reset(self.seed_value)
        self._ep_return.zero_()
        self._ep_len.zero_()
        return obs

    def step(self, actions: torch.Tensor):
        if not isinstance(actions, torch.Tensor):
            actions = torch.as_tensor(actions, dtype=torch.float32)
        res = self.sim.step(actions)
        reward, components = self.compute_reward(res.state)

        terminated = res.terminated
        truncated = res.truncated & ~terminated
        done = terminated | truncated

        self._ep_return += reward
        self._ep_len += 1
        self._steps += 1
        self._reward_sum += reward.sum(dtype=torch.float64)
        self._comp_sum += torch.stack([c.reshape(-1) for c in components.values()]).sum(
            1, dtype=torch.float64)

        obs = res.obs
        if bool(done.any()):
            ids = done.nonzero(as_tuple=False).squeeze(1)
            self._done_returns.extend(self._ep_return[ids].tolist())
            self._done_lengths.extend(self._ep_len[ids].tolist())
            self._episodes += int(ids.numel())
            self._ep_return[ids] = 0.0
            self._ep_len[ids] = 0
            obs = self._reset_and_observe(obs, ids)

        infos = {"time_outs": truncated.to(torch.uint8)}
        return obs, reward, done.to(torch.uint8), infos

    # ------------------------------------------------------------------ helpers
    def _reset_and_observe(self, obs: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Reset the finished envs (one batched call) and return the observations with their
        rows replaced by the fresh post-reset observations."""
        self.sim.reset_envs(ids)
        fresh = self.sim.obs()
        obs[ids] = fresh[ids]
        return obs

    def compute_reward(self, state: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Call the reward code once on the whole batch and check what it returned."""
        try:
            out = self.reward_fn(state)
        except Exception as exc:
            raise RewardCodeError(
                f"{self.reward_origin}: compute_reward raised {exc!r} during training", "runtime"
            ) from exc
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict)):
            raise RewardCodeError(
                f"{self.reward_origin}: compute_reward must return (reward, components: dict) at "
                f"every step; after {self._steps} training steps it returned {type(out).__name__}",
                "return")
        reward, components = out
        if self.component_names is None:
            self._set_components(components)
        if tuple(components) != self.component_names:
            raise RewardCodeError(
                f"{self.reward_origin}: compute_reward returned components {list(components)} "
                f"but earlier steps returned {list(self.component_names)}", "runtime")
        n = self.num_envs
        if not isinstance(reward, torch.Tensor) or reward.shape != (n,):
            raise RewardCodeError(
                f"{self.reward_origin}: reward must be a tensor of shape [{n}] at every step; after "
                f"{self._steps} training steps it was {getattr(reward, 'shape', type(reward).__name__)}",
                "shape")
        for name, value in components.items():
            if not isinstance(value, torch.Tensor) or value.shape != (n,):
                raise RewardCodeError(
                    f"{self.reward_origin}: component {name!r} must be a tensor of shape [{n}] at "
                    f"every step; after {self._steps} training steps it was "
                    f"{getattr(value, 'shape', type(value).__name__)}", "shape")
        if not bool(torch.isfinite(reward).all()):
            bad = [name for name, value in components.items() if not bool(torch.isfinite(value).all())]
            terms = f"; non-finite term(s): {', '.join(bad)}" if bad else ""
            raise RewardCodeError(
                f"{self.reward_origin}: compute_reward returned a non-finite reward "
                f"(NaN/inf) after {self._steps} training steps{terms}", "finite")
        for name, value in components.items():
            if not bool(torch.isfinite(value).all()):
                raise RewardCodeError(
                    f"{self.reward_origin}: reward term {name!r} is NaN/inf after {self._steps} "
                    "training steps", "finite")
        return reward.to(torch.float32), components

    def _set_components(self, components: dict) -> None:
        """The first step fixes the component names (checked: literals of the code, identifiers)."""
        if not components:
            raise RewardCodeError(f"{self.reward_origin}: compute_reward returned no components",
                                  "runtime")
        self.reward_fn.check_component_names(list(components))
        self.component_names = tuple(components)
        self._comp_sum = torch.zeros(len(components), dtype=torch.float64)

    def pop_stats(self) -> EpochStats:
        """Stats since the previous call; component sums and step counters restart."""
        env_steps = self._steps * self.num_envs
        comps: dict[str, float] = {}
        if self.component_names is not None and env_steps:
            means = (self._comp_sum / env_steps).tolist()
            comps = dict(zip(self.component_names, means))
            self._comp_sum.zero_()
        stats = EpochStats(
            env_steps=env_steps,
            episodes=self._episodes,
            mean_return=float(np.mean(self._done_returns)) if self._done_returns else float("nan"),
            mean_episode_length=(float(np.mean(self._done_lengths)) if self._done_lengths
                                 else float("nan")),
            component_means=comps,
            reward_mean=float(self._reward_sum / env_steps) if env_steps else float("nan"),
        )
        self._steps = 0
        self._episodes = 0
        self._reward_sum.zero_()
        return stats

    def close(self) -> None:
        self.sim.close()


def register_vecenv(make_env) -> str:
    """Register an in-process env with rl-games under a fresh name and return that name.

    ``make_env()`` builds the :class:`SimVecEnv` when rl-games asks for it (no Ray).
    """
    name = f"vidreward_{next(_counter)}"

    def create(config_name: str, num_actors: int, **kwargs: Any) -> SimVecEnv:
        env = make_env()
        if env.num_envs != num_actors:
            raise ValueError(f"{config_name}: rl-games asked for {num_actors} actors, "
                             f"the simulator has {env.num_envs}")
        return env

    vecenv.register(name, create)
    env_configurations.register(name, {"vecenv_type": name, "env_creator": lambda **kw: make_env()})
    return name


def unregister_vecenv(name: str) -> None:
    vecenv.vecenv_config.pop(name, None)
    env_configurations.configurations.pop(name, None)
