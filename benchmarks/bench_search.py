"""Wall time of one iteration of the search against K (reward candidates per iteration).

Runs the real workflow (``snakemake --cores N``) in a throw-away copy of the repository for one
iteration of the shipped clip on Ant, once per setting: K = 1, then each K given with every
candidate trained the full budget, and with successive halving (all train ``--screen`` of the
budget, the best ``--keep`` share continue). Prints, per setting, the iteration's wall time, its
ratio to K = 1 and the ratio per candidate (1.0 = K candidates cost K times one; halving and
parallel jobs bring it below), plus the total env steps trained.

    python benchmarks/bench_search.py                      # K = 1, 2, 4 at 262,144 steps each
    python benchmarks/bench_search.py --ks 2 --steps 8192  # a quick look
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from workflow_helpers import copy_repo, env  # noqa: E402

CONFIG = """\
default_runs: [bench]
clips:
  bench_clip:
    source: {{shipped: cmu_01_01_forward_jumps.mp4}}
    start: 0.0
    end: 3.0
    fps: 15
    height: 160
    licence: "CMU Graphics Lab Motion Capture Database: free for research and commercial use"
runs:
  bench:
    clip: bench_clip
    robot: ant
    task: Move forward with repeated jumps like the person in the clip.
    iterations: 1
    search: {search}
    train: {{total_env_steps: {steps}, num_envs: {envs}, horizon: 32, minibatch_size: {minibatch}, mini_epochs: 2, max_episode_steps: 300}}
    rollout: {{seconds: 3, render_size: 160}}
    critic: {{backend: analytic}}
    rewriter: {{backend: analytic}}
"""


def run_setting(repo: Path, search: dict, steps: int, envs: int, cores: int) -> tuple[float, int]:
    """(wall seconds of the iteration's jobs, env steps trained by all candidates)."""
    shutil.rmtree(repo / "results", ignore_errors=True)
    config = repo / "bench.yaml"
    config.write_text(CONFIG.format(search=json.dumps(search), steps=steps, envs=envs, minibatch=envs * 32))
    # targets go before the options: --configfile takes every word after it
    snakemake = str(Path(sys.executable).parent / "snakemake")
    options = ["--cores", str(cores), "--configfile", str(config)]
    # the clip and its evidence are shared by every setting: built once, not timed
    prep = subprocess.run([snakemake, "data/clips/evidence/bench_clip.json", *options], cwd=repo, env=env(),
                          capture_output=True, text=True)
    if prep.returncode != 0:
        raise SystemExit(f"snakemake failed on the clip:\n{prep.stdout[-3000:]}\n{prep.stderr[-3000:]}")
    start = time.perf_counter()
    proc = subprocess.run([snakemake, "results/bench/iter_0/selection.json", *options], cwd=repo, env=env(),
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed for {search}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    trained = 0
    for log in (repo / "results/bench/iter_0").glob("cand_*/train_log.csv"):
        last = log.read_text().strip().splitlines()[-1].split(",")
        header = log.read_text().splitlines()[0].split(",")
        trained += int(float(last[header.index("env_steps")]))
    return wall, trained


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ks", type=int, nargs="+", default=[2, 4], help="K values besides 1")
    ap.add_argument("--steps", type=int, default=262_144, help="env steps per candidate (full budget)")
    ap.add_argument("--envs", type=int, default=256, help="parallel envs per training")
    ap.add_argument("--screen", type=float, default=0.25, help="halving: screening share of the budget")
    ap.add_argument("--keep", type=float, default=0.5, help="halving: share that continues")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        repo = copy_repo(Path(tmp) / "repo")
        settings = [("K=1", {"candidates": 1})]
        for k in args.ks:
            settings.append((f"K={k}", {"candidates": k}))
            settings.append((f"K={k} halving", {"candidates": k, "halving": {
                "screen_fraction": args.screen, "keep": args.keep}}))
        print(f"one iteration, Ant, {args.steps:,} env steps per full training, {args.cores} cores")
        print(f"{'setting':<16} {'wall_s':>8} {'vs_K1':>7} {'per_cand':>9} {'env_steps':>11}")
        base = None
        for name, search in settings:
            wall, trained = run_setting(repo, search, args.steps, args.envs, args.cores)
            base = base or wall
            k = search["candidates"]
            print(f"{name:<16} {wall:8.1f} {wall / base:7.2f} {wall / base / k:9.2f} {trained:11,}",
                  flush=True)


if __name__ == "__main__":
    main()
