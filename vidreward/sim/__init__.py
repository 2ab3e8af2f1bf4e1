"""Batched MuJoCo simulation: robots, named state tensors, rendering."""

from vidreward.sim.base import BatchedSim, StepResult
from vidreward.sim.batched import BACKENDS, PythonSim, RolloutSim, make_sim
from vidreward.sim.fields import SCALAR_FIELDS, STATE_FIELD_NAMES, STATE_FIELDS, StateField
from vidreward.sim.robots import ROBOTS, get_robot
from vidreward.sim.robots.anymal import anymal_source
from vidreward.sim.robots.spec import RobotModelConfig, RobotSpec

__all__ = [
    "BACKENDS",
    "BatchedSim",
    "PythonSim",
    "ROBOTS",
    "RobotModelConfig",
    "RobotSpec",
    "RolloutSim",
    "SCALAR_FIELDS",
    "STATE_FIELDS",
    "STATE_FIELD_NAMES",
    "StateField",
    "StepResult",
    "anymal_source",
    "get_robot",
    "make_sim",
]
