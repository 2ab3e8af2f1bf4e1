"""The subject's track on the ground: per-frame positions in the reference view (camera motion
removed), lateral and depth position in body lengths, heights above the ground line, and the
airborne share and windowed velocity read from them. See :mod:`vidreward.perception.evidence` for
the geometry."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vidreward.perception.camera import CameraMotion, local_scale, map_points
from vidreward.perception.record import CameraModel
from vidreward.perception.segment import SubjectTrack
from vidreward.perception.signals import detrend, fill, moving, slope

AIRBORNE_CLEARANCE = 0.03  # body sizes: the least clearance read as flight
AIRBORNE_NOISE_K = 3.0  # ... or this many times the clearance's noise, if larger
AIRBORNE_MIN_BOUNCE = 0.03  # body sizes: a smaller bounce of the body's centre is no flight
CONTACT_PERCENTILE = 85  # of the foot row in a window (y down): the ground under the subject
GROUND_WINDOW_S = 1.0
DRIFT_WINDOW_S = 2.0
VELOCITY_WINDOW_S = 1.0


@dataclass
class GroundTrack:
    """Per-frame measurements in the reference view, used by the evidence and the track CSV."""

    t: np.ndarray
    found: np.ndarray
    foot_ref: np.ndarray  # [T, 2]
    size_ref: np.ndarray  # [T] body length in reference pixels (per frame)
    body_px: float
    x_bl: np.ndarray  # lateral position, body lengths
    y_bl: np.ndarray  # depth, body lengths
    height_bl: np.ndarray  # centroid height above the ground line, body lengths
    clearance_bl: np.ndarray  # lowest point above the ground line, body lengths
    camera_shift: np.ndarray  # [T, 2] image motion of the background per frame (pixels)


def ground_track(camera: CameraMotion, track: SubjectTrack, fps: float, shape: tuple[int, int],
                 lens: CameraModel = CameraModel(), to_analysis: float = 1.0) -> GroundTrack:
    """Per-frame ground positions; ``lens`` in the clip's pixels, ``to_analysis`` = analysis
    pixels per clip pixel.

    Positions on the ground (foot point, lateral and depth position) are mapped into the
    reference view, where the camera's motion is removed. Heights (clearance and centre of
    the subject above the ground) are offsets of an upright body, which the ground-plane mapping
    would distort when the camera moves along its line of sight: they are measured in the frame's
    own pixels, against the subject's size in that frame, with the ground line brought back from
    the reference view by the mapping's vertical magnification at the foot point.
    """
    h, w = shape
    n = len(track.area)
    t = np.arange(n) / float(fps)
    found = track.found
    foot = np.full((n, 2), np.nan)
    scale = np.full(n, np.nan)
    vscale = np.full(n, np.nan)
    long_side = np.full(n, np.nan)
    for i in np.nonzero(found)[0]:
        hom = camera.to_reference[i]
        foot[i] = map_points(hom, track.bottom_centre[i])
        scale[i] = local_scale(hom, track.bottom_centre[i])
        vscale[i] = local_scale(hom, track.bottom_centre[i], axis=1)
        long_side[i] = max(track.width[i], track.height[i]) * scale[i]
    root_area = np.sqrt(track.area) * scale
    body_px = float(np.nanmedian(long_side))
    size = body_px * root_area / float(np.nanmedian(root_area))
    size = fill(moving(size, VELOCITY_WINDOW_S * fps))
    # depth motion only where the size changes steadily; otherwise pose changes would read as depth
    log_size = np.log(size)
    trend = slope(t, log_size) * (t[-1] - t[0]) if n > 1 else 0.0
    resid = log_size - (log_size.mean() + slope(t, log_size) * (t - t.mean()))
    steady = abs(trend) > 0.15 and abs(trend) > 3.0 * float(np.std(resid))
    s = size if steady else np.full(n, body_px)
    focal = (h / 2.0) / math.tan(math.radians(lens.fovy_deg) / 2.0)
    cx = w / 2.0 if lens.principal_point is None else float(lens.principal_point[0]) * to_analysis
    x_bl = (foot[:, 0] - cx) / s
    y_bl = focal / s
    ground = ground_line(foot[:, 1], fps)
    s_frame = s / scale  # the subject's size in the frame's own pixels
    clearance = (ground - foot[:, 1]) / vscale / s_frame
    bottom = track.box[:, 3]
    height_bl = clearance + (bottom - track.centroid[:, 1]) / s_frame
    shift = np.zeros((n, 2))
    centre = np.array([w / 2.0, h / 2.0])
    for i in range(1, n):
        shift[i] = map_points(camera.pair[i], centre) - centre
    return GroundTrack(t, found, foot, s, body_px, x_bl, y_bl, height_bl, clearance, shift)


def ground_line(foot_y: np.ndarray, fps: float) -> np.ndarray:
    """Image row of the ground under the subject per frame (reference view, y down).

    The foot point's row drifts as the subject moves toward or away from the camera: a running
    median over ``DRIFT_WINDOW_S``, smoothed, follows that drift (and not a bounce, which is
    faster); around it the ground is where the foot sits low within ``GROUND_WINDOW_S`` (the
    ``CONTACT_PERCENTILE`` of its row, not the lowest, so that a frame where a shadow or a stray
    pixel reaches lower does not sink the ground), smoothed over a second.
    """
    idx = np.arange(len(foot_y), dtype=float)
    ok = np.isfinite(foot_y)
    if ok.sum() < 4:
        return np.full(len(foot_y), np.nanmax(foot_y) if ok.any() else np.nan)
    # the windows are taken around a smooth trend of the whole clip, so that at the clip's ends,
    # where a window holds only one side, a steady drift does not bias them
    trend = np.polyval(np.polyfit(idx[ok], foot_y[ok], min(2, int(ok.sum()) - 2)), idx)
    rest = foot_y - trend
    drift = trend + fill(moving(fill(moving(rest, DRIFT_WINDOW_S * fps)), fps, np.mean))
    contact = moving(foot_y - drift, GROUND_WINDOW_S * fps, lambda v: np.percentile(v, CONTACT_PERCENTILE))
    return drift + fill(moving(contact, fps))


def airborne_fraction(g: GroundTrack) -> float:
    """Share of frames in flight.

    A frame is in flight when the lowest point clears the ground line by more than the
    clearance threshold and the body's centre is raised above its standing level by as much
    (a frame where the legs were not segmented lifts only the lowest point). The threshold is
    ``AIRBORNE_CLEARANCE`` or, on a noisy track, ``AIRBORNE_NOISE_K`` times the robust spread of
    the clearance in the frames nearer the ground, whichever is larger. A body whose centre
    bounces by less than ``AIRBORNE_MIN_BOUNCE`` does not leave the ground (a flight lifts the
    whole body): then the share is 0.
    """
    ok = g.found & np.isfinite(g.clearance_bl) & np.isfinite(g.height_bl)
    if ok.sum() < 4:
        return 0.0
    height = detrend(g.t[ok], g.height_bl[ok])
    if float(np.percentile(height, 95) - np.percentile(height, 5)) / 2 < AIRBORNE_MIN_BOUNCE:
        return 0.0
    clearance = g.clearance_bl[ok]
    low = clearance[clearance <= np.median(clearance)]
    spread = 1.4826 * float(np.median(np.abs(low - np.median(low))))
    threshold = max(AIRBORNE_CLEARANCE, AIRBORNE_NOISE_K * spread)
    standing = float(np.percentile(height, 30))
    return float(np.mean((clearance > threshold) & (height > standing + threshold)))


def windowed_velocity(g: GroundTrack, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame (lateral, depth) velocity in body lengths/s: the slope over a ``VELOCITY_WINDOW_S`` window."""
    half = max(2, int(round(VELOCITY_WINDOW_S * fps / 2)))
    n = len(g.t)
    vx = np.full(n, np.nan)
    vy = np.full(n, np.nan)
    for i in range(n):
        sl = slice(max(0, i - half), min(n, i + half + 1))
        ok = g.found[sl]
        if ok.sum() >= half:
            tt = g.t[sl][ok]
            vx[i] = slope(tt, g.x_bl[sl][ok])
            vy[i] = slope(tt, g.y_bl[sl][ok])
    return vx, vy
