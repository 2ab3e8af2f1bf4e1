"""Simulator throughput vs the machine's physics ceiling, and render speed. Prints a table.

Per robot:
  raw      mj_step/s of one MjData on one core (random controls, resets when fallen)
  ceiling  env-steps/s the cores could reach = (mj_step/s measured with every core busy, one
           process per core, summed) / frame_skip
  batched  env-steps/s of BatchedSim (random actions, state + obs + termination computed,
           fallen/truncated envs reset) and its ratio to the ceiling
  render   frames/s of render_frames at 480x480 (steady state, renderer setup excluded)

Usage: .venv/bin/python benchmarks/bench_sim.py [--robots NAME ...] (default: every robot in the registry) [--envs 256]
       [--seconds 2] [--no-render]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from vidreward.sim import ROBOTS, get_robot, make_sim  # noqa: E402


def raw_step_rate(robot: str, seconds: float, seed: int = 0) -> float:
    """mj_step/s on one MjData, controls changed every frame_skip steps like an env."""
    torch.set_num_threads(1)
    spec = get_robot(robot)
    sim = make_sim(robot, 1, seed=seed, backend="python")  # for the action->ctrl mapping
    model = spec.model()
    data = mujoco.MjData(model)
    rng = np.random.default_rng(seed)
    ctrls = sim._action_to_ctrl(rng.uniform(-1, 1, size=(512, spec.action_dim)))
    root = model.body(spec.root_body).id
    init = sim._init_qpos.copy()
    data.qpos[:] = init
    steps, k = 0, 0
    start = time.perf_counter()
    while True:
        data.ctrl[:] = ctrls[k % 512]
        k += 1
        mujoco.mj_step(model, data, nstep=spec.frame_skip)
        steps += spec.frame_skip
        if data.xpos[root][2] < spec.min_torso_height:
            mujoco.mj_resetData(model, data)
            data.qpos[:] = init
        if k % 64 == 0 and time.perf_counter() - start > seconds:
            break
    return steps / (time.perf_counter() - start)


def _worker(args):
    return raw_step_rate(*args)


def ceiling(robot: str, seconds: float, cores: int, start_method: str = "fork") -> tuple[float, float]:
    """(mj_step/s per core with all cores busy, env-steps/s ceiling).

    ``start_method`` "spawn" is for callers that have already run torch/OpenMP work (a forked child
    must not touch OpenMP state inherited from such a parent)."""
    with mp.get_context(start_method).Pool(cores) as pool:
        rates = pool.map(_worker, [(robot, seconds, i) for i in range(cores)])
    total = float(sum(rates))
    return total / cores, total / get_robot(robot).frame_skip


def batched_rate(robot: str, num_envs: int, seconds: float) -> float:
    torch.set_num_threads(1)
    sim = make_sim(robot, num_envs, seed=0)
    g = torch.Generator().manual_seed(0)
    actions = [torch.rand(num_envs, sim.robot.action_dim, generator=g) * 2 - 1 for _ in range(32)]
    for i in range(5):
        sim.step(actions[i])
    steps, k = 0, 0
    start = time.perf_counter()
    while True:
        result = sim.step(actions[k % 32])
        k += 1
        done = result.terminated | result.truncated
        if done.any():
            sim.reset_envs(done)
        steps += num_envs
        if time.perf_counter() - start > seconds:
            break
    rate = steps / (time.perf_counter() - start)
    sim.close()
    return rate


def render_rate(robot: str, frames: int = 120, size: int = 480) -> float:
    from vidreward.sim.render import render_frames

    sim = make_sim(robot, 1, seed=0)
    qpos = []
    for _ in range(frames):
        sim.step(torch.rand(1, sim.robot.action_dim) * 2 - 1)
        qpos.append(sim.qpos_qvel()[0][0])
    sim.close()
    qpos = np.array(qpos)
    t0 = time.perf_counter()
    render_frames(robot, qpos[:2], size)  # renderer setup + 2 frames
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    render_frames(robot, qpos, size)
    total = time.perf_counter() - t0
    return (frames - 2) / max(total - setup, 1e-9)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robots", nargs="+", default=list(ROBOTS))
    parser.add_argument("--envs", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--no-render", action="store_true")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    print(f"cores={cores} mujoco={mujoco.__version__} torch={torch.__version__} "
          f"load={os.getloadavg()[0]:.2f}")  # fmt: skip
    header = f"{'robot':9} {'fs':>3} {'raw/core':>10} {'busy/core':>10} {'ceiling':>9}"
    for n in args.envs:
        header += f" {'N=' + str(n):>9} {'ratio':>6}"
    if not args.no_render:
        header += f" {'render480':>10}"
    print(header)
    for robot in args.robots:
        spec = get_robot(robot)
        raw = raw_step_rate(robot, args.seconds)
        busy, ceil = ceiling(robot, args.seconds, cores)
        row = f"{robot:9} {spec.frame_skip:>3} {raw:>10.0f} {busy:>10.0f} {ceil:>9.0f}"
        for n in args.envs:
            rate = batched_rate(robot, n, args.seconds)
            row += f" {rate:>9.0f} {rate / ceil:>6.2f}"
        if not args.no_render:
            row += f" {render_rate(robot):>8.1f}fps"
        print(row, flush=True)
    print("raw/core: mj_step/s one process; busy/core: mj_step/s per process with all cores busy; "
          "ceiling = busy/core * cores / frame_skip (env-steps/s); N=..: BatchedSim env-steps/s")  # fmt: skip


if __name__ == "__main__":
    main()
