"""A ``policy.pth`` (rl-games checkpoint): loading it and checking its ``vidreward`` entry against
the robot it is used with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from vidreward.errors import ConfigError


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
