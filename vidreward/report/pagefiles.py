"""The page directory: the error a page build raises, clearing a page's directory, writing its
``index.html`` (with a warning when it is too big for a single-file report) and the metadata line
of each video shown."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from vidreward.errors import VidrewardError
from vidreward.report.markup import esc
from vidreward.report.media import PAGE_BYTES_LIMIT, probe_video, video_warning

# the logger name the page builders' messages have always carried in the stage logs
log = logging.getLogger("vidreward.report.pages")


class ReportError(VidrewardError):
    """A review page cannot be built (missing rollout video, expert clip, reward code...)."""


# What older versions of the pages wrote beside index.html; removed so the page dir holds one file.
_STALE = ("expert.mp4", "rollout.mp4", "training.png", "summary.png", "storyboard")


def prepare_out_dir(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in [out_dir / n for n in ("index.html", *_STALE)] + list(out_dir.glob("iter_*.mp4")):
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def video_meta(src: Path, what: str) -> tuple[str, str, str]:
    """(caption name, metadata line, warning HTML) of a video shown on a page."""
    info = probe_video(src)
    if not info.browser_playable:
        log.warning("%s (%s) may not play in a browser: %s", what, src, info.describe())
    return esc(src.name), esc(info.describe()), video_warning(info, what)


def write_page(out_dir: Path, page: str) -> Path:
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    size = index.stat().st_size
    if size > PAGE_BYTES_LIMIT:
        log.warning("%s is %.1f MB: over %.1f MB, browsers will not show it inside a single-file "
                    "`snakemake --report report.html`; use `--report report.zip` or open it directly",
                    index, size / 1e6, PAGE_BYTES_LIMIT / 1e6)
    return index
