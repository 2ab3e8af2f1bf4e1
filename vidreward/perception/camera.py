"""Camera motion from the background: one homography per frame pair, chained to a reference view.

For each pair of consecutive frames, corners are detected in the earlier frame outside the
subject's box (:func:`cv2.goodFeaturesToTrack`), tracked into the later frame with pyramidal
Lucas-Kanade and checked by tracking back (forward-backward error < ``FB_MAX_PX``); a RANSAC
homography (:func:`cv2.findHomography`) of the survivors is the motion of the ground plane and of
everything far away. With fewer than ``MIN_TRACKS`` good tracks (a plain, textureless background)
or with inliers clustered in a small part of the frame (``MIN_SPREAD``: a single object, not the
background) or along one line (``MIN_MINOR_SPREAD``: a horizon or floor edge, whose points slide
along it), or that matches the frame no better than no motion at all
(``IDENTITY_MARGIN``), the pair's motion cannot be measured: it is taken as identity and marked unobserved.

A pair whose motion is below ``STILL_PX`` is measured again from the last frame where the camera
measurably moved, so that a slow zoom or pan, invisible between neighbours, still adds up while a
still camera accumulates no noise.

Homographies compose: ``to_reference[t]`` maps pixel coordinates of frame ``t`` into the
reference frame (the middle frame of the clip), so positions measured in different frames of a
panning, tracking, shaky or zooming camera are compared in one ground-fixed view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

MAX_CORNERS = 300
MIN_TRACKS = 12
FB_MAX_PX = 1.0
RANSAC_PX = 2.0
BOX_MARGIN = 0.5  # of the box size: corners this close to the subject are not background
MIN_SPREAD = 0.25  # inlier tracks must span this share of the frame (width or height)
STILL_PX = 0.5  # a fit moving no frame corner by more than this is "the camera stood still"
IDENTITY_MARGIN = 0.8  # a homography must cut the frame's residual by 20 % to beat "no motion"
MIN_MINOR_SPREAD = 0.03  # ... and not lie on one line (std across their main axis, of the frame)


@dataclass
class CameraMotion:
    """Per-frame camera motion. ``pair[t]`` maps frame t-1 to frame t (``pair[0]`` = identity)."""

    pair: np.ndarray  # [T, 3, 3]
    observed: np.ndarray  # [T] bool: the pair's motion was measured (enough background tracks)
    inliers: np.ndarray  # [T] int: RANSAC inliers of the pair
    to_reference: np.ndarray  # [T, 3, 3]: frame t -> reference frame
    reference: int
    from_reference: np.ndarray = field(init=False, repr=False, compare=False)  # [T, 3, 3]: inverses

    def __post_init__(self) -> None:
        self.from_reference = np.linalg.inv(self.to_reference)

    def mapping(self, src: int, dst: int) -> np.ndarray:
        """Homography taking pixels of frame ``src`` to frame ``dst``."""
        return self.from_reference[dst] @ self.to_reference[src]

    def mappings(self, sources: np.ndarray, dst: int) -> np.ndarray:
        """Homographies [len(sources), 3, 3] taking pixels of each frame in ``sources`` to frame ``dst``."""
        return self.from_reference[dst] @ self.to_reference[sources]

    @property
    def observed_fraction(self) -> float:
        return float(self.observed[1:].mean()) if len(self.observed) > 1 else 0.0


def _background_mask(shape: tuple[int, int], box: tuple[float, float, float, float] | None) -> np.ndarray:
    mask = np.full(shape, 255, np.uint8)
    if box is not None and np.all(np.isfinite(box)):
        x0, y0, x1, y1 = box
        mx, my = BOX_MARGIN * (x1 - x0 + 1), BOX_MARGIN * (y1 - y0 + 1)
        h, w = shape
        mask[max(0, int(y0 - my)):min(h, int(y1 + my) + 1), max(0, int(x0 - mx)):min(w, int(x1 + mx) + 1)] = 0
    return mask


def pair_homography(prev: np.ndarray, cur: np.ndarray, box=None) -> tuple[np.ndarray, int]:
    """Homography of the background from grey frame ``prev`` to ``cur`` and its inlier count
    (0 when it could not be measured, with the identity returned)."""
    eye = np.eye(3)
    p0 = cv2.goodFeaturesToTrack(prev, MAX_CORNERS, 0.01, 6, mask=_background_mask(prev.shape, box),
                                 blockSize=7)
    if p0 is None or len(p0) < MIN_TRACKS:
        return eye, 0
    lk = dict(winSize=(21, 21), maxLevel=3,
              criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, **lk)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, None, **lk)
    good = (st1[:, 0] == 1) & (st2[:, 0] == 1) & (np.linalg.norm(back - p0, axis=2)[:, 0] < FB_MAX_PX)
    if good.sum() < MIN_TRACKS:
        return eye, 0
    a, b = p0[good].reshape(-1, 2), p1[good].reshape(-1, 2)
    hom, inl = cv2.findHomography(a, b, cv2.RANSAC, RANSAC_PX)
    if hom is None or inl is None or int(inl.sum()) < MIN_TRACKS:
        aff, inl = cv2.estimateAffinePartial2D(a, b, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX)
        if aff is None or inl is None or int(inl.sum()) < MIN_TRACKS:
            return eye, 0
        hom = np.vstack([aff, [0.0, 0.0, 1.0]])
    pts = a[inl.ravel() > 0]
    spread = max(np.ptp(pts[:, 0]) / prev.shape[1], np.ptp(pts[:, 1]) / prev.shape[0])
    if spread < MIN_SPREAD:  # a cluster of corners (a subject, one object) is not the background
        return eye, 0
    minor = float(np.sqrt(max(np.linalg.eigvalsh(np.cov(pts.T))[0], 0.0)))
    if minor < MIN_MINOR_SPREAD * min(prev.shape):  # points along one line (a horizon, a floor
        return eye, 0  # edge) slide along it: their motion there is not the camera's
    hom = hom / hom[2, 2]
    h, w = prev.shape
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    if float(np.abs(map_points(hom, corners) - corners).max()) < STILL_PX:
        return eye, int(inl.sum())  # the background measurably did not move
    if not _explains_more_than_identity(prev, cur, hom):
        return eye, 0
    return hom, int(inl.sum())


def _explains_more_than_identity(prev: np.ndarray, cur: np.ndarray, hom: np.ndarray) -> bool:
    """Whether warping by ``hom`` matches the whole frame clearly better than not moving at all.

    On a plain background the corners that survive are often on the subject, and their motion
    aligns the subject while leaving the (textureless) rest no better matched: then the still
    camera, the simpler explanation, is kept.
    """
    h, w = prev.shape
    warped = cv2.warpPerspective(prev, hom, (w, h), borderMode=cv2.BORDER_REPLICATE)
    moved = float(cv2.absdiff(cur, warped).mean())
    still = float(cv2.absdiff(cur, prev).mean())
    return moved < IDENTITY_MARGIN * still


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    ok = [x for x in (a, b) if np.all(np.isfinite(x))]
    if not ok:
        return None
    stack = np.stack(ok)
    return np.r_[stack[:, :2].min(0), stack[:, 2:].max(0)]


def chain(pair: np.ndarray, reference: int) -> np.ndarray:
    """``to_reference[t]`` from the pair homographies (``pair[t]``: t-1 -> t)."""
    n = len(pair)
    forward = np.empty_like(pair)  # frame 0 -> frame t
    forward[0] = np.eye(3)
    for t in range(1, n):
        forward[t] = pair[t] @ forward[t - 1]
    ref_from_0 = forward[reference]
    out = np.empty_like(pair)
    for t in range(n):
        m = ref_from_0 @ np.linalg.inv(forward[t])
        out[t] = m / m[2, 2]
    return out


def estimate_camera_motion(grey: np.ndarray, boxes: np.ndarray | None = None) -> CameraMotion:
    """Camera motion of grey frames [T, H, W] uint8; ``boxes`` [T, 4] (x0, y0, x1, y1, NaN when
    unknown) keep features off the subject."""
    n = len(grey)
    pair = np.repeat(np.eye(3)[None], n, axis=0)
    observed = np.zeros(n, bool)
    inliers = np.zeros(n, int)
    key = 0  # the last frame since which the camera measurably moved
    for t in range(1, n):
        box = None if boxes is None else _union(boxes[t - 1], boxes[t])
        pair[t], inliers[t] = pair_homography(grey[t - 1], grey[t], box)
        observed[t] = inliers[t] > 0
        if observed[t] and np.array_equal(pair[t], np.eye(3)) and t - 1 > key:
            # too little motion to see between neighbours: a slow zoom or pan still adds up,
            # so measure from the last frame where the camera moved (a still camera stays still)
            since_key = None if boxes is None else _union(boxes[key], boxes[t])
            hom, count = pair_homography(grey[key], grey[t], since_key)
            if count > 0 and not np.array_equal(hom, np.eye(3)):
                pair[t], inliers[t] = hom, count  # the frames between were identity
        if not np.array_equal(pair[t], np.eye(3)) or not observed[t]:
            key = t
    reference = n // 2
    return CameraMotion(pair, observed, inliers, chain(pair, reference), reference)


def map_points(hom: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a homography [3, 3] to points [..., 2]; a stack of homographies [K, 3, 3] maps them
    by each, giving [K, ..., 2]."""
    pts = np.asarray(pts, float)
    flat = pts.reshape(-1, 2)
    h = np.concatenate([flat, np.ones((len(flat), 1))], axis=1) @ np.swapaxes(hom, -1, -2)
    return (h[..., :2] / h[..., 2:3]).reshape(hom.shape[:-2] + pts.shape)


def local_scale(hom: np.ndarray, pt: np.ndarray, eps: float = 1.0, axis: int = 0) -> float:
    """Magnification of ``hom`` at point ``pt`` along the image rows (``axis`` 0: the length a
    horizontal step of one pixel there maps to) or columns (``axis`` 1: a vertical step).

    ``hom`` maps the ground plane; a subject standing at ``pt`` is upright, and its size scales
    like a step across the ground at its foot row (both go as 1 / depth), not like a step along
    the ground toward the horizon (which is foreshortened once more): when the camera moves along
    its line of sight the two differ, and only the row direction gives the subject's scale. The
    column direction converts offsets of the foot row (the ground line) between views.
    """
    x, y = float(pt[0]), float(pt[1])
    step = np.array([[x, y], [x + eps, y] if axis == 0 else [x, y + eps]])
    p = map_points(hom, step)
    return float(np.linalg.norm(p[1] - p[0]) / eps)
