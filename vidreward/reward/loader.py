"""Load a ``compute_reward`` function from reward code and call it on named state tensors."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import torch

from vidreward.errors import RewardCodeError
from vidreward.sim.fields import STATE_FIELD_NAMES

REWARD_FUNCTION = "compute_reward"


@dataclass
class RewardFunction:
    """A loaded reward function plus the state fields it asks for."""

    fn: Callable
    params: tuple[str, ...]
    source: str

    def __call__(self, state: Mapping[str, object]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.fn(**{name: state[name] for name in self.params})


def load_reward_source(source: str, origin: str = "<reward>") -> RewardFunction:
    """Compile reward code and return its ``compute_reward``; the code must already be validated."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    module_name = f"vidreward_reward_{digest}"
    spec = importlib.util.spec_from_loader(module_name, loader=None, origin=origin)
    module = importlib.util.module_from_spec(spec)
    try:
        exec(compile(source, origin, "exec"), module.__dict__)  # noqa: S102 - validated code only
    except Exception as exc:  # the code's own error, reported with its origin
        raise RewardCodeError(f"{origin}: reward code failed to load: {exc!r}", "load") from exc
    sys.modules[module_name] = module
    fn = getattr(module, REWARD_FUNCTION, None)
    if not callable(fn):
        raise RewardCodeError(f"{origin}: no function named {REWARD_FUNCTION}", "signature")
    params = tuple(inspect.signature(fn).parameters)
    unknown = [p for p in params if p not in STATE_FIELD_NAMES]
    if unknown:
        raise RewardCodeError(
            f"{origin}: {REWARD_FUNCTION} asks for unknown state field(s) {unknown}; "
            f"available: {list(STATE_FIELD_NAMES)}",
            "signature",
        )
    return RewardFunction(fn=fn, params=params, source=source)


def load_reward_file(path: str | Path) -> RewardFunction:
    path = Path(path)
    try:
        source = path.read_text()
    except OSError as exc:
        raise RewardCodeError(f"{path}: cannot read reward code: {exc}", "read") from exc
    return load_reward_source(source, origin=str(path))
