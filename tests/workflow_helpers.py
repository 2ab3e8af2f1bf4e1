"""Helpers for tests that run the real workflow in a throw-away copy of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def copy_repo(dest: Path) -> Path:
    """Copy the working tree's tracked and unignored files to ``dest`` and make it a git repo."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run(git + ["commit", "-qm", "copy"], cwd=dest, check=True)
    return dest


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    # as a user starts it: no display and no GL backend chosen (vidreward picks one itself)
    for name in ("MUJOCO_GL", "PYOPENGL_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        e.pop(name, None)
    e["DVC_NO_ANALYTICS"] = "1"
    return e


def snakemake(cwd: Path, *args: str, check: bool = True, timeout: int = 900):
    proc = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "2", *args],
        cwd=cwd, capture_output=True, text=True, env=env(), timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def jobs_run(proc) -> dict[str, int]:
    """Rule name -> job count from Snakemake's 'Job stats' table ({} when nothing ran)."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    counts: dict[str, int] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Job stats:"):
            for row in lines[i + 3 :]:
                parts = row.split()
                if len(parts) != 2 or not parts[1].isdigit() or parts[0] == "total":
                    break
                counts[parts[0]] = int(parts[1])
            break
    return counts


def planned_outputs(proc) -> dict[str, list[str]]:
    """Rule name -> the output files of every job a dry run (``-n``) plans for it."""
    planned: dict[str, list[str]] = {}
    rule = None
    for line in (proc.stdout + proc.stderr).splitlines():
        stripped = line.strip()
        if line.startswith(("rule ", "localrule ")) and stripped.endswith(":"):
            rule = stripped.split()[1].rstrip(":")
        elif rule and stripped.startswith("output:"):
            planned.setdefault(rule, []).extend(p.strip() for p in stripped[len("output:"):].split(","))
        elif not line.startswith(" "):
            rule = None
    return planned
