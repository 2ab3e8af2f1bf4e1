"""Regenerate the small offline expert clips shipped in ``data/shipped/``.

Needs a Debian package only here (not at run time of the workflow):
    apt-get install assimp-testmodels   # CMU motion capture BVH files

Usage: python tools/make_shipped_clips.py [--out data/shipped] [--only NAME ...]
Each clip gets ``<name>.mp4`` and ``<name>.json`` (source, licence, how it was made, sha256).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vidreward.errors import ClipError  # noqa: E402
from vidreward.video.bvh import SideViewStyle, forward_kinematics, load_bvh, render_side_view  # noqa: E402
from vidreward.fsutil import sha256_file  # noqa: E402
from vidreward.video.io import write_video  # noqa: E402

CMU_LICENCE = (
    "CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu): free for research and commercial "
    "use. BVH conversion by B. Hahne (cgspeed.com), no additional restrictions. Acknowledgement: "
    "'The data used in this project was obtained from mocap.cs.cmu.edu. The database was created "
    "with funding from NSF EIA-0196217.'"
)


def _find_debian_file(package: str, suffix: str) -> Path:
    try:
        out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ClipError(f"Debian package {package} is not installed (apt-get install {package})") from exc
    for line in out.splitlines():
        if line.endswith(suffix):
            return Path(line)
    raise ClipError(f"Debian package {package} has no file ending in {suffix}")


def _write(out_dir: Path, name: str, frames: np.ndarray, fps: float, meta: dict, crf: int) -> dict:
    mp4 = out_dir / f"{name}.mp4"
    write_video(mp4, frames, fps, crf=crf)
    t, h, w, _ = frames.shape
    sidecar = {
        "name": name,
        **meta,
        "fps": fps,
        "size": [w, h],
        "frames": int(t),
        "duration": t / fps,
        "sha256": sha256_file(mp4),
        "bytes": mp4.stat().st_size,
        "made_by": "tools/make_shipped_clips.py",
    }
    (out_dir / f"{name}.json").write_text(json.dumps(sidecar, indent=2) + "\n")
    print(f"{mp4}: {w}x{h}, {t} frames at {fps} fps, {mp4.stat().st_size / 1024:.0f} KiB")
    return sidecar


def make_cmu_01_01(out_dir: Path) -> dict:
    """CMU subject 1, trial 1: four forward jumps (1.4 s - 7.6 s of the take), side view."""
    bvh = _find_debian_file("assimp-testmodels", "BVH/01_01.bvh")
    motion = load_bvh(bvh)
    positions = forward_kinematics(motion)
    fps = 25.0
    lo, hi = int(1.4 * motion.fps), int(7.6 * motion.fps)
    frames = render_side_view(motion, positions, (lo, hi), fps=fps, style=SideViewStyle(height_px=240))
    meta = {
        "source": f"{bvh} (Debian assimp-testmodels; CMU mocap subject 01, trial 01)",
        "licence": CMU_LICENCE,
        "subject": "human, forward two-footed jumps",
        "how": (
            f"BVH parsed and forward kinematics computed (vidreward.video.bvh); mocap frames {lo}-{hi} "
            f"of {motion.num_frames} at {motion.fps:.0f} Hz; orthographic fixed side camera perpendicular "
            "to the net direction of travel; dark thick limbs and head on a light background with a "
            "ground line; resampled to 25 fps; H.264 crf 28."
        ),
        "range_s": [lo / motion.fps, hi / motion.fps],
    }
    return _write(out_dir, "cmu_01_01_forward_jumps", frames, fps, meta, crf=28)


CLIPS = {"cmu_01_01_forward_jumps": make_cmu_01_01}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "shipped")
    ap.add_argument("--only", nargs="*", choices=sorted(CLIPS), default=None)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or sorted(CLIPS):
        CLIPS[name](args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
