"""Read frames and metadata of a video file, with errors that name the file.

Decoding uses the ffmpeg binary bundled with ``imageio-ffmpeg``; no system ffmpeg is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vidreward.errors import ClipError
from vidreward.fsutil import atomic_file


def _ffmpeg():
    import imageio_ffmpeg

    return imageio_ffmpeg


def _open(path: Path, **kwargs: Any) -> tuple[Iterator[bytes], dict[str, Any]]:
    """Start decoding ``path``; return the frame generator and ffmpeg's metadata."""
    if not path.exists():
        raise ClipError(f"{path}: video file does not exist")
    if not path.is_file():
        raise ClipError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise ClipError(f"{path}: video file is empty (0 bytes)")
    gen = _ffmpeg().read_frames(str(path), **kwargs)
    try:
        meta = next(gen)
    except (OSError, RuntimeError, StopIteration, ValueError) as exc:
        gen.close()
        msg = str(exc).strip().splitlines()
        detail = msg[-1] if msg else type(exc).__name__
        raise ClipError(f"{path}: cannot decode video ({detail})") from exc
    return gen, meta


def probe_video(path: str | Path) -> dict[str, Any]:
    """Return ``{"duration": s, "fps": f, "size": [w, h]}`` of a video without decoding it all."""
    path = Path(path)
    gen, meta = _open(path)
    try:
        # Decoding one frame proves the stream is readable, not just the container header.
        first = next(gen, None)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ClipError(f"{path}: cannot decode video ({exc})") from exc
    finally:
        gen.close()
    if first is None:
        raise ClipError(f"{path}: video has no frames")
    fps = float(meta.get("fps") or 0.0)
    duration = float(meta.get("duration") or 0.0)
    size = [int(v) for v in meta.get("size", (0, 0))]
    if fps <= 0 or size[0] <= 0 or size[1] <= 0:
        raise ClipError(f"{path}: video has no usable fps/size (fps={fps}, size={size})")
    return {"duration": duration, "fps": fps, "size": size}


def read_video(path: str | Path, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """Decode a video to ``(frames uint8 [T, H, W, 3], fps)``.

    ``max_frames`` stops decoding after that many frames (the first ones). Raises ``ClipError``
    naming ``path`` when the file is missing, unreadable or has no frames.
    """
    path = Path(path)
    if max_frames is not None and max_frames <= 0:
        raise ClipError(f"{path}: max_frames must be positive, got {max_frames}")
    gen, meta = _open(path, pix_fmt="rgb24")
    w, h = (int(v) for v in meta["size"])
    fps = float(meta.get("fps") or 0.0)
    frames: list[np.ndarray] = []
    try:
        for raw in gen:
            frame = np.frombuffer(raw, dtype=np.uint8)
            if frame.size != w * h * 3:
                raise ClipError(f"{path}: decoded frame has {frame.size} bytes, expected {w}x{h}x3")
            frames.append(frame.reshape(h, w, 3))
            if max_frames is not None and len(frames) >= max_frames:
                break
    except (OSError, RuntimeError, ValueError) as exc:
        raise ClipError(f"{path}: cannot decode video ({exc})") from exc
    finally:
        gen.close()
    if not frames:
        raise ClipError(f"{path}: video has no frames")
    if fps <= 0:
        raise ClipError(f"{path}: video reports no frame rate")
    return np.stack(frames), fps


def write_video(path: str | Path, frames: np.ndarray, fps: float, crf: int = 23) -> None:
    """Write RGB frames ``[T, H, W, 3]`` as H.264 mp4 (yuv420p), atomically."""
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ClipError(f"{path}: frames must be a non-empty [T, H, W, 3] array, got {frames.shape}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ClipError(f"{path}: frame size {w}x{h} must be even for yuv420p")
    with atomic_file(path) as tmp:
        writer = _ffmpeg().write_frames(
            str(tmp), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
            macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-crf", str(crf), "-movflags", "+faststart"],
        )
        writer.send(None)
        for frame in frames.astype(np.uint8, copy=False):
            writer.send(np.ascontiguousarray(frame))
        writer.close()
