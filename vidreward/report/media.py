"""Media for the review pages: probe videos, embed files as data URIs, shrink videos for overviews.

Every review page is one self-contained ``index.html``: videos and images are embedded as ``data:``
URIs, so the page opens straight from disk, from a ``snakemake --report report.zip`` and inside a
single-file ``snakemake --report report.html`` (which cannot hold a page's extra files).
"""

from __future__ import annotations

import base64
import html
import logging
import mimetypes
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Chromium refuses to load a data: URL over 2 MiB into a frame, and an embedded report shows each page
# as a data: URL; base64 grows a page by 4/3, so a page must stay below this many bytes.
PAGE_BYTES_LIMIT = (2 * 1024 * 1024 * 3) // 4 - 16 * 1024


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def data_uri(path: str | Path, mime: str | None = None) -> str:
    """``data:<mime>;base64,...`` of a file (mime guessed from its suffix unless given)."""
    path = Path(path)
    mime = mime or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass
class VideoInfo:
    """What ffmpeg says about a video's first video stream."""

    codec: str | None = None
    profile: str | None = None
    pix_fmt: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    duration_s: float | None = None
    error: str | None = None

    @property
    def browser_playable(self) -> bool:
        """H.264 in 4:2:0 8-bit with even dimensions: what every Chromium/Firefox/Safari plays."""
        return (
            self.codec == "h264"
            and self.pix_fmt in ("yuv420p", "yuvj420p")
            and self.width is not None
            and self.height is not None
            and self.width % 2 == 0
            and self.height % 2 == 0
        )

    def describe(self) -> str:
        if self.error:
            return f"(not probed: {self.error})"
        parts = []
        if self.codec:
            parts.append(self.codec + (f" {self.profile}" if self.profile else ""))
        if self.pix_fmt:
            parts.append(self.pix_fmt)
        if self.width and self.height:
            parts.append(f"{self.width}×{self.height}")
        if self.fps:
            parts.append(f"{self.fps:g} fps")
        if self.duration_s is not None:
            parts.append(f"{self.duration_s:.2f} s")
        return ", ".join(parts)


_STREAM_RE = re.compile(r"Stream #\S+.*?: Video: (?P<codec>\w+)(?: \((?P<profile>[^)]*)\))?(?P<rest>.*)")
_DURATION_RE = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def probe_video(path: str | Path) -> VideoInfo:
    """Codec, pixel format, size, fps and duration of ``path`` via the ffmpeg bundled by imageio-ffmpeg."""
    try:
        exe = _ffmpeg()
    except (ImportError, RuntimeError) as exc:
        return VideoInfo(error=f"no ffmpeg: {exc}")
    try:
        proc = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True,
                              text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return VideoInfo(error=str(exc))
    info = VideoInfo()
    for line in proc.stderr.splitlines():
        m = _DURATION_RE.search(line)
        if m and info.duration_s is None:
            h, mnt, s = m.groups()
            info.duration_s = int(h) * 3600 + int(mnt) * 60 + float(s)
        m = _STREAM_RE.search(line)
        if m and info.codec is None:
            info.codec = m.group("codec")
            info.profile = m.group("profile")
            rest = m.group("rest")
            pm = re.search(r",\s*([a-z0-9_]+)(?:\(|,)", rest)
            if pm:
                info.pix_fmt = pm.group(1)
            sm = re.search(r"(\d{2,5})x(\d{2,5})", rest)
            if sm:
                info.width, info.height = int(sm.group(1)), int(sm.group(2))
            fm = re.search(r"([\d.]+) fps", rest)
            if fm:
                info.fps = float(fm.group(1))
    if info.codec is None:
        info.error = "no video stream found"
    return info


def video_warning(info: VideoInfo, what: str) -> str:
    """HTML warning when a video will not play in browsers (empty when it will)."""
    if info.error:
        return f'<div class="warn">Could not check {what}: {_e(info.error)}</div>'
    if info.browser_playable:
        return ""
    return (f'<div class="warn">{_e(what)} is {_e(info.describe())}; browsers play H.264 '
            f'yuv420p with even width and height only. Re-encode it (imageio: '
            f'<code>codec="libx264", pixelformat="yuv420p"</code>).</div>')


def small_video_uri(src: str | Path, width: int = 320, crf: int = 30) -> str:
    """``data:`` URI of ``src`` re-encoded as browser-playable H.264 ``width`` pixels wide.

    Used where a page shows many videos (the run overview) so it stays under ``PAGE_BYTES_LIMIT``.
    Falls back to the original file when ffmpeg is unavailable or fails.
    """
    src = Path(src)
    with tempfile.TemporaryDirectory(prefix="vidreward-video-") as tmp:
        out = Path(tmp) / "small.mp4"
        try:
            cmd = [_ffmpeg(), "-v", "error", "-y", "-i", str(src), "-vf", f"scale={width}:-2",
                   "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", str(crf), "-preset", "veryfast",
                   "-an", "-movflags", "+faststart", str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except (ImportError, RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            log.warning("%s: not re-encoded (%s); embedding the original", src, exc)
            return data_uri(src, "video/mp4")
        if proc.returncode != 0 or not out.is_file():
            log.warning("%s: not re-encoded (%s); embedding the original", src,
                        proc.stderr.strip()[-300:])
            return data_uri(src, "video/mp4")
        return data_uri(out, "video/mp4")
