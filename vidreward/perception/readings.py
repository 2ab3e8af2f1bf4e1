"""Readings of a clip that need more than the ground track: the camera's style, turning (from the
heading of travel, or in place from the outline and the surface flow), limb cadence and travel
relative to the body's long axis."""

from __future__ import annotations

import math

import cv2
import numpy as np

from vidreward.perception.camera import CameraMotion
from vidreward.perception.ground import GroundTrack, window_times
from vidreward.perception.record import Quantity, unknown_quantity
from vidreward.perception.segment import SubjectTrack
from vidreward.perception.signals import dominant_frequency, grey, moving, slope

MIN_FOUND_FRACTION = 0.25
TRAVEL_MIN_BL_S = 0.08  # below this the subject does not travel: no direction
SHAKE_SHIFT = 0.0015  # frame-to-frame jitter of the background, share of the width (RMS)
SHAKE_ROLL_DEG = 0.08  # frame-to-frame roll jitter (std); tripods, pans and dollies do not roll


def camera_style(camera: CameraMotion, g: GroundTrack, track: SubjectTrack, shape: tuple[int, int]) -> Quantity:
    """fixed / panning / tracking / shaky, from the background's image motion."""
    h, w = shape
    if camera.observed_fraction < 0.3:
        return Quantity("fixed", 0.3, "", None)  # no texture: a still background is assumed
    shift = g.camera_shift
    smooth = np.stack([moving(shift[:, k], 9, np.mean) for k in (0, 1)], axis=1)
    jitter_rms = float(np.sqrt(((shift - smooth)[1:] ** 2).sum(1).mean())) / w
    path = np.cumsum(shift, axis=0)
    extent = float(np.abs(path - path[0]).max()) / w
    if extent < 0.05:
        return Quantity("fixed", 0.9, "")
    roll_steps = np.degrees(np.arctan2(camera.pair[1:, 1, 0], camera.pair[1:, 0, 0]))
    roll_jitter = float(np.std(roll_steps[camera.observed[1:]])) if camera.observed[1:].any() else 0.0
    if jitter_rms > SHAKE_SHIFT or roll_jitter > SHAKE_ROLL_DEG:  # a hand does not pan smoothly
        return Quantity("shaky", float(np.clip(max(jitter_rms / SHAKE_SHIFT, roll_jitter / SHAKE_ROLL_DEG) / 2,
                                               0.5, 0.9)), "")
    centred = float(np.nanstd(track.centroid[:, 0])) / w < 0.08
    return Quantity("tracking" if centred else "panning", 0.7, "")


def stays_centred(track: SubjectTrack, shape: tuple[int, int]) -> bool:
    """The subject's image position moves less than a third of its size over the clip."""
    found = track.found
    cx = track.centroid[found, 0]
    size = float(np.nanmedian(np.maximum(track.width, track.height)))
    return float(np.percentile(cx, 95) - np.percentile(cx, 5)) < 0.33 * size and \
        abs(float(np.nanmedian(cx)) - shape[1] / 2) < 0.25 * shape[1]


def read_turning(g: GroundTrack, vx: np.ndarray, vy: np.ndarray, travels: bool, track: SubjectTrack,
                 frames: np.ndarray, camera: CameraMotion, fps: float) -> Quantity:
    """Yaw rate: the slope of the heading of travel, or for a subject that stays in place
    :func:`turn_in_place`."""
    unit = "deg/s"
    if travels:
        in_motion = np.hypot(vx, vy) > 0.5 * TRAVEL_MIN_BL_S
        if in_motion.sum() < 0.4 * len(vx):
            return unknown_quantity(unit, "the subject travels too little of the time to follow its heading")
        heading = np.unwrap(np.arctan2(vy[in_motion], vx[in_motion]))
        tc = window_times(g, fps)[in_motion]  # each heading at the time its window measured it
        rate = math.degrees(slope(tc, heading))
        resid = heading - (heading.mean() + slope(tc, heading) * (tc - tc.mean()))
        conf = float(np.clip(1.0 - np.std(resid) / 0.6, 0.2, 0.95))
        return Quantity(rate, conf, unit)
    return turn_in_place(g, track, frames, camera, fps)


def turn_in_place(g: GroundTrack, track: SubjectTrack, frames: np.ndarray, camera: CameraMotion,
                  fps: float) -> Quantity:
    """Turning of a subject that stays in place: sign from the flow field inside the silhouette
    (near side and far side move in opposite directions), rate from the period of its changing
    outline (the outline repeats every half turn)."""
    unit = "deg/s"
    found = track.found
    if found.mean() < MIN_FOUND_FRACTION:
        return unknown_quantity(unit, "the subject is not found in enough frames")
    aspect = track.width / track.height
    freq, share = dominant_frequency(g.t[found], aspect[found], fmin=0.05)
    amp = float(np.nanpercentile(aspect, 95) - np.nanpercentile(aspect, 5)) / max(float(np.nanmedian(aspect)), 1e-6)
    grey_frames = grey(frames)
    h, w = grey_frames.shape[1:]
    curls = []
    for i in range(1, len(grey_frames)):
        if not (found[i] and found[i - 1]):
            continue
        prev = cv2.warpPerspective(grey_frames[i - 1], camera.mapping(i - 1, i), (w, h))
        x0, y0, x1, y1 = track.box[i].astype(int)
        pad = int(0.15 * max(x1 - x0, y1 - y0)) + 2
        xa, ya, xb, yb = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad + 1), min(h, y1 + pad + 1)
        if xb - xa < 8 or yb - ya < 8:
            continue
        flow = cv2.calcOpticalFlowFarneback(prev[ya:yb, xa:xb], grey_frames[i][ya:yb, xa:xb], None,
                                            0.5, 2, 9, 3, 5, 1.1, 0)
        ys, xs = np.mgrid[ya:yb, xa:xb]
        inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y0 + 0.7 * (y1 - y0))
        if inside.sum() < 20:
            continue
        yy = ys[inside] - ys[inside].mean()
        vx = flow[..., 0][inside] - flow[..., 0][inside].mean()
        denom = float((yy * yy).sum())
        if denom > 0:
            curls.append(float((vx * yy).sum() / denom))
    if len(curls) < 5:
        return unknown_quantity(unit, "too few frames show the subject's surface moving")
    curls = np.array(curls)
    mean, sem = float(curls.mean()), float(curls.std() / math.sqrt(len(curls)))
    significant = abs(mean) > 3.0 * sem and abs(mean) > 0.002
    if not significant and (amp < 0.15 or share < 0.3):
        return Quantity(0.0, 0.5, unit)
    if not significant:
        return unknown_quantity(unit, "the outline changes as if turning, but the direction of the turn "
                        "cannot be seen (no visible surface motion)")
    sign = 1.0 if mean > 0 else -1.0  # lower rows (near side, camera above) moving right = CCW
    if amp < 0.15 or share < 0.3 or freq <= 0:
        return Quantity(None, 0.4, unit, f"turning {'counter-clockwise' if sign > 0 else 'clockwise'}"
                        " seen from above, but the rate cannot be measured (the outline does not "
                        "change periodically)")
    return Quantity(sign * 180.0 * freq, float(np.clip(share, 0.3, 0.9)), unit)


def read_cadence(track: SubjectTrack, fps: float) -> Quantity:
    """How often the silhouette's shape repeats (the limb cycle), from the overlap of its thumbnails over lags."""
    found = np.nonzero(track.found)[0]
    unit = "Hz"
    if len(found) < 16:
        return unknown_quantity(unit, "the subject is not found in enough frames")
    shapes = track.shapes.reshape(len(track.shapes), -1).astype(np.float32)
    max_lag = min(int(2.0 * fps), len(found) // 2)
    min_lag = max(2, int(0.15 * fps))
    sims = []
    for lag in range(1, max_lag + 1):
        a = [i for i in found if i + lag < len(shapes) and track.found[i + lag]]
        if len(a) < 8:
            sims.append(np.nan)
            continue
        x, y = shapes[a], shapes[np.array(a) + lag]
        inter = (x * y).sum(1)
        union = np.maximum(x, y).sum(1)
        sims.append(float(np.mean(inter / np.maximum(union, 1))))
    sims = np.array(sims)
    if len(sims) <= min_lag + 2 or not np.isfinite(sims[min_lag:]).any():
        return unknown_quantity(unit, "the clip is too short to see the limbs repeat")
    seg = sims[min_lag - 1:]
    for k in range(1, len(seg) - 1):
        if np.isfinite(seg[k]) and seg[k] >= seg[k - 1] and seg[k] >= seg[k + 1]:
            trough = float(np.nanmin(sims[: min_lag + k]))
            prominence = float(seg[k] - trough)
            if prominence > 0.05:
                lag = min_lag + k
                return Quantity(fps / lag, float(np.clip(prominence * 4, 0.2, 0.95)), unit)
    return unknown_quantity(unit, "the silhouette's shape does not repeat (no limb cycle visible)")


def read_axis_motion(track: SubjectTrack, vx: float, vy: float, travels: bool) -> Quantity:
    """Travel along or across the body's long axis, where the view shows the axis."""
    if not travels:
        return unknown_quantity("", "the subject does not travel")
    aspect = float(np.nanmedian(track.width / track.height))
    elong = float(np.nanmedian(track.elongation))
    upright = abs(float(np.nanmedian(track.angle)) - 90.0) < 30.0 and aspect < 0.85
    if upright:
        return unknown_quantity("", "the body is upright (its long axis is vertical): the view does not show "
                        "which way it faces")
    if elong < 1.3:
        return unknown_quantity("", "the silhouette has no clear long axis in this view")
    lateral = abs(vx) >= abs(vy)
    wide = aspect > 1.2
    tall = aspect < 0.85
    if not (wide or tall):
        return unknown_quantity("", "the view does not show which way the body's long axis points")
    if lateral:
        return Quantity("along" if wide else "sideways", 0.6, "")
    return Quantity("sideways" if wide else "along", 0.5, "")
