"""Load a ``compute_reward`` function from reward code and call it on named state tensors.

Every process that runs reward code loads it here, through the one execution model of
:mod:`vidreward.reward.restricted` (validation's sandbox uses the same ``exec_reward``).
:func:`load_checked_reward` is what training and rollout use: it refuses a reward file whose
content no longer matches its ``reward_validation.json`` unless the file passes validation again.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from vidreward.errors import RewardCodeError
from vidreward.layout import ITERATION_FILES
from vidreward.reward.restricted import REWARD_FUNCTION, check_component_names, exec_reward, string_literals
from vidreward.sim.fields import STATE_FIELD_NAMES

log = logging.getLogger("vidreward.reward")


def reward_digest(source: str) -> str:
    """sha256 of reward code as text (what ``reward_validation.json`` records)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


@dataclass
class RewardFunction:
    """A loaded reward function plus the state fields it asks for."""

    fn: Callable
    params: tuple[str, ...]
    source: str
    origin: str = "<reward>"
    literals: frozenset[str] = frozenset()

    def __call__(self, state: Mapping[str, object]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.fn(**{name: state[name] for name in self.params})

    def check_component_names(self, names: list[Any]) -> None:
        """Names must be identifiers of bounded length written as literals in the code."""
        check_component_names(names, self.literals, self.origin)


def load_reward_source(source: str, origin: str = "<reward>") -> RewardFunction:
    """Compile reward code in the restricted namespace and return its ``compute_reward``."""
    digest = reward_digest(source)[:16]
    try:
        fn = exec_reward(source, origin, module_name=f"vidreward_reward_{digest}")
    except RewardCodeError:
        raise
    except Exception as exc:  # the code's own error, reported with its origin
        raise RewardCodeError(f"{origin}: reward code failed to load: {exc!r}", "load") from exc
    params = tuple(inspect.signature(fn).parameters)
    unknown = [p for p in params if p not in STATE_FIELD_NAMES]
    if unknown:
        raise RewardCodeError(
            f"{origin}: {REWARD_FUNCTION} asks for unknown state field(s) {unknown}; "
            f"available: {list(STATE_FIELD_NAMES)}",
            "signature",
        )
    return RewardFunction(fn=fn, params=params, source=source, origin=origin,
                          literals=string_literals(source))


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise RewardCodeError(f"{path}: cannot read reward code: {exc}", "read") from exc


def load_reward_file(path: str | Path) -> RewardFunction:
    path = Path(path)
    return load_reward_source(_read(path), origin=str(path))


def validation_record_path(reward_path: str | Path) -> Path:
    """``reward_validation.json`` beside ``reward.py``."""
    return Path(reward_path).with_name(ITERATION_FILES["validation"])


def load_checked_reward(path: str | Path, robot: str, num_envs: int | None = None) -> tuple[RewardFunction, dict[str, Any]]:
    """Load reward code that was validated; a file changed since its validation is validated again.

    Returns the function and a record ``{"sha256", "validated": "record" | "again"}``. Raises
    :class:`RewardCodeError` naming the file when the content differs from the record and fails
    validation (a hand edit that, e.g., imports ``os`` never runs).
    """
    from vidreward.reward.validate import validate_reward_code

    path = Path(path)
    source = _read(path)
    digest = reward_digest(source)
    record_path = validation_record_path(path)
    try:
        recorded = json.loads(record_path.read_text()).get("sha256")
    except (OSError, ValueError, AttributeError):
        recorded = None
    how = "record"
    if recorded != digest:
        why = ("it has no validation record" if recorded is None
               else f"its sha256 {digest[:12]} differs from the validated {str(recorded)[:12]}")
        log.warning("%s: %s; validating it again before it runs", path, why)
        try:
            validate_reward_code(source, robot, origin=str(path), num_envs=num_envs)
        except RewardCodeError as exc:
            raise RewardCodeError(f"{path}: refusing to run reward code that changed since it was "
                                  f"validated ({why}) and fails validation: {exc}", exc.check) from exc
        how = "again"
    return load_reward_source(source, origin=str(path)), {"sha256": digest, "validated": how}
