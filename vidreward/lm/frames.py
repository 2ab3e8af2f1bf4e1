"""Pick the frames of a clip a vision-language model sees, encode them, and save them as a storyboard.

``n`` frames per clip: about half spread uniformly over the clip, the rest where the motion is
largest (mean absolute difference between consecutive frames, on a small greyscale copy), kept apart
from each other so they do not all land on one burst. The frames actually sent are saved as
``<out_dir>/<role>_XX.png`` plus ``<role>_contact_sheet.png`` and ``<role>_frames.json``; the PNG
bytes sent to the model are exactly those files, so the image hashes in an LM record match them.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from vidreward.errors import ClipError

MAX_SIDE = 512  # longest side of a frame sent to the model, pixels


@dataclass
class SampledFrame:
    """One frame chosen from a clip."""

    index: int
    time_s: float
    reason: str  # "uniform" or "motion"
    image: np.ndarray  # uint8 [H, W, 3], already resized for sending


@dataclass
class Storyboard:
    """The frames of one clip that were (or will be) sent, and where they were saved."""

    role: str
    label: str
    video: Path
    fps: float
    duration_s: float
    frames: list[SampledFrame]
    pngs: list[bytes]
    paths: list[Path]
    contact_sheet: Path | None

    def message_parts(self) -> list[dict[str, Any]]:
        """Text label + image part per frame, in the OpenAI vision message format."""
        parts: list[dict[str, Any]] = []
        for k, (frame, png) in enumerate(zip(self.frames, self.pngs), 1):
            parts.append({"type": "text", "text": f"{self.label} frame {k} at t={frame.time_s:.2f} s"})
            parts.append({"type": "image_url", "image_url": {"url": png_data_url(png)}})
        return parts


def motion_scores(frames: np.ndarray) -> np.ndarray:
    """Per-frame motion: mean |frame_t - frame_{t-1}| on a greyscale copy at most 64 px wide.

    ``scores[0]`` is 0 (no previous frame).
    """
    t, h, w, _ = frames.shape
    step = max(1, int(np.ceil(max(h, w) / 64)))
    small = frames[:, ::step, ::step, :].astype(np.float32).mean(axis=-1)
    scores = np.zeros(t, dtype=np.float64)
    if t > 1:
        scores[1:] = np.abs(np.diff(small, axis=0)).mean(axis=(1, 2))
    return scores


def select_indices(frames: np.ndarray, n: int, motion_fraction: float = 0.5) -> list[tuple[int, str]]:
    """``n`` sorted ``(index, reason)`` pairs: uniform picks plus the highest-motion frames."""
    t = len(frames)
    if n <= 0:
        raise ValueError(f"number of frames must be positive, got {n}")
    if t <= n:
        return [(i, "uniform") for i in range(t)]
    n_motion = int(round(n * motion_fraction)) if n > 1 else 0
    n_uniform = n - n_motion
    chosen: dict[int, str] = {}
    for i in np.linspace(0, t - 1, n_uniform).round().astype(int):
        chosen.setdefault(int(i), "uniform")
    scores = motion_scores(frames)
    min_gap = max(1, t // (2 * n))
    for i in np.argsort(-scores, kind="stable"):
        if len(chosen) >= n:
            break
        i = int(i)
        if scores[i] <= 0:
            break
        if all(abs(i - j) >= min_gap for j in chosen):
            chosen[i] = "motion"
    # Static clips (or too many close peaks): fill with evenly spread frames not yet taken.
    for i in np.linspace(0, t - 1, 2 * n + 1).round().astype(int):
        if len(chosen) >= n:
            break
        chosen.setdefault(int(i), "uniform")
    for i in range(t):
        if len(chosen) >= n:
            break
        chosen.setdefault(i, "uniform")
    return sorted(chosen.items())


def sample_frames(frames: np.ndarray, fps: float, n: int, max_side: int = MAX_SIDE) -> list[SampledFrame]:
    """Choose ``n`` frames of ``frames`` [T, H, W, 3] and resize them to at most ``max_side`` px."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"frames must be a non-empty [T, H, W, 3] array, got shape {frames.shape}")
    return [
        SampledFrame(index=i, time_s=i / fps, reason=reason, image=_resize(frames[i], max_side))
        for i, reason in select_indices(frames, n)
    ]


def _resize(image: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return np.ascontiguousarray(image, dtype=np.uint8)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image.astype(np.uint8)).resize(size, Image.BILINEAR))


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of a uint8 RGB image (deterministic for equal pixels)."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def png_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def contact_sheet(frames: list[SampledFrame], label: str, columns: int = 4) -> np.ndarray:
    """All sampled frames of a clip tiled in a grid, each captioned with its number and time."""
    if not frames:
        raise ValueError("contact sheet needs at least one frame")
    cell_h = max(f.image.shape[0] for f in frames)
    cell_w = max(f.image.shape[1] for f in frames)
    caption = 16
    cols = min(columns, len(frames))
    rows = (len(frames) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * cell_w, rows * (cell_h + caption)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for k, frame in enumerate(frames):
        r, c = divmod(k, cols)
        x, y = c * cell_w, r * (cell_h + caption)
        draw.text((x + 3, y + 2), f"{label} {k + 1}  t={frame.time_s:.2f}s ({frame.reason})", fill=(0, 0, 0))
        sheet.paste(Image.fromarray(frame.image), (x, y + caption))
    return np.asarray(sheet)


def make_storyboard(
    video: str | Path,
    role: str,
    n: int,
    out_dir: str | Path | None,
    label: str | None = None,
    max_side: int = MAX_SIDE,
) -> Storyboard:
    """Read ``video``, sample ``n`` frames and (if ``out_dir``) save them as the storyboard of ``role``.

    Raises ``ClipError`` naming ``video`` when it cannot be read.
    """
    from vidreward.video.io import read_video

    video = Path(video)
    frames, fps = read_video(video)
    try:
        sampled = sample_frames(frames, fps, n, max_side=max_side)
    except ValueError as exc:
        raise ClipError(f"{video}: {exc}") from exc
    label = label or role.capitalize()
    pngs = [png_bytes(f.image) for f in sampled]
    paths: list[Path] = []
    sheet_path: Path | None = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob(f"{role}_[0-9][0-9].png"):
            old.unlink()
        for k, png in enumerate(pngs):
            path = out / f"{role}_{k:02d}.png"
            path.write_bytes(png)
            paths.append(path)
        sheet_path = out / f"{role}_contact_sheet.png"
        sheet_path.write_bytes(png_bytes(contact_sheet(sampled, label)))
        meta = {
            "video": str(video),
            "fps": fps,
            "num_frames": int(len(frames)),
            "frames": [
                {"file": p.name, "index": f.index, "time_s": round(f.time_s, 4), "reason": f.reason}
                for p, f in zip(paths, sampled)
            ],
        }
        (out / f"{role}_frames.json").write_text(json.dumps(meta, indent=2) + "\n")
    return Storyboard(
        role=role,
        label=label,
        video=video,
        fps=fps,
        duration_s=len(frames) / fps,
        frames=sampled,
        pngs=pngs,
        paths=paths,
        contact_sheet=sheet_path,
    )
