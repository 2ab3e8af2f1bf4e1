"""Build a fake but real-format run: tiny H.264 videos, critiques, reward code, logs, storyboards."""

from __future__ import annotations

import csv
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from vidreward.critic.base import Critique, Item

REWARD_0 = '''import torch


def compute_reward(root_linvel: torch.Tensor, up_proj: torch.Tensor):
    r_fwd = root_linvel[:, 0]
    r_up = up_proj
    reward = r_fwd + 0.5 * r_up
    return reward, {"forward_velocity": r_fwd, "upright": r_up}
'''

REWARD_1 = '''import torch


def compute_reward(root_linvel: torch.Tensor, up_proj: torch.Tensor, actions: torch.Tensor):
    r_fwd = torch.exp(-(root_linvel[:, 0] - 1.2) ** 2)
    r_up = up_proj
    r_energy = -0.01 * (actions ** 2).sum(dim=-1)
    reward = r_fwd + 0.5 * r_up + r_energy
    return reward, {"forward_velocity": r_fwd, "upright": r_up, "energy": r_energy}
'''

# A line present only in REWARD_0 and one present only in REWARD_1 (the diff must mark them).
REMOVED_LINE = "    r_fwd = root_linvel[:, 0]"
ADDED_LINE = "    r_energy = -0.01 * (actions ** 2).sum(dim=-1)"
PROBLEM_TEXT = "The robot drifts sideways while the spider walks straight ahead."
HOSTILE_TEXT = "<script>window.__pwned = true</script> model text with markup"


def moving_square_frames(n: int = 24, w: int = 96, h: int = 64, color=(220, 60, 40)) -> list:
    frames = []
    for i in range(n):
        f = np.full((h, w, 3), 235, np.uint8)
        x = int((w - 16) * i / max(1, n - 1))
        f[h // 2 - 8:h // 2 + 8, x:x + 16] = color
        frames.append(f)
    return frames


def write_h264(path: Path, frames: list, fps: int = 12) -> Path:
    """The project's rollout encoding: libx264, yuv420p (even sizes), macro_block_size=1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(path, frames, fps=fps, codec="libx264", macro_block_size=1,
                    pixelformat="yuv420p")
    return path


def make_critique(i: int) -> Critique:
    return Critique(
        problems=[Item(PROBLEM_TEXT, "forward_velocity"), Item(HOSTILE_TEXT)],
        rewrite=[Item("Reward speed near 1.2 m/s instead of unbounded speed.", "forward_velocity",
                      {"target_speed": 1.2})],
        remove=[],
        new=[Item("Penalise large actions to reduce jitter.", "energy", {"weight": 0.01})],
        backend="analytic",
        gap=0.8 - 0.3 * i,
        descriptors={"expert": {"forward_speed": 1.2, "lateral_drift": 0.05},
                     "robot": {"forward_speed": 0.4 + 0.3 * i, "lateral_drift": 0.4 - 0.1 * i}},
    )


def write_train_log(path: Path, components: list[str], epochs: int = 6) -> Path:
    cols = ["epoch", "env_steps", "wall_s", "mean_return", "mean_episode_length"]
    cols += [f"reward/{c}" for c in components]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for e in range(1, epochs + 1):
            row = [e, e * 2048, round(e * 0.8, 2), -10 + 7.5 * e, 50 + 10 * e]
            row += [round(0.1 * e + 0.01 * k, 4) for k in range(len(components))]
            w.writerow(row)
    return path


def make_iteration(iter_dir: Path, i: int) -> Path:
    iter_dir.mkdir(parents=True, exist_ok=True)
    (iter_dir / "reward.py").write_text(REWARD_0 if i == 0 else REWARD_1)
    write_h264(iter_dir / "rollout.mp4", moving_square_frames(color=(40, 90, 200)))
    crit = make_critique(i)
    crit.save(iter_dir / "critique.json", iter_dir / "critique.md")
    comps = ["forward_velocity", "upright"] + ([] if i == 0 else ["energy"])
    write_train_log(iter_dir / "train_log.csv", comps)
    sb = iter_dir / "storyboard"
    sb.mkdir(exist_ok=True)
    for k, frame in enumerate(moving_square_frames(n=3)):
        imageio.imwrite(sb / f"frame_{k:03d}.png", frame)
    return iter_dir


def make_run(root: Path, run: str = "demo", iterations: int = 2) -> tuple[Path, Path]:
    """``root/results/<run>/iter_<i>`` for i < iterations and ``root/data/clips/expert.mp4``."""
    clip = write_h264(root / "data" / "clips" / "expert.mp4", moving_square_frames())
    run_dir = root / "results" / run
    for i in range(iterations):
        make_iteration(run_dir / f"iter_{i}", i)
    return run_dir, clip
