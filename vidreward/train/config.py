"""PPO training configuration (one flat dataclass, CleanRL style: every field documented)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from vidreward.errors import ConfigError

LR_SCHEDULES = ("adaptive", "linear", "constant")
ACTIVATIONS = ("elu", "relu", "tanh", "selu", "swish", "gelu", "softplus", "None")


@dataclass
class TrainConfig:
    """Hyper-parameters of one PPO training run (rl-games ``a2c_continuous``).

    Defaults are tuned for Ant on a 2-core CPU: big batches (many envs stepped by one simulator
    call) so that per-step Python overhead is paid once per batch, not once per env.
    """

    total_env_steps: int = 2_000_000
    """Environment steps to train for (all envs together); rounded up to whole epochs."""
    num_envs: int = 512
    """Parallel environments in the batched simulator (rl-games ``num_actors``). More envs per
    step spread the per-step Python cost (policy call, bookkeeping) over more samples: on the
    2-core machine 512 x 16 trains Ant 12% faster than 256 x 32 at the same batch size."""
    horizon: int = 16
    """Steps per env collected per epoch; one epoch = ``num_envs * horizon`` env steps (16 as in
    Isaac Gym's Ant and Humanoid PPO settings)."""
    minibatch_size: int = 2048
    """Samples per gradient step; must divide ``num_envs * horizon``."""
    mini_epochs: int = 4
    """Passes over each epoch's batch."""
    learning_rate: float = 3e-4
    """Adam learning rate (the start value for the adaptive/linear schedules)."""
    lr_schedule: str = "adaptive"
    """``adaptive`` (KL-driven, rl-games), ``linear`` (decay to 0 over the run) or ``constant``."""
    kl_threshold: float = 0.008
    """Target KL divergence of the adaptive learning-rate schedule."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.95
    """GAE lambda (rl-games calls it ``tau``)."""
    entropy_coef: float = 0.0
    """Entropy bonus coefficient."""
    critic_coef: float = 2.0
    """Value-loss coefficient."""
    clip: float = 0.2
    """PPO ratio clip (rl-games ``e_clip``)."""
    clip_value: bool = True
    """Clip the value-function update like the policy ratio."""
    grad_norm: float = 1.0
    """Global gradient-norm clip."""
    bounds_loss_coef: float = 1e-4
    """Penalty keeping the action mean inside [-1, 1] (actions are clamped to that range)."""
    units: tuple[int, ...] = (256, 128, 64)
    """Hidden layer sizes of the shared actor-critic MLP."""
    activation: str = "elu"
    """Hidden-layer activation."""
    normalize_input: bool = True
    """Running mean/std normalisation of observations (stored in the checkpoint)."""
    normalize_value: bool = True
    """Running mean/std normalisation of value targets."""
    normalize_advantage: bool = True
    """Standardise advantages per batch."""
    reward_scale: float = 1.0
    """Multiplier applied to the reward before PPO sees it (logged returns are unscaled)."""
    max_episode_steps: int | None = None
    """Episode time limit in control steps; ``None`` uses the robot's default."""
    seed: int = 0
    """Seed of torch, numpy, random and the simulator."""
    torch_threads: int = 1
    """``torch.set_num_threads`` while collecting experience (0 = all cores). 1 is fastest here:
    the MuJoCo rollout threads use every core during env steps, and idle OpenMP workers spin-wait
    and steal their cores (2 threads made rollouts 2-4x slower on the 2-core machine)."""
    update_threads: int = 0
    """``torch.set_num_threads`` during the PPO update (0 = all cores): the cores are free then, and
    2 threads run a 2048-sample gradient step 2.2x faster than 1 on the 2-core machine."""
    return_window: int = 100
    """Completed episodes averaged for ``mean_return`` / ``mean_episode_length``."""
    progress: bool = True
    """Print a progress line (env steps, return, steps/s, ETA) to stderr, at most every
    ``progress_interval_s`` seconds and on the last epoch."""
    progress_interval_s: float = 5.0
    """Minimum seconds between two progress lines."""

    def __post_init__(self) -> None:
        self.units = tuple(self.units) if isinstance(self.units, (list, tuple)) else self.units
        self._validate()

    # ----------------------------------------------------------------- derived values
    @property
    def batch_size(self) -> int:
        """Env steps collected per epoch."""
        return self.num_envs * self.horizon

    @property
    def epochs(self) -> int:
        """Epochs needed to reach ``total_env_steps`` (at least one)."""
        return max(1, math.ceil(self.total_env_steps / self.batch_size))

    # ----------------------------------------------------------------- (de)serialisation
    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, where: str = "train") -> "TrainConfig":
        """Build from a mapping (e.g. the ``train`` section of the run config).

        Unknown keys and wrongly typed values raise :class:`ConfigError` naming ``<where>.<key>``.
        """
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in d if k not in known)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(repr(where + '.' + k) for k in unknown)}; "
                f"known keys: {sorted(known)}"
            )
        for f in fields(cls):
            if f.name in d:
                d[f.name] = _coerce(f"{where}.{f.name}", f.name, d[f.name], getattr(cls, f.name, None)
                                    if f.name != "units" else cls.units)
        try:
            return cls(**d)
        except ConfigError as exc:
            raise ConfigError(f"{where}.{exc}") from None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["units"] = list(self.units)
        return out

    # ----------------------------------------------------------------- checks
    def _validate(self) -> None:
        def need(ok: bool, key: str, msg: str) -> None:
            if not ok:
                raise ConfigError(f"{key}={getattr(self, key)!r}: {msg}")

        for key in ("total_env_steps", "num_envs", "horizon", "minibatch_size", "mini_epochs",
                    "return_window"):
            v = getattr(self, key)
            need(isinstance(v, int) and not isinstance(v, bool) and v > 0, key,
                 "must be a positive integer")
        need(self.batch_size % self.minibatch_size == 0, "minibatch_size",
             f"must divide num_envs * horizon = {self.batch_size}")
        need(self.minibatch_size <= self.batch_size, "minibatch_size",
             f"must not exceed num_envs * horizon = {self.batch_size}")
        need(self.learning_rate > 0, "learning_rate", "must be > 0")
        need(self.lr_schedule in LR_SCHEDULES, "lr_schedule", f"must be one of {LR_SCHEDULES}")
        need(self.kl_threshold > 0, "kl_threshold", "must be > 0")
        need(0.0 < self.gamma <= 1.0, "gamma", "must be in (0, 1]")
        need(0.0 <= self.tau <= 1.0, "tau", "must be in [0, 1]")
        need(self.entropy_coef >= 0, "entropy_coef", "must be >= 0")
        need(self.critic_coef >= 0, "critic_coef", "must be >= 0")
        need(0 < self.clip < 1, "clip", "must be in (0, 1)")
        need(self.grad_norm > 0, "grad_norm", "must be > 0")
        need(self.bounds_loss_coef >= 0, "bounds_loss_coef", "must be >= 0")
        need(isinstance(self.units, tuple) and len(self.units) > 0
             and all(isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in self.units),
             "units", "must be a non-empty list of positive integers")
        need(self.activation in ACTIVATIONS, "activation", f"must be one of {ACTIVATIONS}")
        need(self.reward_scale > 0, "reward_scale", "must be > 0")
        need(self.max_episode_steps is None
             or (isinstance(self.max_episode_steps, int) and self.max_episode_steps > 0),
             "max_episode_steps", "must be a positive integer or null")
        need(isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0,
             "seed", "must be a non-negative integer")
        need(isinstance(self.update_threads, int) and self.update_threads >= 0, "update_threads",
             "must be an integer >= 0 (0 = all cores)")
        need(isinstance(self.torch_threads, int) and self.torch_threads >= 0, "torch_threads",
             "must be a non-negative integer (0 = all cores)")
        need(self.progress_interval_s >= 0, "progress_interval_s", "must be >= 0")


def _coerce(key: str, name: str, value: Any, default: Any) -> Any:
    """Type-check one config value against its field's default (ints accept integral floats
    such as ``2e6`` from YAML; floats accept ints)."""
    if name == "units":
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}={value!r}: must be a list of positive integers")
        return tuple(_coerce(key, "", v, 1) for v in value)
    if name == "max_episode_steps" and value is None:
        return None
    if isinstance(default, bool) or name in ("progress", "clip_value"):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}={value!r}: must be true or false")
        return value
    if isinstance(default, int) or name == "max_episode_steps":
        if isinstance(value, bool):
            raise ConfigError(f"{key}={value!r}: must be an integer")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int):
            raise ConfigError(f"{key}={value!r}: must be an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}={value!r}: must be a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{key}={value!r}: must be a string")
        return value
    return value
