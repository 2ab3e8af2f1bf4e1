"""Video I/O, fetching (file / shipped / URL via a local HTTP server), trimming, BVH rendering."""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from vidreward.errors import ClipError
from vidreward.video import fetch_clip, probe_video, read_video, trim_clip, write_video
from vidreward.video.bvh import forward_kinematics, load_bvh, render_side_view
from vidreward.video.fetch import SHIPPED_DIR

SHIPPED = "cmu_01_01_forward_jumps"


def _frames(t: int = 30, h: int = 48, w: int = 64) -> np.ndarray:
    """A light background with a dark square moving right one pixel per frame."""
    f = np.full((t, h, w, 3), 230, np.uint8)
    for i in range(t):
        f[i, 16:32, 4 + i: 20 + i] = 20
    return f


@pytest.fixture(scope="module")
def small_mp4(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("vid") / "small.mp4"
    write_video(path, _frames(), fps=10)
    return path


@pytest.fixture()
def junk_mp4(tmp_path) -> Path:
    path = tmp_path / "junk.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


# ---------------------------------------------------------------- io


def test_read_and_probe_roundtrip(small_mp4):
    frames, fps = read_video(small_mp4)
    assert frames.dtype == np.uint8 and frames.shape == (30, 48, 64, 3)
    assert fps == pytest.approx(10.0)
    # the square is where it was drawn (lossy codec: compare loosely)
    assert frames[10, 24, 20].mean() < 80 and frames[10, 24, 60].mean() > 180
    meta = probe_video(small_mp4)
    assert meta["size"] == [64, 48] and meta["fps"] == pytest.approx(10.0)
    assert meta["duration"] == pytest.approx(3.0, abs=0.15)
    assert read_video(small_mp4, max_frames=5)[0].shape[0] == 5


def test_io_errors_name_the_file(tmp_path, junk_mp4):
    missing = tmp_path / "nope.mp4"
    for fn in (read_video, probe_video):
        with pytest.raises(ClipError, match="nope.mp4"):
            fn(missing)
        with pytest.raises(ClipError, match="junk.mp4"):
            fn(junk_mp4)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ClipError, match="empty.mp4.*empty"):
        read_video(empty)


def test_write_video_rejects_odd_size(tmp_path):
    with pytest.raises(ClipError, match="odd.mp4"):
        write_video(tmp_path / "odd.mp4", np.zeros((2, 5, 5, 3), np.uint8), fps=5)
    assert not (tmp_path / "odd.mp4").exists()


# ---------------------------------------------------------------- fetch: file / shipped / validation


def test_fetch_local_file(tmp_path, small_mp4):
    dest = tmp_path / "raw" / "clip.mp4"
    info = fetch_clip({"file": str(small_mp4), "licence": "CC0"}, dest, tmp_path / "cache")
    assert dest.read_bytes() == small_mp4.read_bytes()
    assert info["kind"] == "file" and info["licence"] == "CC0" and info["size"] == [64, 48]
    assert len(info["sha256"]) == 64


def test_fetch_bad_file_keeps_existing_dest(tmp_path, junk_mp4, small_mp4):
    dest = tmp_path / "clip.mp4"
    dest.write_bytes(small_mp4.read_bytes())
    with pytest.raises(ClipError, match="junk.mp4"):
        fetch_clip({"file": str(junk_mp4)}, dest, tmp_path / "cache")
    with pytest.raises(ClipError, match="absent.mp4"):
        fetch_clip({"file": str(tmp_path / "absent.mp4")}, dest, tmp_path / "cache")
    assert dest.read_bytes() == small_mp4.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_fetch_shipped_clip_carries_licence(tmp_path):
    info = fetch_clip({"shipped": SHIPPED}, tmp_path / "c.mp4", tmp_path / "cache")
    assert info["kind"] == "shipped"
    assert "mocap.cs.cmu.edu" in info["licence"]
    assert info["fps"] == pytest.approx(25.0) and info["size"][1] == 240
    sidecar = json.loads((SHIPPED_DIR / f"{SHIPPED}.json").read_text())
    assert info["sha256"] == sidecar["sha256"]
    assert (SHIPPED_DIR / f"{SHIPPED}.mp4").stat().st_size < 600 * 1024
    with pytest.raises(ClipError, match="no_such_clip"):
        fetch_clip({"shipped": "no_such_clip"}, tmp_path / "d.mp4", tmp_path / "cache")


@pytest.mark.parametrize("source, pattern", [
    ({"file": "a.mp4", "shipped": "x"}, "exactly one"),
    ({}, "exactly one"),
    ({"url": "http://h/v.mp4", "start": 1}, "end"),
    ({"url": "http://h/v.mp4", "start": 3, "end": 2}, "http://h/v.mp4.*start < end"),
    ({"shipped": "x", "start": 1}, "unexpected keys"),
    ("clip.mp4", "mapping"),
])
def test_fetch_rejects_malformed_sources(tmp_path, source, pattern):
    with pytest.raises(ClipError, match=pattern):
        fetch_clip(source, tmp_path / "c.mp4", tmp_path / "cache")


# ---------------------------------------------------------------- fetch: URL, for real, over HTTP


@pytest.fixture()
def http_server():
    """Serve data/shipped on 127.0.0.1 and count the requests it answers."""
    hits: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_head(self):
            hits.append(self.path)
            return super().send_head()

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(SHIPPED_DIR)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def test_fetch_url_range_and_cache(tmp_path, http_server):
    base, hits = http_server
    source = {"url": f"{base}/{SHIPPED}.mp4", "start": 1.0, "end": 3.0}
    cache = tmp_path / "cache"
    info = fetch_clip(source, tmp_path / "a.mp4", cache)
    assert hits, "the server was never asked"
    assert info["kind"] == "url" and info["cached"] is False
    # only the requested range was fetched: ~2 s of the 6.16 s clip
    assert info["duration"] == pytest.approx(2.0, abs=0.3)
    frames, fps = read_video(tmp_path / "a.mp4")
    assert fps == pytest.approx(25.0) and frames.shape[1:] == (240, 520, 3)

    hits.clear()
    info2 = fetch_clip(source, tmp_path / "b.mp4", cache)
    assert hits == [] and info2["cached"] is True
    assert info2["sha256"] == info["sha256"]

    # a different range is a different cache entry
    info3 = fetch_clip({**source, "end": 2.0}, tmp_path / "c.mp4", cache)
    assert hits and info3["cached"] is False
    assert info3["duration"] == pytest.approx(1.0, abs=0.3)


def test_fetch_unreachable_url_fails_fast_and_keeps_dest(tmp_path, small_mp4):
    dest = tmp_path / "clip.mp4"
    dest.write_bytes(small_mp4.read_bytes())
    url = "http://127.0.0.1:9/nothing-listens-here.mp4"  # discard port: connection refused
    t0 = time.monotonic()
    with pytest.raises(ClipError, match="127.0.0.1:9/nothing-listens-here.mp4"):
        fetch_clip({"url": url, "start": 0, "end": 2}, dest, tmp_path / "cache")
    assert time.monotonic() - t0 < 10
    assert dest.read_bytes() == small_mp4.read_bytes()
    assert list((tmp_path / "cache").iterdir()) == []


def test_fetch_url_that_is_not_a_video(tmp_path, http_server):
    base, _ = http_server
    url = f"{base}/SOURCES.md"
    with pytest.raises(ClipError, match="SOURCES.md"):
        fetch_clip({"url": url, "start": 0, "end": 1}, tmp_path / "x.mp4", tmp_path / "cache")
    assert not (tmp_path / "x.mp4").exists()


# ---------------------------------------------------------------- trim


def test_trim_height_fps_and_sidecar(tmp_path):
    src = SHIPPED_DIR / f"{SHIPPED}.mp4"
    dest = tmp_path / "clips" / "jump.mp4"
    side = trim_clip(src, dest, 1.0, 3.0, fps=10, size=120, source_info={"source": {"shipped": SHIPPED},
                                                                        "licence": "CMU"})
    frames, fps = read_video(dest)
    assert fps == pytest.approx(10.0)
    assert frames.shape[1:3] == (120, 260)  # aspect 520:240 kept, even dims
    assert side["frames"] == frames.shape[0] == 20
    on_disk = json.loads(dest.with_suffix(".json").read_text())
    assert on_disk == side
    assert side["start"] == 1.0 and side["end"] == 3.0 and side["licence"] == "CMU"
    assert side["size"] == [260, 120] and side["source"] == {"shipped": SHIPPED}
    from vidreward.fsutil import sha256_file

    assert side["sha256"] == sha256_file(dest)


def test_trim_explicit_size(tmp_path, small_mp4):
    side = trim_clip(small_mp4, tmp_path / "o.mp4", 0.5, 2.5, fps=5, size=[33, 20], source_info={})
    assert side["size"] == [34, 20]
    assert read_video(tmp_path / "o.mp4")[0].shape == (10, 20, 34, 3)


def test_trim_bad_ranges_name_clip_and_duration(tmp_path, small_mp4):
    dest = tmp_path / "o.mp4"
    dest.write_bytes(b"previous good clip")
    with pytest.raises(ClipError, match=r"small.mp4.*lasts 3.0"):
        trim_clip(small_mp4, dest, 1.0, 9.0, fps=5, size=48, source_info={})
    with pytest.raises(ClipError, match=r"small.mp4.*after start"):
        trim_clip(small_mp4, dest, 2.0, 2.0, fps=5, size=48, source_info={})
    with pytest.raises(ClipError, match="missing.mp4"):
        trim_clip(tmp_path / "missing.mp4", dest, 0, 1, fps=5, size=48, source_info={})
    assert dest.read_bytes() == b"previous good clip"
    assert not dest.with_suffix(".json").exists()


def _user_then_copy(user: str, copy: Path, rest: str) -> str:
    """Pattern: the user's input first, the fetched copy in brackets, then ``rest``."""
    return rf"^{re.escape(user)} \[fetched copy {re.escape(str(copy))}\]: {rest}"


def test_trim_errors_name_the_configured_file_then_the_fetched_copy(tmp_path, small_mp4,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("clips").mkdir()
    Path("clips/my.mp4").write_bytes(small_mp4.read_bytes())
    copy = Path("data/raw/x.mp4")
    # as the workflow does it: fetch_stage writes the info as JSON, trim_stage reads it back
    info = json.loads(json.dumps(fetch_clip({"file": "clips/my.mp4"}, copy, "cache")))
    dest = Path("data/clips/x.mp4")
    with pytest.raises(ClipError, match=_user_then_copy(
            "clips/my.mp4", copy, r"range 0\.0\.\.9\.0 s is outside the clip, which lasts 3\.0")):
        trim_clip(copy, dest, 0, 9, fps=5, size=48, source_info=info)
    user = "clips/my.mp4"
    with pytest.raises(ClipError, match=_user_then_copy(user, copy, "end .* after start")):
        trim_clip(copy, dest, 2, 1, fps=5, size=48, source_info=info)
    with pytest.raises(ClipError, match=_user_then_copy(user, copy, "output size")):
        trim_clip(copy, dest, 0, 1, fps=5, size=-4, source_info=info)
    copy.unlink()
    with pytest.raises(ClipError, match=_user_then_copy(user, copy, "video file does not exist$")):
        trim_clip(copy, dest, 0, 1, fps=5, size=48, source_info=info)
    assert not dest.exists()


def test_trim_errors_name_the_configured_url_or_shipped_clip(tmp_path, small_mp4):
    url = "https://example.org/spider.mp4"
    info = {"kind": "url", "source": {"url": url, "start": 10.0, "end": 19.0}}
    with pytest.raises(ClipError, match=_user_then_copy(
            url, small_mp4, r"range 0\.0\.\.9\.0 s .*lasts 3\.0.*starts at 10\.0 s of the URL")):
        trim_clip(small_mp4, tmp_path / "o.mp4", 0, 9, fps=5, size=48, source_info=info)
    info = {"kind": "shipped", "source": {"shipped": "spider"}}
    shipped = "shipped clip 'spider'"
    with pytest.raises(ClipError, match=_user_then_copy(shipped, small_mp4, "range")):
        trim_clip(small_mp4, tmp_path / "o.mp4", 0, 9, fps=5, size=48, source_info=info)


def test_fetch_errors_name_the_configured_file_then_the_copy(tmp_path, junk_mp4, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dest = Path("data/raw/x.mp4")
    with pytest.raises(ClipError, match=rf"^junk\.mp4 \[fetching to {re.escape(str(dest))}\]: "
                                        r"cannot decode video"):
        fetch_clip({"file": "junk.mp4"}, dest, "cache")
    with pytest.raises(ClipError, match=r"^clips/absent\.mp4 \[fetching to .*x\.mp4\]: .*not exi"):
        fetch_clip({"file": "clips/absent.mp4"}, dest, "cache")
    with pytest.raises(ClipError, match=r"^shipped clip 'nope' \[fetching to .*\]: not found"):
        fetch_clip({"shipped": "nope"}, dest, "cache")
    assert not dest.exists()


# ---------------------------------------------------------------- BVH

TINY_BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT Leg
  {
    OFFSET 0 -10 0
    CHANNELS 3 Zrotation Yrotation Xrotation
    End Site
    {
      OFFSET 0 -10 0
    }
  }
  JOINT Head
  {
    OFFSET 0 8 0
    CHANNELS 3 Zrotation Yrotation Xrotation
  }
}
MOTION
Frames: 3
Frame Time: 0.1
0 20 0 0 0 0 0 0 0 0 0 0
0 20 5 0 0 0 90 0 0 0 0 0
0 20 10 0 0 0 0 0 90 0 0 0
"""


def test_bvh_forward_kinematics(tmp_path):
    path = tmp_path / "tiny.bvh"
    path.write_text(TINY_BVH)
    m = load_bvh(path)
    assert [j.name for j in m.joints] == ["Hips", "Leg", "Leg_end", "Head"]
    assert m.fps == pytest.approx(10.0) and m.num_frames == 3
    p = forward_kinematics(m)
    np.testing.assert_allclose(p[0, 2], [0, 0, 0], atol=1e-9)  # foot straight below
    # frame 1: leg rotated 90 deg about Z: the foot swings to +x
    np.testing.assert_allclose(p[1, 1], [0, 10, 5], atol=1e-9)
    np.testing.assert_allclose(p[1, 2], [10, 10, 5], atol=1e-9)
    # frame 2: 90 deg about X: the foot swings to -z
    np.testing.assert_allclose(p[2, 2], [0, 10, 0], atol=1e-9)
    np.testing.assert_allclose(p[2, 3], [0, 28, 10], atol=1e-9)


def test_bvh_side_view_render(tmp_path):
    path = tmp_path / "tiny.bvh"
    path.write_text(TINY_BVH.replace(" 90 0 0 0 0 0", " 0 0 0 0 0 0").replace("0 0 90 0 0 0", "0 0 0 0 0 0"))
    m = load_bvh(path)
    frames = render_side_view(m, fps=10, )
    assert frames.shape[0] == 3 and frames.shape[1] == 240 and frames.shape[2] % 2 == 0
    dark = [np.argwhere(f.mean(-1) < 100) for f in frames]
    assert all(len(d) > 100 for d in dark)
    # travelling along +z, seen from the side: the figure moves right on screen
    xs = [d[:, 1].mean() for d in dark]
    assert xs[0] < xs[1] < xs[2]


def test_bvh_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.bvh"
    bad.write_text(TINY_BVH.replace("Frames: 3", "Frames: 4"))
    with pytest.raises(ClipError, match="bad.bvh"):
        load_bvh(bad)
    with pytest.raises(ClipError, match="nothing.bvh"):
        load_bvh(tmp_path / "nothing.bvh")
