"""Run every benchmark in one go and print their figures (not a test).

    MUJOCO_GL=egl .venv/bin/python benchmarks/run_all.py           # all robots + Ant time-to-walk
    MUJOCO_GL=egl .venv/bin/python benchmarks/run_all.py --quick   # throughput only, a few minutes

1. bench_sim.py: per robot, the physics ceiling (mj_step rate x cores / frame_skip), batched
   env-only steps/s and its ratio, and render fps at 480x480.
2. bench_train.py per robot: full PPO training steps/s (rollout + update) and its ratio to the
   ceiling measured in the same run.
3. bench_train.py on Ant (unless --quick): full-size throughput rounds and the time to reach
   walking with a forward-velocity reward.
4. bench_motion.py: motion-evidence accuracy on the ground-truth clip suite and the analysis time
   of a 6 s clip at 480p.
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from vidreward.sim.robots import ROBOTS  # noqa: E402


def run(args: list[str]) -> None:
    print(f"\n$ {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="throughput only, short rounds")
    args = parser.parse_args()
    run([str(HERE / "bench_sim.py")])
    for robot in ROBOTS:
        run([str(HERE / "bench_train.py"), "--quick", "--walk-steps", "0", "--robot", robot])
    if not args.quick:
        run([str(HERE / "bench_train.py"), "--robot", "ant"])
    run([str(HERE / "bench_motion.py")])


if __name__ == "__main__":
    main()
