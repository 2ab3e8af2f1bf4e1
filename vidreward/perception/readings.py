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
from vidreward.perception.signals import dominant_frequency, fill, moving, slope

MIN_FOUND_FRACTION = 0.25
TRAVEL_MIN_BL_S = 0.08  # below this the subject does not travel: no direction
SHAKE_SHIFT = 0.0015  # frame-to-frame jitter of the background, share of the width (RMS)
SHAKE_ROLL_DEG = 0.08  # frame-to-frame roll jitter (std); tripods, pans and dollies do not roll
OUTLINE_SMOOTH_S = 0.3  # running median of the outline's aspect: a step's leg swing is shorter
OUTLINE_SWING = 0.6  # share of the aspect's range a swing between turning points must span


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
                 grey_frames: np.ndarray, camera: CameraMotion, fps: float) -> Quantity:
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
    return turn_in_place(g, track, grey_frames, camera, fps)


def turn_in_place(g: GroundTrack, track: SubjectTrack, grey_frames: np.ndarray, camera: CameraMotion,
                  fps: float) -> Quantity:
    """Turning of a subject that stays in place: sign from the flow field inside the silhouette
    (near side and far side move in opposite directions), rate from the course of its changing
    outline (:func:`outline_heading`; the outline's period where that course has no turning
    point). ``grey_frames``: the analysis frames in grey [T, H, W] uint8."""
    unit = "deg/s"
    found = track.found
    if found.mean() < MIN_FOUND_FRACTION:
        return unknown_quantity(unit, "the subject is not found in enough frames")
    aspect = track.width / track.height
    freq, share = dominant_frequency(g.t[found], aspect[found], fmin=0.05)
    amp = float(np.nanpercentile(aspect, 95) - np.nanpercentile(aspect, 5)) / max(float(np.nanmedian(aspect)), 1e-6)
    h, w = grey_frames.shape[1:]
    curls = []
    surface = np.full(len(grey_frames), np.nan)  # mean |horizontal flow| inside the silhouette, px/frame
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
        surface[i] = float(np.abs(vx).mean())
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
    heading = outline_heading(aspect, surface, fps)
    rate = slope(g.t, heading) if heading is not None else 180.0 * freq
    return Quantity(sign * rate, float(np.clip(share, 0.3, 0.9)), unit)


def outline_turning_points(a: np.ndarray, swing: float) -> tuple[list[int], list[int]]:
    """Alternating turning points (index, +1 maximum / -1 minimum) of ``a``, each at least
    ``swing`` away from the previous one (hysteresis); the clip's first frame is not one (the
    signal's course before it is not seen), the last one needs the signal to turn back after it."""
    idx: list[int] = []
    kinds: list[int] = []
    i_max = i_min = 0
    state = 0  # +1 rising (looking for a maximum), -1 falling
    for i in range(len(a)):
        if a[i] > a[i_max]:
            i_max = i
        if a[i] < a[i_min]:
            i_min = i
        if state >= 0 and a[i_max] - a[i] >= swing:
            if not kinds or kinds[-1] != 1:
                idx.append(i_max)
                kinds.append(1)
            state, i_min = -1, i
        elif state <= 0 and a[i] - a[i_min] >= swing:
            if not kinds or kinds[-1] != -1:
                idx.append(i_min)
                kinds.append(-1)
            state, i_max = 1, i
    if state == -1 and idx and a[idx[-1]] - a[i_min] >= swing and i_min < len(a) - 2:
        idx.append(i_min)
        kinds.append(-1)
    if state == 1 and idx and a[i_max] - a[idx[-1]] >= swing and i_max < len(a) - 2:
        idx.append(i_max)
        kinds.append(1)
    if idx and idx[0] < 2:
        idx, kinds = idx[1:], kinds[1:]
    return idx, kinds


def outline_heading(aspect: np.ndarray, surface: np.ndarray, fps: float) -> np.ndarray | None:
    """How far (degrees, growing) a subject turning in place has turned by each frame, or None
    when its outline shows no turning point.

    The outline's aspect (width / height) of a body turning about the vertical goes from side-on
    (an extreme) to end-on (the other extreme) every quarter turn: between two turning points of
    the smoothed aspect (:func:`outline_turning_points`, swings of at least ``OUTLINE_SWING`` of
    its range, so a step's leg swing is not one) the body turned 90 degrees. When within that
    swing it turned is read from the surface flow inside the silhouette (``surface``, mean
    horizontal flow per frame, above its smoothed minimum, which limbs moving without turning
    also show): the quarter turn is spread over the frames in proportion to it. So a subject
    that stands, then turns, then stands reads a heading that stays, ramps and stays, and its
    least-squares slope is the clip's yaw rate as the truth defines it (the outline's period
    would give the rate while turning). Before the first and after the last turning point the
    part of a quarter turn is read from the aspect itself (``aspect = mid + half * cos(2 yaw)``).
    """
    n = len(aspect)
    smooth = max(1, int(round(OUTLINE_SMOOTH_S * fps)))
    a = fill(moving(aspect, smooth))
    if not np.isfinite(a).all():
        return None
    lo, hi = float(np.percentile(a, 2)), float(np.percentile(a, 98))
    if hi - lo <= 0:
        return None
    idx, kinds = outline_turning_points(a, OUTLINE_SWING * (hi - lo))
    if not idx:
        return None
    wgt = fill(moving(surface, smooth))
    wgt = np.nan_to_num(wgt - np.nanmin(wgt)) + 1e-6 if np.isfinite(wgt).any() else np.ones(n)

    def from_extreme(v: float, kind: int) -> float:  # degrees of yaw from a turning point of this kind
        c = float(np.clip((v - lo) / (hi - lo) * 2.0 - 1.0, -1.0, 1.0))
        half_phase = math.degrees(math.acos(c)) / 2.0  # 0 at the maximum, 90 at the minimum
        return half_phase if kind == 1 else 90.0 - half_phase

    heading = np.empty(n)
    for j, (s, e) in enumerate(zip(idx[:-1], idx[1:])):
        cw = np.cumsum(wgt[s + 1:e + 1])
        heading[s + 1:e + 1] = 90.0 * j + 90.0 * cw / cw[-1]
    first, last = idx[0], idx[-1]
    heading[first] = 0.0
    cw = np.cumsum(wgt[:first + 1][::-1])[::-1]  # weight from each frame to the first turning point
    heading[:first] = -from_extreme(a[0], kinds[0]) * cw[:first] / cw[0]
    cw = np.cumsum(wgt[last:])
    heading[last:] = 90.0 * (len(idx) - 1) + from_extreme(a[-1], kinds[-1]) * cw / cw[-1]
    return heading


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
