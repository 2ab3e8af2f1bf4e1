"""Get the expert clip: from a URL (yt-dlp, only the needed time range), a local file, or a clip
shipped in ``data/shipped/``.

``source`` is exactly one of
    {"url": str, "start": s, "end": s}   downloaded with yt-dlp, cached by URL + range
    {"file": path}                       a local video, validated readable
    {"shipped": name}                    ``data/shipped/<name>.mp4`` (offline default)
plus an optional ``"licence"`` string recorded in the returned info.

``dest`` is written atomically (temp file + rename): a failed fetch never touches an existing
``dest``. Errors name what the user configured (file, URL or shipped clip) first, then the copy in
brackets: ``clips/my.mp4 [fetching to data/raw/x.mp4]: ...``.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from vidreward import layout
from vidreward.errors import ClipError
from vidreward.fsutil import atomic_file, sha256_file
from vidreward.video.io import probe_video

SHIPPED_DIR = Path(__file__).resolve().parents[2] / layout.SHIPPED_DIR  # of this checkout
KINDS = ("url", "file", "shipped")
_URL_KEYS = {"url", "start", "end"}


def source_label(source: Any) -> str | None:
    """What the user configured in a clip source: the file path, the URL or the shipped clip."""
    if not isinstance(source, dict):
        return None
    if "file" in source:
        return str(source["file"])
    if "url" in source:
        return str(source["url"])
    if "shipped" in source:
        return f"shipped clip {source['shipped']!r}"
    return None


def relabel(exc: ClipError, label: str, *paths: Any) -> ClipError:
    """``exc`` reworded to start with ``label``, dropping a leading ``"<path>: "`` (one of
    ``paths``) that the lower layer put there."""
    msg = str(exc)
    for path in paths:
        prefix = f"{path}: "
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
            break
    return ClipError(f"{label}: {msg}")


def _atomic_copy(src: Path, dest: Path) -> None:
    with atomic_file(dest, suffix=".part") as tmp:
        shutil.copyfile(src, tmp)


def _validate_source(source: Any) -> str:
    if not isinstance(source, dict):
        raise ClipError(f"clip source must be a mapping, got {source!r}")
    kinds = [k for k in KINDS if k in source]
    if len(kinds) != 1:
        raise ClipError(f"clip source {source!r} must have exactly one of {', '.join(KINDS)}")
    kind = kinds[0]
    allowed = (_URL_KEYS if kind == "url" else {kind}) | {"licence"}
    extra = set(source) - allowed
    if extra:
        raise ClipError(f"clip source {source!r}: unexpected keys {sorted(extra)} for a {kind} source")
    if kind == "url":
        missing = _URL_KEYS - set(source)
        if missing:
            raise ClipError(f"clip source {source['url']!r}: url sources need {sorted(missing)}")
        try:
            start, end = float(source["start"]), float(source["end"])
        except (TypeError, ValueError) as exc:
            raise ClipError(f"clip source {source['url']!r}: start/end must be numbers") from exc
        if start < 0 or end <= start:
            raise ClipError(f"clip source {source['url']!r}: need 0 <= start < end, got {start}..{end}")
    return kind


def _info(kind: str, source: dict, dest: Path, **extra: Any) -> dict[str, Any]:
    meta = probe_video(dest)
    return {
        "kind": kind,
        "source": {k: v for k, v in source.items()},
        "licence": source.get("licence", "unknown (not given in the clip source)"),
        "path": str(dest),
        "sha256": sha256_file(dest),
        **meta,
        **extra,
    }


def _url_cache_key(url: str, start: float, end: float) -> str:
    return hashlib.sha256(f"{url}\n{start:.3f}\n{end:.3f}".encode()).hexdigest()[:24]


class _QuietLogger:
    """yt-dlp logger that prints nothing: failures surface as ClipError instead."""

    def debug(self, msg: str) -> None:
        pass

    info = warning = error = debug


def _download(url: str, start: float, end: float, workdir: Path) -> Path:
    """Download [start, end] s of ``url`` into ``workdir``; return the media file."""
    import imageio_ffmpeg
    import yt_dlp
    from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor
    from yt_dlp.utils import download_range_func

    opts = {
        "outtmpl": str(workdir / "clip.%(ext)s"),
        "format": "bv*[ext=mp4]+ba[ext=m4a]/b[ext=mp4]/bv*+ba/b",
        "merge_output_format": "mp4",
        "download_ranges": download_range_func(None, [(start, end)]),
        "ffmpeg_location": imageio_ffmpeg.get_ffmpeg_exe(),
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "socket_timeout": 15,
        "retries": 0,
        "fragment_retries": 0,
        "extractor_retries": 0,
        "cachedir": False,
        "logger": _QuietLogger(),
    }
    def run() -> None:
        # yt-dlp's check "is ffmpeg available for a partial download" reads this context variable,
        # not the ffmpeg_location option (the CLI sets both); set it in a private context copy.
        FFmpegPostProcessor._ffmpeg_location.set(opts["ffmpeg_location"])
        with yt_dlp.YoutubeDL(opts) as ydl:
            ydl.download([url])

    try:
        contextvars.copy_context().run(run)
    except yt_dlp.utils.YoutubeDLError as exc:
        msg = str(exc).replace("\n", " ").strip()
        raise ClipError(f"{url}: download failed ({msg})") from exc
    files = [p for p in workdir.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))]
    if not files:
        raise ClipError(f"{url}: download produced no file")
    return max(files, key=lambda p: p.stat().st_size)


def fetch_clip(source: dict, dest: str | Path, cache_dir: str | Path,
               shipped_dir: str | Path | None = None) -> dict[str, Any]:
    """Materialise the clip described by ``source`` at ``dest`` and return its info
    (kind, source, licence, path, sha256, duration, fps, size, cached)."""
    dest = Path(dest)
    kind = _validate_source(source)  # its errors quote the source itself
    label = f"{source_label(source)} [fetching to {dest}]"
    try:
        return _fetch(kind, source, dest, cache_dir, shipped_dir, label)
    except ClipError as exc:
        if str(exc).startswith(label):
            raise
        where = [source.get("url"), dest]
        if "file" in source:
            where += [source["file"], Path(source["file"])]
        raise relabel(exc, label, *[w for w in where if w is not None]) from exc
    except OSError as exc:  # copying into dest / the cache
        raise ClipError(f"{label}: {exc}") from exc


def _fetch(kind: str, source: dict, dest: Path, cache_dir: str | Path,
           shipped_dir: str | Path | None, label: str) -> dict[str, Any]:
    if kind == "file":
        src = Path(source["file"])
        probe_video(src)  # ClipError naming the file when missing/unreadable
        _atomic_copy(src, dest)
        return _info(kind, source, dest, cached=False)
    if kind == "shipped":
        root = Path(shipped_dir) if shipped_dir is not None else SHIPPED_DIR
        name = str(source["shipped"])
        stem = name[:-4] if name.endswith(".mp4") else name
        src = root / f"{stem}.mp4"
        if not src.exists():
            available = sorted(p.stem for p in root.glob("*.mp4"))
            raise ClipError(f"{label}: not found in {root} (available: {available})")
        sidecar = root / f"{stem}.json"
        licence = None
        if sidecar.exists():
            try:
                licence = json.loads(sidecar.read_text()).get("licence")
            except (OSError, json.JSONDecodeError) as exc:
                raise ClipError(
                    f"{label}: unreadable shipped-clip sidecar {sidecar} ({exc})") from exc
        try:
            probe_video(src)
        except ClipError as exc:
            raise relabel(exc, f"{label}: shipped file {src}", src) from exc
        _atomic_copy(src, dest)
        info = _info(kind, source, dest, cached=False)
        if licence and "licence" not in source:
            info["licence"] = licence
        return info

    url, start, end = str(source["url"]), float(source["start"]), float(source["end"])
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = _url_cache_key(url, start, end)
    cached = cache_dir / f"{key}.mp4"
    if cached.exists():
        try:
            probe_video(cached)
        except ClipError:
            cached.unlink()  # a corrupt cache entry is refetched
    hit = cached.exists()
    if not hit:
        work = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=cache_dir))
        try:
            media = _download(url, start, end, work)
            try:
                probe_video(media)
            except ClipError as exc:
                raise ClipError(f"{url}: downloaded file is not a readable video ({exc})") from exc
            os.replace(media, cached)
            (cache_dir / f"{key}.json").write_text(
                json.dumps({"url": url, "start": start, "end": end}, indent=2) + "\n")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    _atomic_copy(cached, dest)
    return _info(kind, source, dest, cached=hit, cache_file=str(cached))
