"""Run hostile reward files through the real training stage, in this (confined) process.

``python tests/attack_trainer.py CASES.json``: CASES.json is ``{"out_dir": ..., "cases":
[{"name", "code", "forge_record"}]}``. For each case the reward file is written to
``<out_dir>/reward.py``; with ``forge_record`` a ``reward_validation.json`` whose sha256 matches the
file is forged beside it (an attacker who can write both files), otherwise the record of the
previous case stays (a hand edit). Then :func:`vidreward.stages.train_stage` trains on it.
The last line of stdout is a JSON object with, per case, the error type and message (or "trained"), and at the end the
environment variables this process could still see.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from vidreward.reward.loader import reward_digest
from vidreward.config import RunSettings
from vidreward.stages import train_stage
from vidreward.train.config import TrainConfig

TINY_TRAIN = {"total_env_steps": 256, "num_envs": 16, "horizon": 16, "minibatch_size": 128,
              "mini_epochs": 1, "max_episode_steps": 50, "units": [16]}
SETTINGS = RunSettings(name="attack", clip="c", robot="ant", task="t", iterations=1, seed=0,
                       train=TrainConfig.from_dict(TINY_TRAIN))


def main(cases_path: str) -> int:
    spec = json.loads(Path(cases_path).read_text())
    out_dir = Path(spec["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    reward = out_dir / "reward.py"
    results = {}
    for case in spec["cases"]:
        reward.write_text(case["code"])
        if case["forge_record"]:
            (out_dir / "reward_validation.json").write_text(
                json.dumps({"sha256": reward_digest(case["code"]), "origin": str(reward)}))
        try:
            train_stage(SETTINGS, iteration=0, reward_path=str(reward), init_checkpoint=None,
                        policy_out=str(out_dir / "policy.pth"),
                        train_log_out=str(out_dir / "train_log.csv"), tb_out=str(out_dir / "tb"),
                        threads=1)
            results[case["name"]] = {"outcome": "trained"}
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[case["name"]] = {"outcome": "rejected", "type": type(exc).__name__,
                                     "message": str(exc), "check": getattr(exc, "check", None)}
    results["_environment"] = sorted(os.environ)
    sys.__stdout__.write("\n" + json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
