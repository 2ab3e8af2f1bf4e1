"""Benchmark: PPO training throughput vs the physics ceiling, and time-to-walk for Ant.

Prints figures (not a test). Run from the repository root::

    MUJOCO_GL=egl .venv/bin/python benchmarks/bench_train.py            # full (~6 min on 2 cores)
    MUJOCO_GL=egl .venv/bin/python benchmarks/bench_train.py --quick    # ~2-3 min

1. Physics ceiling: raw ``mujoco.mj_step`` on the simulator's own model, one process per core
   stepping at the same time (bench_sim.ceiling: env action mapping, reset when fallen), divided by
   the control frame skip: the env-steps/s no implementation on this machine can exceed.
2. Env only: ``BatchedSim.step`` with random actions plus the reward call and resets (SimVecEnv).
3. Full PPO training steps/s (rollout + policy inference + GAE + PPO update), from ``train_policy``.
   Ratio = (3) / (1); the target is >= 0.75.
4. Time to walk: Ant trained with a forward-velocity reward: forward speed + 1 alive bonus
   - 0.05 |a|^2. (Ant-v5's control weight 0.5 makes every step of the initial sigma=1 policy
   net-negative, about -2.6, so early PPO learns to flip over and end episodes; a first full
   run with it was still lunging-and-flipping after 400k steps.) "Walking" = the first epoch where BOTH
   - the mean forward speed over the epoch's env steps (``reward/forward_velocity`` in
     train_log.csv; every env step of the batch counts) is >= 0.5 m/s (~0.3 body lengths/s), and
   - the mean episode length (last 100 episodes) is >= 250 steps (12.5 s).
   Speed alone is not enough: early policies learn to lunge forward at 2-3 m/s and flip over
   within ~20 steps (seen in rollouts), which averages well above 0.5 m/s. Surviving 12.5 s
   while averaging 0.5 m/s means covering >= 6 m (4 body lengths) per episode with a repeating
   gait. With this reward such an episode returns about L * (1 + speed - control cost).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_sim  # noqa: E402  (same directory)
import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from vidreward.reward.loader import load_reward_file  # noqa: E402
from vidreward.sim import get_robot, make_sim  # noqa: E402
from vidreward.train import TrainConfig, train_policy  # noqa: E402
from vidreward.train.vecenv import SimVecEnv  # noqa: E402

FORWARD_REWARD = '''
import torch

def compute_reward(root_linvel: torch.Tensor, actions: torch.Tensor
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    forward_velocity = root_linvel[:, 0]
    alive = torch.ones_like(forward_velocity)
    ctrl_cost = -0.05 * (actions ** 2).sum(dim=-1)
    reward = forward_velocity + alive + ctrl_cost
    return reward, {"forward_velocity": forward_velocity, "alive": alive, "ctrl_cost": ctrl_cost}
'''


def physics_ceiling(robot: str, seconds: float, cores: int) -> tuple[float, float, int]:
    """(mj_step/s per core with all cores busy, env-steps/s ceiling, frame_skip).

    The same measurement as bench_sim.py: one process per core steps the robot's model with the
    env's own action-to-control mapping and resets it when it falls, as the environments do.
    """
    per_core, env_steps_ceiling = bench_sim.ceiling(robot, seconds, cores, start_method="spawn")
    return per_core, env_steps_ceiling, get_robot(robot).frame_skip


def env_only_rate(robot: str, num_envs: int, steps: int, reward_path: Path) -> float:
    sim = make_sim(robot, num_envs, seed=0)
    env = SimVecEnv(sim, load_reward_file(reward_path), str(reward_path))
    try:
        env.reset()
        gen = torch.Generator().manual_seed(0)
        actions = torch.rand(64, num_envs, env.action_dim, generator=gen) * 2 - 1
        for i in range(5):
            env.step(actions[i])
        t0 = time.perf_counter()
        for i in range(steps):
            env.step(actions[i % 64])
        return steps * num_envs / (time.perf_counter() - t0)
    finally:
        env.close()


def first_reaching(log: Path, speed: float, min_length: float) -> dict | None:
    """First train_log row that walks: forward speed >= speed and episode length >= min_length."""
    with open(log, newline="") as f:
        for row in csv.DictReader(f):
            length = float(row["mean_episode_length"])  # NaN (no episode yet) compares False
            if float(row["reward/forward_velocity"]) >= speed and length >= min_length:
                return row
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small budgets (a few minutes)")
    ap.add_argument("--robot", default="ant")
    ap.add_argument("--num-envs", type=int, default=None)
    ap.add_argument("--horizon", type=int, default=None)
    ap.add_argument("--minibatch", type=int, default=None)
    ap.add_argument("--mini-epochs", type=int, default=None)
    ap.add_argument("--throughput-steps", type=int, default=None,
                    help="env steps of the throughput training run")
    ap.add_argument("--walk-steps", type=int, default=None,
                    help="env-step budget of the time-to-walk run (0 skips it)")
    ap.add_argument("--speed", type=float, default=0.5, help="walking threshold, m/s")
    ap.add_argument("--min-length", type=float, default=250,
                    help="walking also needs this mean episode length, steps")
    ap.add_argument("--out", type=Path, default=None, help="keep run outputs here")
    args = ap.parse_args()

    quick = args.quick
    over = {k: v for k, v in {"num_envs": args.num_envs, "horizon": args.horizon,
                              "minibatch_size": args.minibatch,
                              "mini_epochs": args.mini_epochs}.items() if v is not None}
    base = TrainConfig.from_dict(over)
    throughput_steps = args.throughput_steps or (100_000 if quick else 400_000)
    walk_steps = args.walk_steps if args.walk_steps is not None else (300_000 if quick else 1_500_000)
    cores = os.cpu_count() or 1
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_train_"))
    out.mkdir(parents=True, exist_ok=True)
    reward_path = out / "forward_reward.py"
    reward_path.write_text(FORWARD_REWARD)

    print(f"== bench_train ({'quick' if quick else 'full'}) robot={args.robot} cores={cores} "
          f"torch={torch.__version__} mujoco={mujoco.__version__}")
    print(f"   config: num_envs={base.num_envs} horizon={base.horizon} "
          f"minibatch={base.minibatch_size} mini_epochs={base.mini_epochs} units={list(base.units)}")

    print(f"   load average at start: {os.getloadavg()[0]:.2f}. On a shared machine other processes "
          "slow every figure, so the ratio is measured in rounds: a physics-ceiling burst, a short "
          "PPO run, another burst; each round's ratio uses the higher of its two adjacent ceilings.")
    burst = 2.0 if quick else 3.0
    per_core, ceiling, frame_skip = physics_ceiling(args.robot, burst, cores)
    print(f"[1] physics: {per_core:,.0f} mj_step/s per core ({cores} cores busy) / frame_skip "
          f"{frame_skip} -> ceiling {ceiling:,.0f} env-steps/s")

    env_rate = env_only_rate(args.robot, base.num_envs, 60 if quick else 200, reward_path)
    print(f"[2] env only (sim.step + reward + resets, {base.num_envs} envs, random actions): "
          f"{env_rate:,.0f} env-steps/s = {env_rate / ceiling:.2f} of ceiling")

    rounds = 2 if quick else 4
    ratios, rates, ceilings = [], [], [ceiling]
    for r in range(rounds):
        cfg = TrainConfig.from_dict({**base.to_dict(), "seed": r, "progress": False,
                                     "total_env_steps": throughput_steps // rounds})
        res = train_policy(reward_path, args.robot, cfg, out / f"throughput_{r}")
        with open(res.train_log, newline="") as f:
            rows = list(csv.DictReader(f))
        if len(rows) >= 3:  # steady state: skip the first epoch (allocations, first touch)
            steady = ((int(rows[-1]["env_steps"]) - int(rows[0]["env_steps"]))
                      / (float(rows[-1]["wall_s"]) - float(rows[0]["wall_s"])))
        else:
            steady = res.steps_per_s
        _, after, _ = physics_ceiling(args.robot, burst, cores)
        ceilings.append(after)
        ceil_r = max(ceilings[-2], after)
        ratios.append(steady / ceil_r)
        rates.append(steady)
        print(f"[3.{r + 1}] PPO training {res.env_steps:,} steps ({res.epochs} epochs, "
              f"{res.wall_s:.1f} s, rollout + update): {steady:,.0f} steps/s steady state; "
              f"adjacent ceiling {ceil_r:,.0f} -> ratio {steady / ceil_r:.2f} "
              f"(load {os.getloadavg()[0]:.2f})")
    print(f"[3] PPO training steps/s: median {np.median(rates):,.0f} (max {max(rates):,.0f}); "
          f"ratio to physics ceiling: median {np.median(ratios):.2f}, best round "
          f"{max(ratios):.2f} (target >= 0.75); best ceiling seen {max(ceilings):,.0f}; "
          f"training / env-only: {np.median(rates) / env_rate:.2f}")

    if walk_steps > 0:
        cfg = TrainConfig.from_dict({**base.to_dict(), "total_env_steps": walk_steps,
                                     "progress": True, "progress_interval_s": 30.0})
        t0 = time.perf_counter()
        res = train_policy(reward_path, args.robot, cfg, out / "walk")
        wall = time.perf_counter() - t0
        hit = first_reaching(res.train_log, args.speed, args.min_length)
        with open(res.train_log, newline="") as f:
            last = list(csv.DictReader(f))[-1]
        print(f"[4] time to walk (mean forward speed >= {args.speed} m/s over an epoch and mean "
              f"episode length >= {args.min_length:.0f} steps), budget "
              f"{walk_steps:,} steps, ran {wall:.0f} s:")
        if hit:
            print(f"    REACHED at epoch {hit['epoch']}, {int(hit['env_steps']):,} env steps, "
                  f"{float(hit['wall_s']):.0f} s: speed {float(hit['reward/forward_velocity']):.2f} "
                  f"m/s, mean return {float(hit['mean_return']):.1f}, mean episode length "
                  f"{float(hit['mean_episode_length']):.0f}")
        else:
            print("    NOT reached within the budget")
        print(f"    final epoch: speed {float(last['reward/forward_velocity']):.2f} m/s, mean return "
              f"{float(last['mean_return']):.1f}, mean episode length "
              f"{float(last['mean_episode_length']):.0f}, {float(last['steps_per_s']):,.0f} steps/s")
    print(f"outputs: {out}")


if __name__ == "__main__":
    main()
