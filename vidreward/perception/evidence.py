"""Motion evidence of one clip: what the subject does on the ground, each value with a confidence.

Pipeline (:func:`extract_evidence`; the ground track in :mod:`vidreward.perception.ground`, the
camera style, turning, cadence and body axis in :mod:`vidreward.perception.readings`, the record
types in :mod:`vidreward.perception.record`, the track CSV and overlays in
:mod:`vidreward.perception.artifacts`): frames are reduced to at most ``ANALYSIS_WIDTH`` pixels wide;
the camera motion is measured from the background (:mod:`vidreward.perception.camera`); the
subject is segmented against a motion-compensated background (:mod:`vidreward.perception.segment`);
the camera motion is measured again with the subject's boxes masked out and the subject segmented
again. Every position is then mapped into the reference view (the middle frame), so all
quantities are relative to the ground, not to the image.

Ground track. In the reference view the subject's foot point (bottom centre of its silhouette)
``X`` and its apparent size ``s`` (pixels per body length) give, for a pinhole camera with the
assumed vertical field of view ``FOVY_DEG``, the position on the ground in body lengths:
lateral ``x = (X - cx) / s`` (screen right) and depth ``y = f / s`` (away from the camera), with
``f`` the focal length in pixels (from :class:`CameraModel`: by default ``FOVY_DEG`` over the
frame, centred). Body length (video) = the median over frames of the longer side
of the subject's box, with the body's proportions (long side per root of the area) read in the
frames where it appears largest when its apparent size changes over the clip (far away its thin
parts are lost: :func:`vidreward.perception.ground.body_length_px`); per frame it is scaled by
the change of the silhouette's area, and where
that change shows travel in depth its course follows the foot row on the ground plane
(:func:`vidreward.perception.ground.ground_plane_size`).

Conventions (the same in every record and in :mod:`vidreward.perception.suite`'s truth files):

==========================  =====================================================================
``direction_deg``           travel direction on the ground as seen from the camera: 0 = screen
                            right, 90 = away from the camera, -90 = toward it, +-180 = screen left
``speed_bl_s``              ground speed in body lengths per second
``lateral_speed_bl_s``      signed speed across the view (+ = screen right)
``depth_speed_bl_s``        signed speed along the view (+ = away); relies on ``FOVY_DEG``
``turn_rate_deg_s``         yaw rate, + = counter-clockwise seen from above
``bounce_amplitude_bl``     half the 5-95 % range of the body's height above the ground, detrended
``bounce_frequency_hz``     dominant frequency of that height (0 when the amplitude < 0.02)
``airborne_fraction``       share of frames whose lowest point clears the ground (by 3 % of body
                            size or three times the track's noise), also the line between its
                            last and next contacts, while the body's centre is raised by as
                            much above its standing level
``cadence_hz``              how often the silhouette's shape repeats (limb cycle)
``height_ratio``            median / 98th-percentile height of the silhouette (posture)
``axis_motion``             "along" (travel along the body's long axis) or "sideways"
``camera_motion``           "fixed", "panning", "tracking" or "shaky"
==========================  =====================================================================

Each :class:`Quantity` carries ``confidence`` (0-1) and, when the clip cannot show it, ``value``
None with ``unknown`` saying why (no texture to see the camera move, subject not found, no
travel, no periodicity ...). Readers of the record never state an unknown as a fact.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from vidreward.perception.artifacts import draw_overlay, write_track_csv
from vidreward.perception.camera import CameraMotion, estimate_camera_motion
from vidreward.perception.ground import GroundTrack, airborne_fraction, ground_track, windowed_velocity
from vidreward.perception.readings import (MIN_FOUND_FRACTION, TRAVEL_MIN_BL_S, camera_style, read_axis_motion,
                                           read_cadence, read_turning, stays_centred, turn_in_place)
from vidreward.perception.record import QUANTITY_KEYS, CameraModel, MotionEvidence, Quantity, unknown_quantity
from vidreward.perception.segment import SubjectTrack, segment_subject
from vidreward.perception.signals import detrend, dominant_frequency, fill, grey, slope

ANALYSIS_WIDTH = 320
BOUNCE_MIN = 0.02


def analysis_frames(frames: np.ndarray) -> np.ndarray:
    """Frames reduced to at most ANALYSIS_WIDTH pixels wide (even sizes)."""
    h, w = frames.shape[1:3]
    if w <= ANALYSIS_WIDTH:
        return np.ascontiguousarray(frames[..., :3])
    scale = ANALYSIS_WIDTH / w
    size = (ANALYSIS_WIDTH, max(2, int(round(h * scale / 2)) * 2))
    return np.stack([cv2.resize(f[..., :3], size, interpolation=cv2.INTER_AREA) for f in frames])


def measure(frames: np.ndarray, grey_frames: np.ndarray | None = None) -> tuple[CameraMotion, SubjectTrack]:
    """Camera motion and subject track of analysis frames (``grey_frames``: the same frames in
    grey, when already converted).

    A first pass at half resolution finds the subject roughly; its boxes keep the full-resolution
    camera estimate off the subject (on a plain background nearly every corner is on the
    subject, and the background would seem to follow it), and the full-resolution segmentation
    uses that estimate.
    """
    half = np.stack([cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2), interpolation=cv2.INTER_AREA)
                     for f in frames])
    rough = segment_subject(half, estimate_camera_motion(grey(half)))
    boxes = rough.box * 2.0 if rough.found.mean() >= MIN_FOUND_FRACTION else None
    camera = estimate_camera_motion(grey(frames) if grey_frames is None else grey_frames, boxes)
    return camera, segment_subject(frames, camera)


def evidence_from_frames(frames: np.ndarray, fps: float, clip: str = "<frames>",
                         lens: CameraModel = CameraModel()) -> tuple[MotionEvidence, GroundTrack, CameraMotion, SubjectTrack, np.ndarray]:
    """The evidence record of colour frames [T, H, W, 3] uint8 at ``fps``, plus what it was
    measured from (ground track, camera motion, subject track, analysis frames)."""
    small = analysis_frames(frames)
    small_grey = grey(small)
    camera, track = measure(small, small_grey)
    shape = small.shape[1:3]
    found = track.found
    ev = MotionEvidence(clip, float(fps), int(len(frames)), (int(frames.shape[2]), int(frames.shape[1])),
                        float(found.mean()), camera.observed_fraction, lens=lens)
    q = ev.quantities
    if found.mean() < MIN_FOUND_FRACTION or found.sum() < 4:
        why = f"the subject was found in only {int(found.sum())} of {len(found)} frames"
        for key in QUANTITY_KEYS:
            q[key] = unknown_quantity("", why)
        return ev, None, camera, track, small
    g = ground_track(camera, track, fps, shape, lens, small.shape[2] / frames.shape[2])
    q["camera_motion"] = camera_style(camera, g, track, shape)
    vx, vy, travels = _travel(q, g, track, small_grey, camera, fps, _no_texture(q, camera, track, shape))
    _vertical(q, g, track)
    q["cadence_hz"] = read_cadence(track, fps)
    q["axis_motion"] = read_axis_motion(track, vx, vy, travels)
    ev.quantities = {k: q[k] for k in QUANTITY_KEYS if k in q}
    return ev, g, camera, track, small


def _no_texture(q: dict[str, Quantity], camera: CameraMotion, track: SubjectTrack,
                shape: tuple[int, int]) -> str | None:
    """Why travel over the ground cannot be told from this clip, or None when it can."""
    if q["camera_motion"].value != "fixed" and camera.observed_fraction < 0.5:
        return ("the camera moves but the background shows too little texture to measure "
                "how far, so travel over the ground cannot be told")
    if camera.observed_fraction < 0.3 and stays_centred(track, shape):
        return ("the background shows no texture to tell whether the camera moves, and the "
                "subject stays near the centre of the image: a camera following it would "
                "look the same, so travel over the ground cannot be told")
    return None


def _travel(q: dict[str, Quantity], g: GroundTrack, track: SubjectTrack, small_grey: np.ndarray,
            camera: CameraMotion, fps: float, no_texture: str | None) -> tuple[float, float, bool]:
    """Speed, its lateral and depth parts, direction and turning into ``q``; returns the
    clip's (lateral, depth) velocity in body lengths/s and whether the subject travels.
    ``small_grey``: the analysis frames in grey."""
    found = track.found
    t, ok = g.t, found
    vx_all, vy_all = windowed_velocity(g, fps)
    vx = slope(t[ok], g.x_bl[ok])
    vy = slope(t[ok], g.y_bl[ok])
    chord = math.hypot(vx, vy)
    path = float(np.nanmean(np.hypot(vx_all, vy_all))) if np.isfinite(vx_all).any() else chord
    travels = max(chord, 0.0) >= TRAVEL_MIN_BL_S
    moving_camera = q["camera_motion"].value != "fixed"
    conf_cam = 0.9 if not moving_camera else float(np.clip(camera.observed_fraction, 0.2, 0.9))
    if no_texture:
        for key in ("speed_bl_s", "lateral_speed_bl_s", "depth_speed_bl_s", "direction_deg"):
            q[key] = unknown_quantity("", no_texture)
        q["turn_rate_deg_s"] = turn_in_place(g, track, small_grey, camera, fps)  # the body's own turn
        return vx, vy, travels
    turn = read_turning(g, vx_all, vy_all, travels, track, small_grey, camera, fps)
    turning = turn.value is not None and abs(turn.value) > 20.0
    speed = path if turning else chord
    q["speed_bl_s"] = Quantity(speed, conf_cam * float(found.mean()), "body lengths/s")
    q["lateral_speed_bl_s"] = Quantity(vx, conf_cam, "body lengths/s")
    q["depth_speed_bl_s"] = Quantity(vy, 0.5 * conf_cam, "body lengths/s")
    if travels:
        q["direction_deg"] = Quantity(math.degrees(math.atan2(vy, vx)), conf_cam * min(1.0, chord / 0.3), "deg")
    else:
        q["direction_deg"] = unknown_quantity("deg", f"the subject does not travel (moves {chord:.2f} body "
                                              "lengths per second over the ground)")
    q["turn_rate_deg_s"] = turn
    return vx, vy, travels


def _vertical(q: dict[str, Quantity], g: GroundTrack, track: SubjectTrack) -> None:
    """Bounce amplitude and frequency, airborne share and posture into ``q``."""
    found = track.found
    t, ok = g.t, found
    height = detrend(t[ok], g.height_bl[ok])
    amp = float(np.percentile(height, 95) - np.percentile(height, 5)) / 2
    q["bounce_amplitude_bl"] = Quantity(amp, float(found.mean()), "body lengths")
    if amp >= BOUNCE_MIN:
        freq, share = dominant_frequency(t, fill(g.height_bl))
        q["bounce_frequency_hz"] = Quantity(freq, float(np.clip(share * 1.5, 0.1, 0.95)), "Hz")
    else:
        q["bounce_frequency_hz"] = Quantity(0.0, 0.6, "Hz")
    q["airborne_fraction"] = Quantity(airborne_fraction(g), float(found.mean()), "fraction of the clip")
    heights = track.height[ok]
    q["height_ratio"] = Quantity(float(min(np.median(heights) / np.percentile(heights, 98), 1.0)),
                                 float(found.mean()), "")


def extract_evidence(path: str | Path, max_frames: int = 900, lens: CameraModel = CameraModel()) -> MotionEvidence:
    """The evidence record of a video file."""
    from vidreward.video.io import read_video

    frames, fps = read_video(path, max_frames=max_frames)
    return evidence_from_frames(frames, fps, clip=str(path), lens=lens)[0]


def analyse_clip(path: str | Path, out_dir: str | Path | None = None, storyboard: int = 6,
                 max_frames: int = 900, prefix: str = "overlay_", lens: CameraModel = CameraModel()) -> MotionEvidence:
    """Evidence of a clip; with ``out_dir`` also ``evidence.json``, ``track.csv`` and
    ``<prefix><k>.png`` storyboard frames (``k`` two digits) with the overlay drawn."""
    from vidreward.video.io import read_video

    frames, fps = read_video(path, max_frames=max_frames)
    ev, g, camera, track, small = evidence_from_frames(frames, fps, clip=str(path), lens=lens)
    if out_dir is not None:
        import imageio.v2 as imageio

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "evidence.json").write_text(ev.to_json() + "\n")
        scale = frames.shape[2] / small.shape[2]
        write_track_csv(out / "track.csv", g, camera, track, scale)
        for k, i in enumerate(np.linspace(0, len(frames) - 1, storyboard).astype(int)):
            imageio.imwrite(out / f"{prefix}{k:02d}.png", draw_overlay(frames[i], int(i), g, track, scale, fps))
    return ev


__all__ = ["CameraModel", "MotionEvidence", "Quantity", "analyse_clip", "evidence_from_frames", "extract_evidence"]

