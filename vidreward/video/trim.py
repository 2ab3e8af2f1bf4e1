"""Trim an expert clip to [start, end] s at a frame rate and size, with a JSON sidecar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from vidreward.errors import ClipError
from vidreward.fsutil import atomic_file, atomic_write_text, sha256_file
from vidreward.video.fetch import relabel, source_label
from vidreward.video.io import probe_video


def _even(x: float) -> int:
    return max(2, int(x / 2.0 + 0.5) * 2)  # nearest even, halves up


def output_size(src_size: Sequence[int], size: int | Sequence[int]) -> tuple[int, int]:
    """``size`` = output height (aspect kept, even dims) or ``[w, h]`` (rounded to even)."""
    w, h = int(src_size[0]), int(src_size[1])
    if isinstance(size, (int, float)) and not isinstance(size, bool):
        if size <= 0:
            raise ClipError(f"output size must be positive, got {size}")
        return _even(w * float(size) / h), _even(size)
    try:
        ow, oh = (int(v) for v in size)
    except (TypeError, ValueError) as exc:
        raise ClipError(f"output size must be a height or [w, h], got {size!r}") from exc
    if ow <= 0 or oh <= 0:
        raise ClipError(f"output size must be positive, got {size!r}")
    return _even(ow), _even(oh)


def _label(src: Path, source_info: dict[str, Any]) -> str:
    """``<what the user configured> [fetched copy <src>]``, or just ``src`` when unknown."""
    user = source_label(source_info.get("source")) if isinstance(source_info, dict) else None
    if user is None or user == str(src):
        return str(src)
    return f"{user} [fetched copy {src}]"


def _check_range(label: str, start: float, end: float, meta: dict[str, Any],
                 source_info: dict[str, Any]) -> None:
    """``ClipError`` naming ``label`` unless [start, end] s is a range within the clip."""
    duration = meta["duration"]
    # a URL is fetched for its configured range only: say where the copy starts in the original
    user = source_info.get("source") if isinstance(source_info, dict) else None
    note = ""
    if isinstance(user, dict) and "url" in user and "start" in user:
        note = f" (times are within the fetched copy, which starts at {user['start']} s of the URL)"
    if end <= start:
        raise ClipError(f"{label}: end {end} s must be after start {start} s "
                        f"(clip lasts {duration:.3f} s){note}")
    tol = 1.0 / meta["fps"]
    if start < 0 or end > duration + tol:
        raise ClipError(f"{label}: range {start}..{end} s is outside the clip, "
                        f"which lasts {duration:.3f} s{note}")


def trim_clip(src: str | Path, dest_mp4: str | Path, start: float, end: float, fps: float,
              size: int | Sequence[int], source_info: dict[str, Any]) -> dict[str, Any]:
    """Cut ``src`` to [start, end] s, resample to ``fps`` and ``size``, write ``dest_mp4`` and
    ``<dest stem>.json`` (source, licence, start, end, fps, size, frames, sha256). Atomic writes.

    Errors name the input the user configured (``source_info["source"]``: file, URL or shipped
    clip, as :func:`vidreward.video.fetch.fetch_clip` records it) with ``src`` in brackets."""
    from moviepy import VideoFileClip

    src, dest = Path(src), Path(dest_mp4)
    label = _label(src, source_info)
    try:
        meta = probe_video(src)
    except ClipError as exc:
        raise relabel(exc, label, src) from exc
    duration = meta["duration"]
    start, end = float(start), float(end)
    _check_range(label, start, end, meta, source_info)
    if fps <= 0:
        raise ClipError(f"{label}: fps must be positive, got {fps}")
    try:
        out_w, out_h = output_size(meta["size"], size)
    except ClipError as exc:
        raise relabel(exc, label) from exc
    end = min(end, duration)
    clip = None
    try:
        with atomic_file(dest, suffix=".mp4") as tmp:
            clip = VideoFileClip(str(src), audio=False)
            sub = clip.subclipped(start, end).resized(new_size=(out_w, out_h)).with_fps(fps)
            sub.write_videofile(str(tmp), fps=fps, codec="libx264", audio=False, logger=None,
                                ffmpeg_params=["-pix_fmt", "yuv420p", "-movflags", "+faststart"])
            out = probe_video(tmp)
            import imageio_ffmpeg

            frames, _ = imageio_ffmpeg.count_frames_and_secs(str(tmp))
    except (OSError, KeyError, ValueError, ClipError) as exc:  # ClipError: unreadable output
        raise ClipError(f"{label}: trimming to {dest} failed ({exc})") from exc
    finally:
        if clip is not None:
            clip.close()
    sidecar = {
        "clip": dest.stem,
        "source": source_info.get("source", source_info),
        "licence": source_info.get("licence", "unknown"),
        "source_sha256": source_info.get("sha256"),
        "start": start,
        "end": end,
        "fps": float(fps),
        "size": out["size"],
        "frames": int(frames),
        "duration": end - start,
        "sha256": sha256_file(dest),
    }
    atomic_write_text(dest.with_suffix(".json"), json.dumps(sidecar, indent=2) + "\n")
    return sidecar
