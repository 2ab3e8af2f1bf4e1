"""The training monitor: an rl-games algo observer that writes one CSV row and TensorBoard
scalars per epoch and prints a progress line."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Any, TextIO

from vidreward.train.config import TrainConfig
from vidreward.train.vecenv import SimVecEnv, quiet_rl_games

with quiet_rl_games():
    from rl_games.common.algo_observer import AlgoObserver


class TrainMonitor(AlgoObserver):
    """rl-games algo observer: per-epoch CSV row, TensorBoard scalars, progress line."""

    def __init__(self, cfg: TrainConfig, robot: str, log_path: Path, tb_dir: Path, stream: TextIO):
        self.cfg = cfg
        self.robot = robot
        self.log_path = log_path
        self.tb_dir = tb_dir
        self.stream = stream
        self.algo: Any = None
        self.writer: Any = None
        self.t0 = time.perf_counter()
        self._last_print = -math.inf
        self._csv_file: TextIO | None = None
        self._csv: csv.DictWriter | None = None
        self.last_row: dict[str, Any] = {}
        self.components: dict[str, float] = {}

    # rl-games AlgoObserver interface
    def before_init(self, base_name, config, experiment_name):
        pass

    def after_init(self, algo):
        from torch.utils.tensorboard import SummaryWriter

        self.algo = algo
        if algo.writer is not None:  # rl-games' writer points into rl_games/; log into tb/ instead
            algo.writer.close()
        self.writer = SummaryWriter(str(self.tb_dir))
        algo.writer = self.writer

    def process_infos(self, infos, done_indices):
        pass

    def after_steps(self):
        pass

    def after_clear_stats(self):
        pass

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def after_print_stats(self, frame, epoch_num, total_time):
        env: SimVecEnv = self.algo.vec_env
        stats = env.pop_stats()
        wall = time.perf_counter() - self.t0
        env_steps = int(self.algo.frame)
        rate = env_steps / wall if wall > 0 else float("nan")
        row: dict[str, Any] = {
            "epoch": int(epoch_num),
            "env_steps": env_steps,
            "wall_s": round(wall, 3),
            "mean_return": stats.mean_return,
            "mean_episode_length": stats.mean_episode_length,
            "episodes": stats.episodes,
            "steps_per_s": round(rate, 1),
            "mean_step_reward": stats.reward_mean,
        }
        for name, value in stats.component_means.items():
            row[f"reward/{name}"] = value
        self.components = dict(stats.component_means)
        self._write_row(row)
        self.last_row = row

        w = self.writer
        if not math.isnan(stats.mean_return):
            w.add_scalar("episode/return", stats.mean_return, env_steps)
            w.add_scalar("episode/length", stats.mean_episode_length, env_steps)
        w.add_scalar("episode/completed", stats.episodes, env_steps)
        w.add_scalar("reward/mean_step", stats.reward_mean, env_steps)
        for name, value in stats.component_means.items():
            w.add_scalar(f"reward/{name}", value, env_steps)
        w.add_scalar("perf/steps_per_s", rate, env_steps)
        w.add_scalar("perf/wall_s", wall, env_steps)

        last = epoch_num >= self.cfg.epochs
        if self.cfg.progress and (last or wall - self._last_print >= self.cfg.progress_interval_s):
            self._last_print = wall
            self._progress(row, rate, env_steps)

    # helpers
    def _write_row(self, row: dict[str, Any]) -> None:
        if self._csv is None:
            self._csv_file = open(self.log_path, "w", newline="")
            self._csv = csv.DictWriter(self._csv_file, fieldnames=list(row))
            self._csv.writeheader()
        self._csv.writerow(row)
        self._csv_file.flush()

    def _progress(self, row: dict[str, Any], rate: float, env_steps: int) -> None:
        total = self.cfg.epochs * self.cfg.batch_size
        eta = (total - env_steps) / rate if rate > 0 else float("nan")
        ret = row["mean_return"]
        ret_s = "   n/a" if math.isnan(ret) else f"{ret:8.2f}"
        len_s = "n/a" if math.isnan(row["mean_episode_length"]) else f"{row['mean_episode_length']:.0f}"
        print(f"[train {self.robot}] epoch {row['epoch']}/{self.cfg.epochs}  "
              f"steps {env_steps:,}/{total:,} ({100 * env_steps / total:3.0f}%)  "
              f"return {ret_s}  ep_len {len_s}  {rate:,.0f} steps/s  "
              f"elapsed {_fmt_s(row['wall_s'])}  ETA {_fmt_s(eta)}",
              file=self.stream, flush=True)

    def close(self) -> None:
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _fmt_s(s: float) -> str:
    if math.isnan(s):
        return "?"
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"

