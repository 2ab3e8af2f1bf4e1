"""Per-iteration provenance records: what went in, what came out, with which code and settings."""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from vidreward.config import ClipConfig, RunSettings
from vidreward.fsutil import hash_path

PACKAGES = (
    "vidreward", "torch", "mujoco", "gymnasium", "rl-games", "numpy", "snakemake", "dvc",
    "moviepy", "imageio", "yt-dlp", "openai", "pandas",
)
# Inputs that come from outside the iteration (everything else an iteration rule produced).
EXTERNAL_INPUTS = ("clip", "sidecar", "init")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(repo: Path = Path(".")) -> dict[str, Any]:
    """Commit and whether tracked files differ from it; None when not in a git checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}


def stage_wall_times(benchmarks_dir: str | Path) -> dict[str, float]:
    """Wall-clock seconds of each benchmarked job of the iteration (Snakemake benchmark TSVs), by
    path below the iteration's benchmark directory: ``cand_0/train_policy``,
    ``cand_1/screen/score``, ..."""
    times = {}
    root = Path(benchmarks_dir)
    for tsv in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(tsv, sep="\t")
        if "s" in table.columns and len(table):
            times[tsv.relative_to(root).with_suffix("").as_posix()] = float(table["s"].iloc[-1])
    return times


def _flatten(inputs: dict[str, Any]) -> dict[str, list[str]]:
    flat = {}
    for name, value in inputs.items():
        paths = [value] if isinstance(value, (str, Path)) else list(value)
        flat[name] = [str(p) for p in paths]
    return flat


def robot_model_record(settings: RunSettings) -> dict[str, Any]:
    """The model sources the run asked for (``robot_model``) and the model its robot ran."""
    from vidreward.sim.robots import model_source
    from vidreward.sim.robots.spec import RobotModelConfig

    asked = settings.robot_model or RobotModelConfig()
    return {"asked": dataclasses.asdict(asked), "ran": model_source(settings.robot, asked)}


def write_provenance(
    out_path: str | Path,
    inputs: dict[str, Any],
    settings: RunSettings,
    clip: ClipConfig,
    iteration: int,
    benchmarks_dir: str | Path,
) -> dict[str, Any]:
    """Write ``provenance.json``: sha256 of inputs and outputs (paths relative to the repo root),
    the run's resolved settings, the seeds (``RunSettings.seeds``), whether the critique carries
    measured evidence (``critic.evidence``) and the robot model asked for and run
    (:func:`robot_model_record`)."""
    hashed: dict[str, dict[str, str]] = {"inputs": {}, "outputs": {}}
    for name, paths in _flatten(inputs).items():
        group = "inputs" if name in EXTERNAL_INPUTS else "outputs"
        for path in paths:
            hashed[group][path] = hash_path(path)
    record = {
        "iteration_dir": str(Path(out_path).parent),
        "inputs": hashed["inputs"],
        "outputs": hashed["outputs"],
        "settings": settings.to_dict(),
        "critic_evidence": settings.critic.evidence,
        "robot_model": robot_model_record(settings),
        "clip": clip.to_dict(),
        "seeds": settings.seeds(iteration),
        "packages": package_versions(),
        "platform": {"system": platform.platform(), "python": sys.version.split()[0]},
        "git": git_state(),
        "wall_time_s": stage_wall_times(benchmarks_dir),
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(out_path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record
