"""Expert clips: fetch (URL / local file / shipped), trim, read; BVH motion-capture rendering."""

from vidreward.video.fetch import fetch_clip
from vidreward.video.io import probe_video, read_video, write_video
from vidreward.video.trim import trim_clip

__all__ = ["fetch_clip", "probe_video", "read_video", "trim_clip", "write_video"]
