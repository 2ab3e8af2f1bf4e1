"""Reward code: loading, validation in a sandbox, the reward-term library, environment context."""

from vidreward.reward.env_context import environment_context
from vidreward.reward.loader import RewardFunction, load_reward_file, load_reward_source
from vidreward.reward.sample_state import RobotDims, robot_dims, sample_state
from vidreward.reward.terms import TERM_LIBRARY, read_terms, render_reward_code
from vidreward.reward.validate import ValidationReport, static_checks, validate_reward_code

__all__ = [
    "TERM_LIBRARY",
    "RewardFunction",
    "RobotDims",
    "ValidationReport",
    "environment_context",
    "load_reward_file",
    "load_reward_source",
    "read_terms",
    "render_reward_code",
    "robot_dims",
    "sample_state",
    "static_checks",
    "validate_reward_code",
]
