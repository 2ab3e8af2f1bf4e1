"""Subject segmentation on textured, scrolling and cluttered backgrounds.

Per frame ``t``, a background image is built from other frames of the clip warped into frame
``t`` by the camera motion (:mod:`vidreward.perception.camera`): up to ``BACKGROUND_SAMPLES``
frames spread evenly in time over those that still cover most of frame ``t`` (``MIN_OVERLAP``). Their per-pixel median is the background without the subject (the subject
has moved relative to the ground, the ground has not), so the pixels of frame ``t`` that differ
from it (largest channel difference from the range the background takes within two pixels, above a
threshold adapted to the frame's residual) are the subject:
motion-compensated differencing against a foreground-free model. Morphological opening and
closing clean the mask; the connected component that is large, close to the previous frame's
subject and where foreground keeps appearing in the clip is kept. Where the camera stood still
(frame ``t`` and its background frames share one view, so nothing is misregistered by parallax)
the kept mask grows back, by up to ``REGROW_PX``, into the foreground the opening removed: the
thin parts of a body (legs, a tail a pixel or two wide), without which a body seen end-on is
short. Under a moving camera those thin pieces are the residue of scenery and stay removed.

The result is a :class:`SubjectTrack` of per-frame boxes, centroids, areas, orientation and a
small normalised silhouette (for the cadence estimate), in analysis pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from vidreward.perception.camera import CameraMotion, map_points

BACKGROUND_SAMPLES = 7
MIN_OVERLAP = 0.8
MIN_THRESHOLD = 24.0  # largest channel difference (0-255) below which a pixel is background
MIN_AREA_FRACTION = 4e-4  # of the frame: smaller components are not a subject
TOLERANCE_PX = 2
REGROW_PX = 12  # how far the subject's mask grows back into its thin parts
SHAPE_SIZE = 24  # silhouette thumbnails are SHAPE_SIZE x SHAPE_SIZE
SOLE_BAND = 0.06  # of the subject's size: the silhouette's lowest rows kept per frame (the feet)


@dataclass
class SubjectTrack:
    """Per-frame subject measurements in analysis pixels (y down); NaN where not found."""

    box: np.ndarray  # [T, 4] x0, y0, x1, y1
    centroid: np.ndarray  # [T, 2]
    area: np.ndarray  # [T]
    angle: np.ndarray  # [T] orientation of the silhouette's long axis, degrees in [0, 180)
    elongation: np.ndarray  # [T] ratio of the silhouette's principal axes (>= 1)
    shapes: np.ndarray  # [T, SHAPE_SIZE, SHAPE_SIZE] bool thumbnails of the silhouette in its box
    masks: list = field(default_factory=list, repr=False)  # per-frame full masks (uint8) or None
    soles: list = field(default_factory=list, repr=False)  # per frame (x0, y0, bool crop) of the lowest rows, or None

    @property
    def found(self) -> np.ndarray:
        return np.isfinite(self.area)

    @property
    def width(self) -> np.ndarray:
        return self.box[:, 2] - self.box[:, 0] + 1

    @property
    def height(self) -> np.ndarray:
        return self.box[:, 3] - self.box[:, 1] + 1

    @property
    def bottom_centre(self) -> np.ndarray:
        return np.stack([self.centroid[:, 0], self.box[:, 3]], axis=1)


def _overlaps(homs: np.ndarray, w: int, h: int) -> np.ndarray:
    """Per homography in ``homs`` [K, 3, 3], the fraction of the destination frame covered by the
    warped source frame (corner polygon)."""
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    polys = map_points(homs, corners).astype(np.float32)
    rect = corners.astype(np.float32)
    return np.array([cv2.intersectConvexConvex(poly, rect)[0] for poly in polys], float) / float(w * h)


def background_sources(camera: CameraMotion, t: int, w: int, h: int) -> list[int]:
    """Frames whose warp into frame ``t`` builds its background: spread evenly in time over the
    frames that cover most of frame ``t`` and are not too close to it."""
    n = len(camera.pair)
    step = max(1, n // 60)
    gap = max(3, n // 30)
    near = np.array([s for s in range(0, n, step) if abs(s - t) >= gap], int)
    covers = _overlaps(camera.mappings(near, t), w, h) >= MIN_OVERLAP if len(near) else np.zeros(0, bool)
    candidates = [int(s) for s in near[covers]]
    if len(candidates) <= BACKGROUND_SAMPLES:
        return candidates
    pick = np.linspace(0, len(candidates) - 1, BACKGROUND_SAMPLES).round().astype(int)
    return [candidates[k] for k in pick]


def background_at(frames: np.ndarray, camera: CameraMotion, t: int, sources: list[int]) -> np.ndarray | None:
    """Per-pixel median of the ``sources`` frames warped into frame ``t`` (None with fewer than 3)."""
    h, w = frames.shape[1:3]
    if len(sources) < 3:
        return None
    full = np.full((h, w), 255, np.uint8)
    layers = []
    for s in sources:
        hom = camera.mapping(s, t)
        warped = cv2.warpPerspective(frames[s], hom, (w, h), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        valid = cv2.warpPerspective(full, hom, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        # outside the source: no evidence, take "background"
        layers.append(cv2.copyTo(frames[t], cv2.bitwise_not(valid), warped))
    return median_layers(layers)


def median_layers(layers: list[np.ndarray]) -> np.ndarray:
    """Per-pixel median of equally shaped uint8 images, rounded down (``np.median`` of the stack
    cast to uint8), by a sorting network of per-pixel minima and maxima (odd-even transposition)."""
    a = list(layers)
    k = len(a)
    for r in range(k):
        for i in range(r % 2, k - 1, 2):
            a[i], a[i + 1] = cv2.min(a[i], a[i + 1]), cv2.max(a[i], a[i + 1])
    if k % 2:
        return a[k // 2]
    return ((a[k // 2 - 1].astype(np.uint16) + a[k // 2]) >> 1).astype(np.uint8)


def tolerant_difference(frame: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Largest channel difference of ``frame`` from the range the background takes within
    ``TOLERANCE_PX``: a background edge registered a little off (interpolation, the parallax of
    objects standing on the floor) is not foreground."""
    kernel = np.ones((TOLERANCE_PX * 2 + 1,) * 2, np.uint8)
    above = cv2.subtract(frame, cv2.dilate(bg, kernel))
    below = cv2.subtract(cv2.erode(bg, kernel), frame)
    top = cv2.max(above, below)
    return cv2.max(cv2.max(top[..., 0], top[..., 1]), top[..., 2])


def camera_still(camera: CameraMotion, t: int, sources: list[int]) -> bool:
    """Whether frame ``t`` and every frame its background is built from share one view: then
    nothing standing on the floor is misregistered (no parallax) and what differs from the
    background is the subject or noise."""
    return bool(np.allclose(camera.mappings(np.asarray(sources, int), t), np.eye(3)))


def sole_bands(track: SubjectTrack) -> list:
    """Per frame the silhouette's lowest rows, ``SOLE_BAND`` of the subject's (median) size high,
    as (x0, y0, bool crop), or None: where the feet are, for telling a planted foot from one in the
    air (:func:`vidreward.perception.ground.planted_share`)."""
    found = track.found
    if not found.any():
        return [None] * len(track.masks)
    size = float(np.nanmedian(np.maximum(track.width[found], track.height[found])))
    k = max(2, int(round(SOLE_BAND * size)))
    out: list = []
    for t, m in enumerate(track.masks):
        if m is None or not found[t]:
            out.append(None)
            continue
        x0, _, x1, y1 = (int(v) for v in track.box[t])
        y0 = max(0, y1 - k + 1)
        out.append((x0, y0, np.asarray(m[y0:y1 + 1, x0:x1 + 1]) > 0))
    return out


def regrow_thin_parts(track: SubjectTrack, fine: list) -> None:
    """Give the subject's mask of every frame with an unopened foreground ``fine[t]`` its thin
    parts back (:func:`regrow`); updates ``track`` in place."""
    for t, extra in enumerate(fine):
        if extra is None or track.masks[t] is None:
            continue
        keep = regrow(track.masks[t], extra)
        (track.box[t], track.centroid[t], track.area[t], track.angle[t], track.elongation[t],
         track.shapes[t]) = _shape_stats(keep)
        track.masks[t] = keep


def regrow(keep: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """The subject's mask ``keep`` grown back into the unopened foreground ``fine`` by up to
    ``REGROW_PX`` pixels: the thin parts of the body (legs, a tail a pixel or two wide) that the
    opening cut off."""
    inside = (fine > 0) | keep
    grown = keep.astype(np.uint8)
    step = np.ones((3, 3), np.uint8)
    for _ in range(REGROW_PX):
        grown = cv2.dilate(grown, step) & inside
    return grown > 0


def _anchor(raw: list) -> np.ndarray | None:
    """Median position of each frame's largest foreground component: where to look first."""
    points = []
    for mask in raw[:: max(1, len(raw) // 30)]:
        if mask is None:
            continue
        n, _, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if n > 1:
            points.append(cents[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))])
    return np.median(points, axis=0) if points else None


def _pick_component(mask: np.ndarray, previous: np.ndarray | None,
                    persistence: np.ndarray | None = None) -> np.ndarray | None:
    n, labels, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    h, w = mask.shape
    areas = stats[1:, cv2.CC_STAT_AREA].astype(float)
    ok = areas >= MIN_AREA_FRACTION * h * w
    if not ok.any():
        return None
    score = areas.copy()
    if previous is not None and np.all(np.isfinite(previous)):
        dist = np.linalg.norm(cents[1:] - previous, axis=1) / max(h, w)
        score = areas * np.exp(-(dist / 0.15) ** 2)
    if persistence is not None:
        sums = np.bincount(labels.ravel(), weights=persistence.ravel(), minlength=n)[1:]
        score = score * (0.2 + sums / np.maximum(areas, 1.0))
    score[~ok] = -1
    best = int(np.argmax(score)) + 1
    # parts of the same subject split by the threshold (legs, a head): merge nearby components
    x, y, bw, bh = stats[best, :4]
    kx, ky, kw, kh = stats[1:, 0], stats[1:, 1], stats[1:, 2], stats[1:, 3]
    gap_x = np.maximum(0, np.maximum(kx - (x + bw), x - (kx + kw)))
    gap_y = np.maximum(0, np.maximum(ky - (y + bh), y - (ky + kh)))
    merged = np.zeros(n, bool)
    merged[1:] = ok & (gap_x <= 0.15 * max(bw, bh)) & (gap_y <= 0.15 * max(bw, bh))
    merged[best] = True
    return merged[labels]


def _shape_stats(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float, float, np.ndarray]:
    ys, xs = np.nonzero(keep)
    box = np.array([xs.min(), ys.min(), xs.max(), ys.max()], float)
    centroid = np.array([xs.mean(), ys.mean()])
    cov = np.cov(np.stack([xs, ys])) if len(xs) > 2 else np.eye(2)
    evals, evecs = np.linalg.eigh(cov)
    major = evecs[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])) % 180.0)
    elongation = float(np.sqrt(max(evals[1], 1e-9) / max(evals[0], 1e-9)))
    crop = keep[int(box[1]):int(box[3]) + 1, int(box[0]):int(box[2]) + 1].astype(np.uint8)
    thumb = cv2.resize(crop, (SHAPE_SIZE, SHAPE_SIZE), interpolation=cv2.INTER_AREA) > 0
    return box, centroid, float(len(xs)), angle, elongation, thumb


def segment_subject(frames: np.ndarray, camera: CameraMotion, keep_masks: bool = False,
                    appearance: bool = True) -> SubjectTrack:
    """Segment the subject in colour frames [T, H, W, 3] uint8 given the camera motion.

    First by motion-compensated differencing. Where the subject's colours are foreign to the
    background and that alone picks out one body (:func:`colour_novelty_masks`: plain, checkered,
    two-tone ground), the colour masks replace the motion masks: they hold the whole body even
    where it stays still relative to the ground (turning or hopping in place) or to the camera
    (a following camera over a plain floor), where the difference to a median background is
    empty. Otherwise (``appearance``) a colour model of the subject learnt from the frames where
    differencing worked fills in the frames where it hardly moved (:func:`refine_with_appearance`)."""
    n, h, w = frames.shape[:3]
    box = np.full((n, 4), np.nan)
    centroid = np.full((n, 2), np.nan)
    area = np.full(n, np.nan)
    angle = np.full(n, np.nan)
    elongation = np.full(n, np.nan)
    shapes = np.zeros((n, SHAPE_SIZE, SHAPE_SIZE), bool)
    masks: list = []
    kernel_open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    kernel_close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    raw: list[np.ndarray | None] = []
    fine: list[np.ndarray | None] = []  # unopened foreground of the frames seen from a still camera
    for t in range(n):
        sources = background_sources(camera, t, w, h)
        bg = background_at(frames, camera, t, sources)
        if bg is None:
            raw.append(None)
            fine.append(None)
            continue
        diff = tolerant_difference(frames[t], bg)
        threshold = max(MIN_THRESHOLD, 4.0 * float(np.median(diff)))
        mask = (diff > threshold).astype(np.uint8)
        fine.append(mask if camera_still(camera, t, sources) else None)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel_open)
        raw.append(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel_close))
    novel = colour_novelty_masks(frames, raw)
    if novel is not None:
        raw = novel
    # Where in the image foreground keeps appearing: the subject under a following camera, while
    # residue of the background (parallax of objects standing on the floor) moves through the view.
    present = [m for m in raw if m is not None]
    persistence = np.mean(present, axis=0) if present else None
    previous = _anchor(raw)
    for t in range(n):
        keep = None if raw[t] is None else _pick_component(raw[t], previous, persistence)
        if keep is None:
            masks.append(None)
            continue
        box[t], centroid[t], area[t], angle[t], elongation[t], shapes[t] = _shape_stats(keep)
        previous = centroid[t]
        masks.append(keep)
    track = SubjectTrack(box, centroid, area, angle, elongation, shapes, masks)
    if appearance and novel is None:
        refine_with_appearance(frames, track)
    if novel is None:
        regrow_thin_parts(track, fine)
    track.soles = sole_bands(track)
    if not keep_masks:
        track.masks = [None] * n
    return track


COLOUR_BINS = 8  # per channel
LIKELIHOOD_RATIO = 3.0  # colour at least this much likelier on the subject than around it
SEARCH_MARGIN = 0.5  # of the box size, around the subject's expected box


def _bin_index(pixels: np.ndarray, bins: int) -> np.ndarray:
    """Colour bin of uint8 RGB ``pixels`` [..., 3] with ``bins`` (a power of two) per channel:
    ``((r * bins // 256) * bins + g * bins // 256) * bins + b * bins // 256``."""
    shift = 8 - (bins.bit_length() - 1)
    q = pixels >> shift
    return (q[..., 0].astype(np.uint16) * (bins * bins)) + (q[..., 1].astype(np.uint16) * bins) + q[..., 2]


def _colour_index(pixels: np.ndarray) -> np.ndarray:
    return _bin_index(pixels, COLOUR_BINS)


def _expected_boxes(track: SubjectTrack, good: np.ndarray) -> np.ndarray:
    """Box per frame interpolated from the well-segmented frames."""
    idx = np.arange(len(track.area))
    out = np.empty((len(idx), 4))
    for k in range(4):
        out[:, k] = np.interp(idx, idx[good], track.box[good, k])
    return out


def refine_with_appearance(frames: np.ndarray, track: SubjectTrack) -> None:
    """Re-segment each frame as motion-mask OR colour-likely-subject, near the expected box.

    The colour model (histograms of subject and surrounding pixels) is learnt from frames whose
    motion mask has a typical area; a pixel is subject-coloured when its colour is
    ``LIKELIHOOD_RATIO`` times likelier on the subject. A subject that hops or turns in place, or
    stands still for a moment, keeps its whole silhouette this way instead of only the parts that
    moved. Updates ``track`` in place.
    """
    found = track.found
    if found.sum() < 3:
        return
    median_area = float(np.nanmedian(track.area))
    good = found & (track.area > 0.6 * median_area) & (track.area < 1.6 * median_area)
    if good.sum() < 3:
        return
    n, h, w = frames.shape[:3]
    bins = COLOUR_BINS ** 3
    fg = np.ones(bins)
    bg = np.ones(bins)
    for t in np.nonzero(good)[0][:: max(1, int(good.sum()) // 20)]:
        mask = track.masks[t]
        x0, y0, x1, y1 = track.box[t]
        mx, my = SEARCH_MARGIN * (x1 - x0 + 1), SEARCH_MARGIN * (y1 - y0 + 1)
        ya, yb = max(0, int(y0 - my)), min(h, int(y1 + my) + 1)
        xa, xb = max(0, int(x0 - mx)), min(w, int(x1 + mx) + 1)
        idx = _colour_index(frames[t, ya:yb, xa:xb])
        m = mask[ya:yb, xa:xb]
        fg += np.bincount(idx[m].ravel(), minlength=bins)
        bg += np.bincount(idx[~m].ravel(), minlength=bins)
    ratio = (fg / fg.sum()) / (bg / bg.sum())
    subject_colour = ratio > LIKELIHOOD_RATIO
    expected = _expected_boxes(track, good)
    kernel_open = np.ones((2, 2), np.uint8)  # keeps legs two pixels wide
    kernel_close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for t in range(n):
        x0, y0, x1, y1 = expected[t]
        mx, my = SEARCH_MARGIN * (x1 - x0 + 1), SEARCH_MARGIN * (y1 - y0 + 1)
        ya, yb = max(0, int(y0 - my)), min(h, int(y1 + my) + 1)
        xa, xb = max(0, int(x0 - mx)), min(w, int(x1 + mx) + 1)
        if yb - ya < 4 or xb - xa < 4:
            continue
        roi = np.zeros((h, w), np.uint8)
        roi[ya:yb, xa:xb] = subject_colour[_colour_index(frames[t, ya:yb, xa:xb])]
        if track.masks[t] is not None:
            roi |= track.masks[t].astype(np.uint8)
        roi = cv2.morphologyEx(roi, cv2.MORPH_OPEN, kernel_open)
        roi = cv2.morphologyEx(roi, cv2.MORPH_CLOSE, kernel_close)
        keep = _pick_component(roi, np.array([(x0 + x1) / 2, (y0 + y1) / 2]))
        if keep is None or keep.sum() > 2.5 * median_area:
            continue
        (track.box[t], track.centroid[t], track.area[t], track.angle[t], track.elongation[t],
         track.shapes[t]) = _shape_stats(keep)
        track.masks[t] = keep


NOVELTY_BINS = 16  # per channel, for the background colour histogram
NOVELTY_P = 1e-4  # a colour rarer than this in the background (smoothed histogram) is foreign
BORDER_FRACTION = 0.06  # of the shorter side: the frame's border strip, taken as background
CLEAN_REST = 0.3  # foreign pixels outside the subject, as a share of the subject's, at most ...
CLEAN_FRAMES = 0.7  # ... in this share of the frames, for the colour masks to be used


def _novelty_index(pixels: np.ndarray) -> np.ndarray:
    return _bin_index(pixels, NOVELTY_BINS)


def background_colours(frames: np.ndarray, motion: list) -> np.ndarray:
    """Per colour bin, whether the colour is foreign to the background: rarer than ``NOVELTY_P``
    in the frame border strips (minus pixels the motion masks give to the subject), with the
    histogram smoothed over neighbouring bins so that shading does not read as foreign."""
    n, h, w = frames.shape[:3]
    b = max(3, int(BORDER_FRACTION * min(h, w)))
    border = np.zeros((h, w), bool)
    border[:b], border[-b:], border[:, :b], border[:, -b:] = True, True, True, True
    hist = np.zeros(NOVELTY_BINS ** 3)
    grow = np.ones((9, 9), np.uint8)
    for t in range(0, n, max(1, n // 40)):
        sel = border.copy()
        if motion[t] is not None:
            sel &= cv2.dilate(motion[t], grow) == 0
        hist += np.bincount(_novelty_index(frames[t][sel]).ravel(), minlength=len(hist))
    cube = np.pad(hist.reshape((NOVELTY_BINS,) * 3), 1)
    k = NOVELTY_BINS
    smooth = sum(cube[1 + a:1 + a + k, 1 + b_:1 + b_ + k, 1 + c:1 + c + k]
                 for a in (-1, 0, 1) for b_ in (-1, 0, 1) for c in (-1, 0, 1)).ravel()
    return smooth / max(smooth.sum(), 1.0) < NOVELTY_P


STATIC_FRACTION = 0.9  # foreign in this share of the frames at the same pixel: static


def _static_border_structures(masks: list) -> np.ndarray | None:
    """Foreign pixels that stay put through the clip and reach the frame's edge: drawn lines,
    a horizon, the edge of a floor. They are scenery, not the subject (which does not fill the
    frame's border), and are removed from every frame's mask."""
    static = (np.mean(masks, axis=0) >= STATIC_FRACTION).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(static, connectivity=8)
    h, w = static.shape
    touching = [k for k in range(1, n) if stats[k, cv2.CC_STAT_LEFT] == 0 or stats[k, cv2.CC_STAT_TOP] == 0
                or stats[k, cv2.CC_STAT_LEFT] + stats[k, cv2.CC_STAT_WIDTH] >= w
                or stats[k, cv2.CC_STAT_TOP] + stats[k, cv2.CC_STAT_HEIGHT] >= h]
    if not touching:
        return None
    return np.isin(labels, touching).astype(np.uint8)


def colour_novelty_masks(frames: np.ndarray, motion: list) -> list | None:
    """Per frame, the pixels whose colour the background does not have, or None when those do
    not single out one body (cluttered ground: objects of many colours are foreign too; a
    subject coloured like the ground: nothing is).

    Clean means: in at least ``CLEAN_FRAMES`` of the sampled frames the component
    :func:`_pick_component` keeps holds all but ``CLEAN_REST`` of the foreign pixels.
    """
    foreign = background_colours(frames, motion)
    n, h, w = frames.shape[:3]
    kernel_open = np.ones((2, 2), np.uint8)
    kernel_close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    masks = [cv2.morphologyEx(foreign[_novelty_index(frames[t])].astype(np.uint8), cv2.MORPH_OPEN, kernel_open)
             for t in range(n)]
    scenery = _static_border_structures(masks)  # removed before closing, which would bridge
    if scenery is not None:  # the gap between a foot and a drawn ground line
        masks = [m & (1 - scenery) for m in masks]
    masks = [cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel_close) for m in masks]
    clean = []
    for t in range(0, n, max(1, n // 30)):
        keep = _pick_component(masks[t], None)
        if keep is None:
            clean.append(False)
            continue
        rest = float(masks[t].sum()) - float(keep.sum())
        clean.append(rest <= CLEAN_REST * float(keep.sum()))
    return masks if np.mean(clean) >= CLEAN_FRAMES else None
