"""rl-games PPO on an iteration's reward code, and the deterministic rollout of the result.

Public API::

    from vidreward.train import TrainConfig, train_policy, rollout_policy
    result = train_policy(reward_path, robot, TrainConfig.from_dict(cfg["train"]), out_dir,
                          init_checkpoint=None)                 # -> TrainResult
    stats = rollout_policy(result.policy_path, reward_path, robot, out_dir, steps=1000, seed=0)
"""

from vidreward.train.config import TrainConfig
from vidreward.train.ppo import POLICY_FILE, TRAIN_LOG, TB_DIR, TrainResult, train_policy
from vidreward.train.rollout import TRAJECTORY_FIELDS, TRAJECTORY_FILE, VIDEO_FILE, rollout_policy

__all__ = [
    "POLICY_FILE", "TB_DIR", "TRAIN_LOG", "TRAJECTORY_FIELDS", "TRAJECTORY_FILE", "VIDEO_FILE",
    "TrainConfig", "TrainResult", "rollout_policy", "train_policy",
]
