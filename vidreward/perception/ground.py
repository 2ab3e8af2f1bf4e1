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
CONTACT_SIDE_S = 0.5
CONTACT_LEVEL_PX = 1.0  # analysis pixels
CONTACT_VETO_SHARE = 0.25  # of the flight threshold: how far a flight's lowest point must clear the contact line
DRIFT_WINDOW_S = 2.0
VELOCITY_WINDOW_S = 1.0
PLANTED_SHARE = 0.15  # of the sole band's pixels held by both next (or both last) frames: a foot planted
PLANT_TRAVEL = 0.12  # body sizes the body travels over the frames compared: twice the sole band
PLANT_LAG_S = 1.0 / 30.0  # the frames compared are this far apart (one frame at 30 fps)
PLANT_MAX_SPAN_S = 0.1  # ... and span at most this (a run's flight lasts 0.1-0.2 s): else not compared
PLANT_SMOOTH_S = 0.3  # running median of the body's travel (the limbs' swing moves the centroid)
RESOLVED_SHARE = 0.75  # of the subject's largest apparent size: the frames that resolve its thin parts


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
    contact_bl: np.ndarray | None = None  # lowest point above the last and next contacts, body lengths
    planted: np.ndarray | None = None  # share of the sole band that stays put on the ground (planted_share)
    travel_bl: np.ndarray | None = None  # the body's travel over the frames planted_share compares, body lengths


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
    body_px = body_length_px(long_side, root_area, np.sqrt(track.area), fps)
    size = body_px * root_area / float(np.nanmedian(root_area))
    size = fill(moving(size, VELOCITY_WINDOW_S * fps))
    # depth motion only where the size changes steadily; otherwise pose changes would read as depth
    log_size = np.log(size)
    trend = slope(t, log_size) * (t[-1] - t[0]) if n > 1 else 0.0
    resid = log_size - (log_size.mean() + slope(t, log_size) * (t - t.mean()))
    steady = abs(trend) > 0.15 and abs(trend) > 3.0 * float(np.std(resid))
    s = ground_plane_size(t, size, moving(foot[:, 1], VELOCITY_WINDOW_S * fps), found) if steady else np.full(n, body_px)
    focal = (h / 2.0) / math.tan(math.radians(lens.fovy_deg) / 2.0)
    cx = w / 2.0 if lens.principal_point is None else float(lens.principal_point[0]) * to_analysis
    x_bl = (foot[:, 0] - cx) / s
    y_bl = focal / s
    ground = ground_line(foot[:, 1], fps)
    s_frame = s / scale  # the subject's size in the frame's own pixels
    clearance = (ground - foot[:, 1]) / vscale / s_frame
    contact = (two_sided_contact(foot[:, 1], fps) - foot[:, 1]) / vscale / s_frame
    bottom = track.box[:, 3]
    height_bl = clearance + (bottom - track.centroid[:, 1]) / s_frame
    shift = np.zeros((n, 2))
    centre = np.array([w / 2.0, h / 2.0])
    for i in range(1, n):
        shift[i] = map_points(camera.pair[i], centre) - centre
    planted = travel = None
    lag = plant_lag(fps)
    if track.soles and 2 * lag / float(fps) <= PLANT_MAX_SPAN_S + 1e-9:
        planted = planted_share(track.soles, camera, lag)
        path = fill(foot)
        step = np.full(n, np.nan)
        if n > 2 * lag:
            step[lag:n - lag] = np.hypot(*(path[2 * lag:] - path[:n - 2 * lag]).T)
        travel = moving(step / size, PLANT_SMOOTH_S * fps)
    return GroundTrack(t, found, foot, s, body_px, x_bl, y_bl, height_bl, clearance, shift, contact,
                       planted, travel)


def plant_lag(fps: float) -> int:
    return max(1, int(round(PLANT_LAG_S * fps)))


def planted_share(soles: list, camera: CameraMotion, lag: int) -> np.ndarray:
    """Per frame, how much of the silhouette's lowest rows (``soles``, see
    :func:`vidreward.perception.segment.sole_bands`) stays where it is on the ground: the share of
    its pixels that the lowest rows of both of the next two frames (``lag`` and ``2 lag`` on), or
    of both of the last two, also cover, once the camera's motion between them is removed. A
    planted foot does not move on the ground, so a frame standing on one (touch-down and
    take-off frames included: the foot stays on one side) keeps a good share; in flight every
    foot moves with the body or faster. NaN where neither side can be compared (no subject, or
    the camera's motion between the frames not measured from the background)."""
    n = len(soles)
    out = np.full(n, np.nan)
    for i in range(n):
        if soles[i] is None:
            continue
        x0, y0, band = soles[i]
        total = int(band.sum())
        if total == 0:
            continue
        for side in (-1, 1):
            js = (i + side * lag, i + 2 * side * lag)
            lo, hi = min(i, js[1]), max(i, js[1])
            if lo < 0 or hi >= n or any(soles[j] is None for j in js) or not camera.observed[lo + 1:hi + 1].all():
                continue
            held = band.copy()
            for j in js:
                xj, yj, bj = soles[j]
                ys, xs = np.nonzero(bj)
                pts = np.rint(map_points(camera.mapping(j, i), np.stack([xs + xj, ys + yj], 1))).astype(int)
                hit = np.zeros_like(band)
                c, r = pts[:, 0] - x0, pts[:, 1] - y0
                keep = (c >= 0) & (c < band.shape[1]) & (r >= 0) & (r < band.shape[0])
                hit[r[keep], c[keep]] = True
                held &= hit
            share = float(held.sum()) / total
            out[i] = share if not np.isfinite(out[i]) else max(out[i], share)
    return out


def body_length_px(long_side: np.ndarray, root_area: np.ndarray, apparent: np.ndarray, fps: float) -> float:
    """Body length in reference pixels: the median over frames of the box's long side
    (``long_side``), scaled by how much longer the long side per root of the area (``root_area``,
    both in reference pixels) is in the frames where the subject appears large than in all frames.

    Where the subject appears small (``apparent``: root of its area in the frame's own pixels)
    its thin parts (legs, a tail) are lost and its long side comes out short, more so than its
    area. When the apparent size changes over the clip (travel in depth, a zoom) the large frames
    are those where it appears at least ``RESOLVED_SHARE`` of its largest (smoothed) size; where
    it hardly changes that is every frame, and the median long side stands.
    """
    body_px = float(np.nanmedian(long_side))
    smooth = moving(apparent, VELOCITY_WINDOW_S * fps)
    resolved = smooth >= RESOLVED_SHARE * np.nanmax(smooth)
    proportions = long_side / root_area
    resolved &= np.isfinite(proportions)
    if not resolved.any():
        return body_px
    return body_px * float(np.median(proportions[resolved]) / np.nanmedian(proportions))


def ground_plane_size(t: np.ndarray, size: np.ndarray, foot_y: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Per-frame size (pixels per body length) whose course over the clip follows the foot row
    on the ground plane.

    For a pinhole camera over a flat ground, the size of an upright subject and the image row of
    its foot point both follow the inverse depth: ``size = k * (row - horizon)``. The line is fitted
    to the measured sizes over the clip and read at each frame's foot row: the silhouette's area
    swings with the pose and with the side the body shows (a walker turning from side-on to
    back-on shrinks as if walking away), the foot row much less. The fit only reshapes the course:
    depth (``1 / size``) keeps the least-squares line over time of the measured sizes, since a
    line fitted to noisy rows flattens (regression dilution) and would shorten the travel; for
    the same reason the line is the symmetric one (reduced major axis), not the regression of
    size on row. Kept as measured when the fit does not show a ground plane (nearer, lower in
    the image, must be larger) or explains less than half the sizes' variance. ``foot_y`` is
    best smoothed like the sizes.
    """
    ok = found & np.isfinite(size) & np.isfinite(foot_y)
    if ok.sum() < 8 or float(np.ptp(foot_y[ok])) < 1.0:
        return size
    b, a = np.polyfit(foot_y[ok], size[ok], 1)
    explained = 1.0 - float(np.var(size[ok] - (a + b * foot_y[ok]))) / max(float(np.var(size[ok])), 1e-12)
    if b <= 0 or explained < 0.5:
        return size
    b = b / math.sqrt(explained)  # both are noisy: the symmetric (reduced major axis) line
    fitted = float(np.mean(size[ok])) + b * (foot_y - float(np.mean(foot_y[ok])))
    if not (fitted[ok] > 0).all():
        return size
    depth, depth_fit = 1.0 / size, 1.0 / fitted
    line = lambda v: v[ok].mean() + slope(t[ok], v[ok]) * (t - t[ok].mean())  # noqa: E731
    course = depth_fit - line(depth_fit) + line(depth)
    if not (course[ok] > 0).all():
        return size
    return fill(np.where(ok, 1.0 / course, np.nan))


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


def two_sided_contact(foot_y: np.ndarray, fps: float) -> np.ndarray:
    """The ground under the subject from where it last stood and where it next stands.

    Per frame, the lowest foot row (y down) within ``CONTACT_SIDE_S`` before it and within as
    long after it, and the ground line between those two contacts at that frame. A flight
    (shorter than that window) has contact on both sides and stays above the line; a foot row
    that drifts up or down (the subject walking away, a pan the background cannot show) is its
    own ground, as the last and next contacts move with it. Near the clip's ends one side is cut
    off: where the line of the full windows next to that end is level (moves by at most
    ``CONTACT_LEVEL_PX`` over ``CONTACT_SIDE_S``), the ground stays level to the end (a flight
    under way at the end still reads as one); where it drifts, the cut-off side's lowest row
    is taken as it is.
    """
    n = len(foot_y)
    side = max(2, int(round(CONTACT_SIDE_S * fps)))
    y = fill(np.asarray(foot_y, float))
    out = np.full(n, np.inf)
    if not np.isfinite(y).all():
        return out
    for i in range(n):
        a0, b1 = max(0, i - side), min(n, i + side + 1)
        ia = a0 + int(np.argmax(y[a0:i + 1]))
        ib = i + int(np.argmax(y[i:b1]))
        out[i] = y[ia] if ib == ia else y[ia] + (y[ib] - y[ia]) * (i - ia) / (ib - ia)
    if n >= 4 * side:
        for first, edge in ((side, slice(0, side)), (n - 1 - side, slice(n - side, n))):
            inner = first + side if first == side else first - side
            if abs(out[first] - out[inner]) <= CONTACT_LEVEL_PX:
                out[edge] = out[first]
    return out


def airborne_fraction(g: GroundTrack) -> float:
    """Share of frames in flight.

    A frame is in flight when the lowest point clears the ground line by more than the
    clearance threshold and the body's centre is raised above its standing level by as much
    (a frame where the legs were not segmented lifts only the lowest point). The threshold is
    ``AIRBORNE_CLEARANCE`` or, on a noisy track, ``AIRBORNE_NOISE_K`` times the robust spread of
    the clearance in the frames nearer the ground, whichever is larger. A body whose centre
    bounces by less than ``AIRBORNE_MIN_BOUNCE`` does not leave the ground (a flight lifts the
    whole body): then the share is 0.

    A frame is also in flight when no foot stays put on the ground (``g.planted`` below
    ``PLANTED_SHARE``, :func:`planted_share`) while the body travels at least ``PLANT_TRAVEL``
    over the frames compared and its centre is above its standing level. A run's flights clear
    the floor by 2-13 cm, a pixel or a few at 320x240, and its feet land at different depths
    (the image row of the near foot's contact lies several pixels below the far foot's), so the
    lowest point alone misses them; a planted foot, though, holds still on the ground however
    low the flight. Where the body travels less than that (hops in place, walks, slow gaits) a
    foot carried along would overlap itself and the cue is not used.
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
    flight = (clearance > threshold) & (height > standing + threshold)
    if g.contact_bl is not None:  # and above where it last stood and next stands
        flight &= g.contact_bl[ok] > CONTACT_VETO_SHARE * threshold
    if g.planted is not None and g.travel_bl is not None:  # or no foot stays put while the body travels
        with np.errstate(invalid="ignore"):
            unplanted = (g.planted[ok] < PLANTED_SHARE) & (g.travel_bl[ok] >= PLANT_TRAVEL)
        flight |= unplanted & (height > standing)
    return float(np.mean(flight))


def velocity_windows(g: GroundTrack, fps: float):
    """Per frame whose ``VELOCITY_WINDOW_S`` window holds enough found samples: (frame, indices of
    those samples). Near the clip's ends the window is cut to one side."""
    half = max(2, int(round(VELOCITY_WINDOW_S * fps / 2)))
    n = len(g.t)
    for i in range(n):
        sel = np.arange(max(0, i - half), min(n, i + half + 1))
        sel = sel[g.found[sel]]
        if len(sel) >= half:
            yield i, sel


def windowed_velocity(g: GroundTrack, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame (lateral, depth) velocity in body lengths/s: the slope over a ``VELOCITY_WINDOW_S`` window."""
    vx = np.full(len(g.t), np.nan)
    vy = np.full(len(g.t), np.nan)
    for i, sel in velocity_windows(g, fps):
        vx[i] = slope(g.t[sel], g.x_bl[sel])
        vy[i] = slope(g.t[sel], g.y_bl[sel])
    return vx, vy


def window_times(g: GroundTrack, fps: float) -> np.ndarray:
    """Per frame, the time the :func:`windowed_velocity` of that frame belongs to: the mean time of
    its window's samples (a window cut at the clip's ends measures a time nearer the middle than
    the frame's own)."""
    out = np.full(len(g.t), np.nan)
    for i, sel in velocity_windows(g, fps):
        out[i] = float(g.t[sel].mean())
    return out
