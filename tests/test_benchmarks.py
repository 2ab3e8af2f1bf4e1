"""Smoke tests of the benchmark scripts: each runs tiny and prints its figures and ratios.

The figures themselves are not asserted (they depend on the machine and its load); the tests check
that every promised figure is printed and is a positive number.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"


def _run(*args: str) -> str:
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_bench_sim_prints_ceiling_batched_rate_ratio_and_render_fps():
    out = _run(str(BENCH / "bench_sim.py"), "--robots", "ant", "--envs", "16", "--seconds", "0.3")
    row = next(line for line in out.splitlines() if line.startswith("ant "))
    m = re.match(r"ant\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)fps", row)
    assert m, row
    frame_skip, raw, busy, ceiling, batched, ratio, fps = m.groups()
    assert int(frame_skip) == 5 and min(int(raw), int(busy), int(ceiling), int(batched)) > 0
    assert float(ratio) == pytest.approx(int(batched) / int(ceiling), abs=0.01)
    assert float(fps) > 0


def test_bench_train_prints_ceiling_training_rate_ratio_and_time_to_walk(tmp_path):
    out = _run(str(BENCH / "bench_train.py"), "--quick", "--robot", "ant", "--num-envs", "16",
               "--horizon", "16", "--minibatch", "256", "--throughput-steps", "2048",
               "--walk-steps", "1024", "--out", str(tmp_path))
    ceiling = re.search(r"-> ceiling ([\d,]+) env-steps/s", out)
    training = re.search(r"\[3\] PPO training steps/s: median ([\d,]+) .*ratio to physics ceiling: "
                         r"median ([\d.]+)", out)
    assert ceiling and training, out
    assert int(ceiling.group(1).replace(",", "")) > 0 and float(training.group(2)) > 0
    assert "[4] time to walk" in out and ("REACHED" in out or "NOT reached" in out)
    assert (tmp_path / "walk" / "train_log.csv").is_file()


def test_bench_motion_prints_errors_against_truth_and_shares_within_tolerance(tmp_path):
    out = _run(str(BENCH / "bench_motion.py"), "--suite", str(tmp_path / "suite"), "--only",
               "quad_walk_fixed_plain", "--no-speed")
    row = next(line for line in out.splitlines() if line.startswith("quad_walk_fixed_plain") and " vs " in line)
    assert "ok  0 vs 0" in row  # direction: estimate vs truth
    assert "direction    within tolerance: 1/1 (100 %)" in out
    assert "speed        within tolerance: 1/1 (100 %)" in out


def test_bench_motion_real_footage_prints_estimate_truth_error_and_shares():
    out = _run(str(BENCH / "bench_motion.py"), "--only", "vtest_walk_left", "--no-speed")
    row = next(line for line in out.splitlines() if line.startswith("vtest_walk_left ") and " vs " in line)
    assert re.search(r"-?\d+ vs 156 err \d+", row) and "fixed vs fixed" in row  # direction, camera
    assert re.search(r"\d\.\d\d vs 0\.77 [+-]\d+%", row)  # speed with its relative error
    for k in ("direction", "speed", "camera"):
        assert re.search(rf"real {k} +within tolerance: [01]/1 \(\d+ %\)", out), out
    assert "quad_" not in out  # only real clips named: the suite is not rendered


def test_bench_search_prints_iteration_wall_time_against_k():
    out = _run(str(BENCH / "bench_search.py"), "--ks", "2", "--steps", "2048", "--envs", "32",
               "--screen", "0.5")
    rows = {m.group(1).strip(): m.groups()[1:] for m in re.finditer(
        r"^(K=\d+(?: halving)?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d,]+)$", out, re.MULTILINE)}
    assert set(rows) == {"K=1", "K=2", "K=2 halving"}, out
    assert float(rows["K=1"][1]) == pytest.approx(1.0)
    for wall, ratio, per_cand, steps in rows.values():
        assert float(wall) > 0 and float(ratio) > 0 and float(per_cand) > 0
    trained = {name: int(r[3].replace(",", "")) for name, r in rows.items()}
    # K=2 trains twice the budget; halving trains both for half of it and one on: 1.5 budgets
    assert trained == {"K=1": 2048, "K=2": 4096, "K=2 halving": 3072}
