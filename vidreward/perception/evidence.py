"""Motion evidence of one clip: what the subject does on the ground, each value with a confidence.

Pipeline (:func:`extract_evidence`): frames are reduced to at most ``ANALYSIS_WIDTH`` pixels wide;
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
of the subject's box; per frame it is scaled by the change of the silhouette's area.

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
                            size or three times the track's noise) while the body's centre is
                            raised by as much above its standing level
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

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vidreward.perception.camera import CameraMotion, estimate_camera_motion, local_scale, map_points
from vidreward.perception.segment import SubjectTrack, segment_subject

ANALYSIS_WIDTH = 320
FOVY_DEG = 45.0
MIN_FOUND_FRACTION = 0.25
TRAVEL_MIN_BL_S = 0.08  # below this the subject does not travel: no direction
AIRBORNE_CLEARANCE = 0.03  # body sizes: the least clearance read as flight
AIRBORNE_NOISE_K = 3.0  # ... or this many times the clearance's noise, if larger
AIRBORNE_MIN_BOUNCE = 0.03  # body sizes: a smaller bounce of the body's centre is no flight
CONTACT_PERCENTILE = 85  # of the foot row in a window (y down): the ground under the subject
BOUNCE_MIN = 0.02
GROUND_WINDOW_S = 1.0
DRIFT_WINDOW_S = 2.0
VELOCITY_WINDOW_S = 1.0
SUBHARMONIC_SHARE = 0.9
SHAKE_SHIFT = 0.0015  # frame-to-frame jitter of the background, share of the width (RMS)
SHAKE_ROLL_DEG = 0.08  # frame-to-frame roll jitter (std); tripods, pans and dollies do not roll
QUANTITY_KEYS = (
    "direction_deg", "speed_bl_s", "lateral_speed_bl_s", "depth_speed_bl_s", "turn_rate_deg_s",
    "bounce_amplitude_bl", "bounce_frequency_hz", "airborne_fraction", "cadence_hz", "height_ratio",
    "axis_motion", "camera_motion",
)


@dataclass(frozen=True)
class CameraModel:
    """What is known of the camera's lens. Depth (travel toward or away from the camera) is
    measured from the change of the subject's apparent size, which needs the focal length: by
    default a vertical field of view of ``FOVY_DEG`` over the clip's frame, centred. A crop of a
    wider picture, a telephoto or a wide-angle lens want their own values."""

    fovy_deg: float = FOVY_DEG
    """vertical field of view of the clip's frame, degrees"""
    principal_point: tuple[float, float] | None = None
    """where the optical axis meets the frame, in the clip's pixels (x right, y down); None = the
    frame's centre (an off-centre crop moves it)"""

    def __post_init__(self):
        if not (0.5 <= float(self.fovy_deg) <= 170.0):
            raise ValueError(f"camera field of view {self.fovy_deg} degrees: expected 0.5-170")

    @property
    def assumed(self) -> bool:
        return self.fovy_deg == FOVY_DEG and self.principal_point is None


@dataclass
class Quantity:
    """One measured value, its confidence, and why it is unknown when it is."""

    value: Any
    confidence: float
    unit: str = ""
    unknown: str | None = None

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, float):
            value = round(value, 4)
        return {"value": value, "confidence": round(float(self.confidence), 3), "unit": self.unit,
                "unknown": self.unknown}


def _unknown(unit: str, why: str) -> Quantity:
    return Quantity(None, 0.0, unit, why)


@dataclass
class MotionEvidence:
    """The evidence record of one clip (``vidreward motion CLIP --json`` prints it)."""

    clip: str
    fps: float
    frames: int
    size: tuple[int, int]
    found_fraction: float
    camera_observed_fraction: float
    quantities: dict[str, Quantity] = field(default_factory=dict)
    lens: CameraModel = field(default_factory=CameraModel)

    def value(self, key: str) -> Any:
        """The value, or None when unknown."""
        q = self.quantities.get(key)
        return None if q is None else q.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "clip": self.clip, "fps": self.fps, "frames": self.frames, "size": list(self.size),
            "found_fraction": round(self.found_fraction, 3),
            "camera_observed_fraction": round(self.camera_observed_fraction, 3),
            "conventions": {"direction_deg": "0 = screen right, 90 = away from the camera, "
                            "-90 = toward it", "turn_rate_deg_s": "+ = counter-clockwise seen "
                            "from above"},
            "lens": {"fovy_deg": self.lens.fovy_deg,
                     "principal_point": None if self.lens.principal_point is None else list(self.lens.principal_point),
                     "assumed": self.lens.assumed},
            "quantities": {k: q.to_dict() for k, q in self.quantities.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


@dataclass
class GroundTrack:
    """Per-frame measurements in the reference view, used by the evidence and the track CSV."""

    t: np.ndarray
    found: np.ndarray
    foot_ref: np.ndarray  # [T, 2]
    centroid_ref: np.ndarray  # [T, 2]
    size_ref: np.ndarray  # [T] body length in reference pixels (per frame)
    body_px: float
    x_bl: np.ndarray  # lateral position, body lengths
    y_bl: np.ndarray  # depth, body lengths
    height_bl: np.ndarray  # centroid height above the ground line, body lengths
    clearance_bl: np.ndarray  # lowest point above the ground line, body lengths
    top_bl: np.ndarray  # highest point above the ground line, body lengths
    camera_shift: np.ndarray  # [T, 2] image motion of the background per frame (pixels)


# ----------------------------------------------------------------------------------------------
# small signal helpers


def _fill(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return x
    idx = np.arange(len(x))
    return np.interp(idx, idx[ok], x[ok])


def _slope(t: np.ndarray, x: np.ndarray) -> float:
    tc = t - t.mean()
    denom = float((tc * tc).sum())
    return float((tc * (x - x.mean())).sum() / denom) if denom > 0 else 0.0


def _moving(x: np.ndarray, n: int, fn=np.median) -> np.ndarray:
    n = max(1, int(n))
    out = np.empty_like(x)
    for i in range(len(x)):
        seg = x[max(0, i - n // 2): i + n // 2 + 1]
        seg = seg[np.isfinite(seg)]
        out[i] = fn(seg) if len(seg) else np.nan
    return out


def dominant_frequency(t: np.ndarray, x: np.ndarray, fmin: float = 0.2) -> tuple[float, float]:
    """(frequency Hz, peak share of the spectrum's power) of a detrended signal."""
    x = _fill(np.asarray(x, float))
    if len(x) < 8 or not np.isfinite(x).all():
        return 0.0, 0.0
    dt = float(np.median(np.diff(t)))
    xd = x - (x.mean() + _slope(t, x) * (t - t.mean()))
    n_fft = max(4096, 1 << int(np.ceil(np.log2(len(xd) * 8))))
    spec = np.abs(np.fft.rfft(xd * np.hanning(len(xd)), n_fft)) ** 2
    freqs = np.fft.rfftfreq(n_fft, dt)
    band = freqs >= max(fmin, 1.0 / max(dt * (len(xd) - 1), 1e-9))
    if not band.any() or spec[band].sum() <= 0:
        return 0.0, 0.0
    k = int(np.nonzero(band)[0][0] + spec[band].argmax())
    width = max(1, int(round(0.15 / (freqs[1] - freqs[0]))))
    # a periodic motion with a sharp feature (a crouch before each jump) puts much of its power
    # in the second harmonic: when half the peak's frequency carries at least
    # SUBHARMONIC_SHARE of its power, that is the motion's own period
    half = k // 2
    if band[max(0, half - width)]:
        lo, hi = max(0, half - width), half + width + 1
        k_half = lo + int(spec[lo:hi].argmax())
        if spec[k_half] >= SUBHARMONIC_SHARE * spec[k]:
            k = k_half
    share = float(spec[max(0, k - width): k + width + 1].sum() / spec[band].sum())
    return float(freqs[k]), share


# ----------------------------------------------------------------------------------------------
# pipeline


def analysis_frames(frames: np.ndarray) -> np.ndarray:
    """Frames reduced to at most ANALYSIS_WIDTH pixels wide (even sizes)."""
    h, w = frames.shape[1:3]
    if w <= ANALYSIS_WIDTH:
        return np.ascontiguousarray(frames[..., :3])
    scale = ANALYSIS_WIDTH / w
    size = (ANALYSIS_WIDTH, max(2, int(round(h * scale / 2)) * 2))
    return np.stack([cv2.resize(f[..., :3], size, interpolation=cv2.INTER_AREA) for f in frames])


def measure(frames: np.ndarray) -> tuple[CameraMotion, SubjectTrack]:
    """Camera motion and subject track of analysis frames.

    A first pass at half resolution finds the subject roughly; its boxes keep the full-resolution
    camera estimate off the subject (on a plain background nearly every corner is on the
    subject, and the background would seem to follow it), and the full-resolution segmentation
    uses that estimate.
    """
    half = np.stack([cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2), interpolation=cv2.INTER_AREA)
                     for f in frames])
    rough = segment_subject(half, estimate_camera_motion(_grey(half)))
    boxes = rough.box * 2.0 if rough.found.mean() >= MIN_FOUND_FRACTION else None
    camera = estimate_camera_motion(_grey(frames), boxes)
    return camera, segment_subject(frames, camera)


def _grey(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


def ground_track(camera: CameraMotion, track: SubjectTrack, fps: float, shape: tuple[int, int],
                 lens: CameraModel = CameraModel(), to_analysis: float = 1.0) -> GroundTrack:
    """Per-frame ground positions; ``lens`` in the clip's pixels, ``to_analysis`` = analysis
    pixels per clip pixel.

    Positions on the ground (foot point, lateral and depth position) are mapped into the
    reference view, where the camera's motion is removed. Heights (clearance, centre and top of
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
    cent = np.full((n, 2), np.nan)
    scale = np.full(n, np.nan)
    vscale = np.full(n, np.nan)
    long_side = np.full(n, np.nan)
    for i in np.nonzero(found)[0]:
        hom = camera.to_reference[i]
        foot[i] = map_points(hom, track.bottom_centre[i])
        cent[i] = map_points(hom, track.centroid[i])
        scale[i] = local_scale(hom, track.bottom_centre[i])
        vscale[i] = local_scale(hom, track.bottom_centre[i], axis=1)
        long_side[i] = max(track.width[i], track.height[i]) * scale[i]
    root_area = np.sqrt(track.area) * scale
    body_px = float(np.nanmedian(long_side))
    size = body_px * root_area / float(np.nanmedian(root_area))
    size = _fill(_moving(size, VELOCITY_WINDOW_S * fps))
    # depth motion only where the size changes steadily; otherwise pose changes would read as depth
    log_size = np.log(size)
    trend = _slope(t, log_size) * (t[-1] - t[0]) if n > 1 else 0.0
    resid = log_size - (log_size.mean() + _slope(t, log_size) * (t - t.mean()))
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
    top_bl = clearance + (bottom - track.box[:, 1]) / s_frame
    shift = np.zeros((n, 2))
    centre = np.array([w / 2.0, h / 2.0])
    for i in range(1, n):
        shift[i] = map_points(camera.pair[i], centre) - centre
    return GroundTrack(t, found, foot, cent, s, body_px, x_bl, y_bl, height_bl, clearance, top_bl, shift)


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
    drift = trend + _fill(_moving(_fill(_moving(rest, DRIFT_WINDOW_S * fps)), fps, np.mean))
    contact = _moving(foot_y - drift, GROUND_WINDOW_S * fps, lambda v: np.percentile(v, CONTACT_PERCENTILE))
    return drift + _fill(_moving(contact, fps))


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
    height = _detrend(g.t[ok], g.height_bl[ok])
    if float(np.percentile(height, 95) - np.percentile(height, 5)) / 2 < AIRBORNE_MIN_BOUNCE:
        return 0.0
    clearance = g.clearance_bl[ok]
    low = clearance[clearance <= np.median(clearance)]
    spread = 1.4826 * float(np.median(np.abs(low - np.median(low))))
    threshold = max(AIRBORNE_CLEARANCE, AIRBORNE_NOISE_K * spread)
    standing = float(np.percentile(height, 30))
    return float(np.mean((clearance > threshold) & (height > standing + threshold)))


def _windowed_velocity(g: GroundTrack, fps: float) -> tuple[np.ndarray, np.ndarray]:
    half = max(2, int(round(VELOCITY_WINDOW_S * fps / 2)))
    n = len(g.t)
    vx = np.full(n, np.nan)
    vy = np.full(n, np.nan)
    for i in range(n):
        sl = slice(max(0, i - half), min(n, i + half + 1))
        ok = g.found[sl]
        if ok.sum() >= half:
            tt = g.t[sl][ok]
            vx[i] = _slope(tt, g.x_bl[sl][ok])
            vy[i] = _slope(tt, g.y_bl[sl][ok])
    return vx, vy


def _camera_style(camera: CameraMotion, g: GroundTrack, track: SubjectTrack, shape: tuple[int, int]) -> Quantity:
    """fixed / panning / tracking / shaky, from the background's image motion."""
    h, w = shape
    if camera.observed_fraction < 0.3:
        return Quantity("fixed", 0.3, "", None)  # no texture: a still background is assumed
    shift = g.camera_shift
    smooth = np.stack([_moving(shift[:, k], 9, np.mean) for k in (0, 1)], axis=1)
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


def _stays_centred(track: SubjectTrack, shape: tuple[int, int]) -> bool:
    """The subject's image position moves less than a third of its size over the clip."""
    found = track.found
    cx = track.centroid[found, 0]
    size = float(np.nanmedian(np.maximum(track.width, track.height)))
    return float(np.percentile(cx, 95) - np.percentile(cx, 5)) < 0.33 * size and \
        abs(float(np.nanmedian(cx)) - shape[1] / 2) < 0.25 * shape[1]


def _turning(g: GroundTrack, vx: np.ndarray, vy: np.ndarray, travels: bool, track: SubjectTrack,
             frames: np.ndarray, camera: CameraMotion, fps: float) -> Quantity:
    unit = "deg/s"
    if travels:
        moving = np.hypot(vx, vy) > 0.5 * TRAVEL_MIN_BL_S
        if moving.sum() < 0.4 * len(vx):
            return _unknown(unit, "the subject travels too little of the time to follow its heading")
        heading = np.unwrap(np.arctan2(vy[moving], vx[moving]))
        rate = math.degrees(_slope(g.t[moving], heading))
        resid = heading - (heading.mean() + _slope(g.t[moving], heading) * (g.t[moving] - g.t[moving].mean()))
        conf = float(np.clip(1.0 - np.std(resid) / 0.6, 0.2, 0.95))
        return Quantity(rate, conf, unit)
    return _turn_in_place(g, track, frames, camera, fps)


def _turn_in_place(g: GroundTrack, track: SubjectTrack, frames: np.ndarray, camera: CameraMotion,
                   fps: float) -> Quantity:
    """Turning of a subject that stays in place: sign from the flow field inside the silhouette
    (near side and far side move in opposite directions), rate from the period of its changing
    outline (the outline repeats every half turn)."""
    unit = "deg/s"
    found = track.found
    if found.mean() < MIN_FOUND_FRACTION:
        return _unknown(unit, "the subject is not found in enough frames")
    aspect = track.width / track.height
    freq, share = dominant_frequency(g.t[found], aspect[found], fmin=0.05)
    amp = float(np.nanpercentile(aspect, 95) - np.nanpercentile(aspect, 5)) / max(float(np.nanmedian(aspect)), 1e-6)
    grey = _grey(frames)
    h, w = grey.shape[1:]
    curls = []
    for i in range(1, len(grey)):
        if not (found[i] and found[i - 1]):
            continue
        prev = cv2.warpPerspective(grey[i - 1], camera.mapping(i - 1, i), (w, h))
        x0, y0, x1, y1 = track.box[i].astype(int)
        pad = int(0.15 * max(x1 - x0, y1 - y0)) + 2
        xa, ya, xb, yb = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad + 1), min(h, y1 + pad + 1)
        if xb - xa < 8 or yb - ya < 8:
            continue
        flow = cv2.calcOpticalFlowFarneback(prev[ya:yb, xa:xb], grey[i][ya:yb, xa:xb], None,
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
        return _unknown(unit, "too few frames show the subject's surface moving")
    curls = np.array(curls)
    mean, sem = float(curls.mean()), float(curls.std() / math.sqrt(len(curls)))
    significant = abs(mean) > 3.0 * sem and abs(mean) > 0.002
    if not significant and (amp < 0.15 or share < 0.3):
        return Quantity(0.0, 0.5, unit)
    if not significant:
        return _unknown(unit, "the outline changes as if turning, but the direction of the turn "
                        "cannot be seen (no visible surface motion)")
    sign = 1.0 if mean > 0 else -1.0  # lower rows (near side, camera above) moving right = CCW
    if amp < 0.15 or share < 0.3 or freq <= 0:
        return Quantity(None, 0.4, unit, f"turning {'counter-clockwise' if sign > 0 else 'clockwise'}"
                        " seen from above, but the rate cannot be measured (the outline does not "
                        "change periodically)")
    return Quantity(sign * 180.0 * freq, float(np.clip(share, 0.3, 0.9)), unit)


def _cadence(track: SubjectTrack, fps: float) -> Quantity:
    found = np.nonzero(track.found)[0]
    unit = "Hz"
    if len(found) < 16:
        return _unknown(unit, "the subject is not found in enough frames")
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
        return _unknown(unit, "the clip is too short to see the limbs repeat")
    seg = sims[min_lag - 1:]
    for k in range(1, len(seg) - 1):
        if np.isfinite(seg[k]) and seg[k] >= seg[k - 1] and seg[k] >= seg[k + 1]:
            trough = float(np.nanmin(sims[: min_lag + k]))
            prominence = float(seg[k] - trough)
            if prominence > 0.05:
                lag = min_lag + k
                return Quantity(fps / lag, float(np.clip(prominence * 4, 0.2, 0.95)), unit)
    return _unknown(unit, "the silhouette's shape does not repeat (no limb cycle visible)")


def _axis_motion(track: SubjectTrack, vx: float, vy: float, travels: bool) -> Quantity:
    if not travels:
        return _unknown("", "the subject does not travel")
    aspect = float(np.nanmedian(track.width / track.height))
    elong = float(np.nanmedian(track.elongation))
    upright = abs(float(np.nanmedian(track.angle)) - 90.0) < 30.0 and aspect < 0.85
    if upright:
        return _unknown("", "the body is upright (its long axis is vertical): the view does not show "
                        "which way it faces")
    if elong < 1.3:
        return _unknown("", "the silhouette has no clear long axis in this view")
    lateral = abs(vx) >= abs(vy)
    wide = aspect > 1.2
    tall = aspect < 0.85
    if not (wide or tall):
        return _unknown("", "the view does not show which way the body's long axis points")
    if lateral:
        return Quantity("along" if wide else "sideways", 0.6, "")
    return Quantity("sideways" if wide else "along", 0.5, "")


def evidence_from_frames(frames: np.ndarray, fps: float, clip: str = "<frames>",
                         lens: CameraModel = CameraModel()) -> tuple[MotionEvidence, GroundTrack, CameraMotion, SubjectTrack, np.ndarray]:
    """The evidence record of colour frames [T, H, W, 3] uint8 at ``fps``, plus what it was
    measured from (ground track, camera motion, subject track, analysis frames)."""
    small = analysis_frames(frames)
    camera, track = measure(small)
    shape = small.shape[1:3]
    found = track.found
    ev = MotionEvidence(clip, float(fps), int(len(frames)), (int(frames.shape[2]), int(frames.shape[1])),
                        float(found.mean()), camera.observed_fraction, lens=lens)
    q = ev.quantities
    if found.mean() < MIN_FOUND_FRACTION or found.sum() < 4:
        why = f"the subject was found in only {int(found.sum())} of {len(found)} frames"
        for key in QUANTITY_KEYS:
            q[key] = _unknown("", why)
        return ev, None, camera, track, small
    g = ground_track(camera, track, fps, shape, lens, small.shape[2] / frames.shape[2])
    q["camera_motion"] = _camera_style(camera, g, track, shape)
    moving_camera = q["camera_motion"].value != "fixed"
    no_texture = None
    if moving_camera and camera.observed_fraction < 0.5:
        no_texture = ("the camera moves but the background shows too little texture to measure "
                      "how far, so travel over the ground cannot be told")
    elif camera.observed_fraction < 0.3 and _stays_centred(track, shape):
        no_texture = ("the background shows no texture to tell whether the camera moves, and the "
                      "subject stays near the centre of the image: a camera following it would "
                      "look the same, so travel over the ground cannot be told")
    t, ok = g.t, found
    vx_all, vy_all = _windowed_velocity(g, fps)
    vx = _slope(t[ok], g.x_bl[ok])
    vy = _slope(t[ok], g.y_bl[ok])
    chord = math.hypot(vx, vy)
    path = float(np.nanmean(np.hypot(vx_all, vy_all))) if np.isfinite(vx_all).any() else chord
    travels = max(chord, 0.0) >= TRAVEL_MIN_BL_S
    conf_cam = 0.9 if not moving_camera else float(np.clip(camera.observed_fraction, 0.2, 0.9))
    if no_texture:
        for key in ("speed_bl_s", "lateral_speed_bl_s", "depth_speed_bl_s", "direction_deg"):
            q[key] = _unknown("", no_texture)
        q["turn_rate_deg_s"] = _turn_in_place(g, track, small, camera, fps)  # the body's own turn
    else:
        turn = _turning(g, vx_all, vy_all, travels, track, small, camera, fps)
        turning = turn.value is not None and abs(turn.value) > 20.0
        speed = path if turning else chord
        q["speed_bl_s"] = Quantity(speed, conf_cam * float(found.mean()), "body lengths/s")
        q["lateral_speed_bl_s"] = Quantity(vx, conf_cam, "body lengths/s")
        q["depth_speed_bl_s"] = Quantity(vy, 0.5 * conf_cam, "body lengths/s")
        if travels:
            q["direction_deg"] = Quantity(math.degrees(math.atan2(vy, vx)), conf_cam * min(1.0, chord / 0.3), "deg")
        else:
            q["direction_deg"] = _unknown("deg", f"the subject does not travel (moves {chord:.2f} body "
                                          "lengths per second over the ground)")
        q["turn_rate_deg_s"] = turn
    height = _detrend(t[ok], g.height_bl[ok])
    amp = float(np.percentile(height, 95) - np.percentile(height, 5)) / 2
    q["bounce_amplitude_bl"] = Quantity(amp, float(found.mean()), "body lengths")
    if amp >= BOUNCE_MIN:
        freq, share = dominant_frequency(t, _fill(g.height_bl))
        q["bounce_frequency_hz"] = Quantity(freq, float(np.clip(share * 1.5, 0.1, 0.95)), "Hz")
    else:
        q["bounce_frequency_hz"] = Quantity(0.0, 0.6, "Hz")
    q["airborne_fraction"] = Quantity(airborne_fraction(g), float(found.mean()), "fraction of the clip")
    heights = track.height[ok]
    q["height_ratio"] = Quantity(float(min(np.median(heights) / np.percentile(heights, 98), 1.0)),
                                 float(found.mean()), "")
    q["cadence_hz"] = _cadence(track, fps)
    q["axis_motion"] = _axis_motion(track, vx, vy, travels)
    ev.quantities = {k: q[k] for k in QUANTITY_KEYS if k in q}
    return ev, g, camera, track, small


def _detrend(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    return x - (x.mean() + _slope(t, x) * (t - t.mean()))


def extract_evidence(path: str | Path, max_frames: int = 900, lens: CameraModel = CameraModel()) -> MotionEvidence:
    """The evidence record of a video file."""
    from vidreward.video.io import read_video

    frames, fps = read_video(path, max_frames=max_frames)
    return evidence_from_frames(frames, fps, clip=str(path), lens=lens)[0]


# ----------------------------------------------------------------------------------------------
# artifacts: per-frame track CSV, storyboard overlay

TRACK_COLUMNS = ("frame", "t", "found", "x0", "y0", "x1", "y1", "cx", "cy", "foot_ref_x", "foot_ref_y",
                 "lateral_bl", "depth_bl", "height_bl", "clearance_bl", "camera_dx", "camera_dy",
                 "camera_inliers")


def write_track_csv(path: str | Path, g: GroundTrack | None, camera: CameraMotion, track: SubjectTrack,
                    scale_to_input: float) -> None:
    """One row per frame: what was measured (boxes in input pixels, positions in body lengths)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(TRACK_COLUMNS)
        for i in range(len(track.area)):
            def r(v):
                return "" if v is None or not np.isfinite(v) else f"{float(v):.4f}"
            box = track.box[i] * scale_to_input
            row = [i, r(i / 1.0 if g is None else g.t[i]), int(track.found[i]), *map(r, box),
                   *map(r, track.centroid[i] * scale_to_input)]
            if g is not None:
                row += [r(g.foot_ref[i, 0]), r(g.foot_ref[i, 1]), r(g.x_bl[i]), r(g.y_bl[i]),
                        r(g.height_bl[i]), r(g.clearance_bl[i]), r(g.camera_shift[i, 0]), r(g.camera_shift[i, 1])]
            else:
                row += [""] * 8
            row.append(int(camera.inliers[i]))
            out.writerow(row)


def draw_overlay(frame: np.ndarray, i: int, g: GroundTrack | None, track: SubjectTrack,
                 scale_to_input: float, fps: float) -> np.ndarray:
    """Frame ``i`` with the subject box (green), its motion over the ground (yellow arrow) and
    the camera's motion (cyan arrow: where the background moves in the image)."""
    img = np.ascontiguousarray(frame[..., :3]).copy()
    h, w = img.shape[:2]
    thick = max(1, int(round(w / 320)))
    if track.found[i]:
        x0, y0, x1, y1 = (track.box[i] * scale_to_input).astype(int)
        cv2.rectangle(img, (x0, y0), (x1, y1), (40, 220, 40), thick)
        if g is not None:
            j = min(len(g.t) - 1, i + max(1, int(fps / 2)))
            k = max(0, i - max(1, int(fps / 2)))
            if g.found[j] and g.found[k]:
                dx = (g.x_bl[j] - g.x_bl[k]) / max(g.t[j] - g.t[k], 1e-6)
                dy = (g.y_bl[j] - g.y_bl[k]) / max(g.t[j] - g.t[k], 1e-6)
                c = (int((x0 + x1) / 2), int(y1))
                tip = (int(c[0] + dx * 0.25 * (x1 - x0)), int(c[1] - dy * 0.25 * (y1 - y0)))
                cv2.arrowedLine(img, c, tip, (250, 220, 30), thick + 1, tipLength=0.3)
    if g is not None:
        lo, hi = max(1, i - int(fps / 4)), min(len(g.t), i + int(fps / 4) + 1)
        cam = -g.camera_shift[lo:hi].mean(axis=0) * scale_to_input * fps * 0.25
        c = (int(w * 0.1), int(h * 0.12))
        cv2.arrowedLine(img, c, (int(c[0] + cam[0]), int(c[1] + cam[1])), (40, 220, 250), thick + 1, tipLength=0.3)
    return img


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
