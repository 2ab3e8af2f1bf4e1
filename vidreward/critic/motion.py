"""Motion descriptors comparable between an expert video and a simulated robot trajectory.

Both sides are reduced to the same five numbers, in units of the subject's own body size so that a
human on video and a quadruped in simulation can be compared:

| key | meaning | video | trajectory |
|---|---|---|---|
| ``speed`` | horizontal travel, body sizes / s | |slope| of centroid x | slope of root x (+x forward, signed) |
| ``bounce_amplitude`` | half peak-to-peak of vertical motion after linear detrend, body sizes | centroid height | root z |
| ``bounce_frequency`` | dominant frequency of that vertical motion, Hz (0 when amplitude < ``BOUNCE_MIN``) | | |
| ``airborne_fraction`` | fraction of time with no ground contact | silhouette bottom above the ground line | all foot contact forces ~ 0 |
| ``height_ratio`` | posture: typical height relative to full height | median / max silhouette height | median root z / standing height |

Body size: video = median over frames of the larger side of the subject's bounding box;
trajectory = the robot's ``body_length``. Subject segmentation: background = per-pixel median over
frames, pixels differing by more than ``DIFF_THRESHOLD`` (max over RGB) are foreground, the largest
8-connected blob (after a small dilation that bridges thin gaps) is the subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidreward.errors import ClipError, CritiqueError

DESCRIPTOR_KEYS = ("speed", "bounce_amplitude", "bounce_frequency", "airborne_fraction", "height_ratio")

# Fixed scales of ``gap``: a difference of one scale counts as 1. Chosen as "clearly visible"
# differences: a quarter body length per second, 5 % of body size of bounce, half a hertz,
# 15 % of the time airborne, 10 % of standing height.
GAP_SCALES: dict[str, float] = {
    "speed": 0.25,
    "bounce_amplitude": 0.05,
    "bounce_frequency": 0.5,
    "airborne_fraction": 0.15,
    "height_ratio": 0.10,
}

BOUNCE_MIN = 0.02  # body sizes; below this the vertical motion is "no bounce" and frequency is 0
DIFF_THRESHOLD = 30  # grey levels (0-255) between a pixel and the background to count as subject
AIRBORNE_CLEARANCE = 0.05  # body sizes the silhouette bottom must clear the ground line by
CONTACT_FORCE_EPS = 1e-3  # newtons; all feet below this = airborne
MAX_ANALYSIS_HEIGHT = 240  # frames taller than this are subsampled (stride) before segmentation
MIN_BLOB_FRACTION = 2e-4  # of the frame area; smaller blobs mean "subject not found" in that frame


# ----------------------------------------------------------------------------------------------
# segmentation
# ----------------------------------------------------------------------------------------------


@dataclass
class SubjectTrack:
    """Per-frame subject measurements in (analysis) pixel coordinates, y down; NaN where not found."""

    cx: np.ndarray
    cy: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    left: np.ndarray
    right: np.ndarray
    area: np.ndarray
    stride: int  # pixel subsampling applied before analysis

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.cx)

    @property
    def height(self) -> np.ndarray:
        return self.bottom - self.top + 1

    @property
    def width(self) -> np.ndarray:
        return self.right - self.left + 1


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for _ in range(r):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """Largest 8-connected component of a 2-D boolean mask (run-length union-find, numpy only)."""
    try:
        from scipy import ndimage  # optional, faster
    except ImportError:
        ndimage = None
    if ndimage is not None:
        labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
        if n == 0:
            return np.zeros_like(mask)
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        return labels == int(sizes.argmax())
    h, w = mask.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    s_rows, s_cols = np.nonzero(d == 1)
    _, e_cols = np.nonzero(d == -1)  # same row-major order: run k spans [s_cols[k], e_cols[k])
    n = len(s_rows)
    if n == 0:
        return np.zeros_like(mask)
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    row_start = np.searchsorted(s_rows, np.arange(h + 1))
    for r in range(1, h):
        a0, a1 = row_start[r - 1], row_start[r]
        b0, b1 = row_start[r], row_start[r + 1]
        i, j = a0, b0
        while i < a1 and j < b1:
            # 8-connectivity: runs touch if they overlap or meet diagonally
            if s_cols[i] <= e_cols[j] and s_cols[j] <= e_cols[i]:
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[rj] = ri
            if e_cols[i] < e_cols[j]:
                i += 1
            else:
                j += 1
    roots = np.array([find(k) for k in range(n)])
    lengths = e_cols - s_cols
    sizes = np.bincount(roots, weights=lengths, minlength=n)
    best = roots == int(sizes.argmax())
    out = np.zeros((h, w), bool)
    for r, a, b in zip(s_rows[best], s_cols[best], e_cols[best]):
        out[r, a:b] = True
    return out


def track_subject(frames: np.ndarray, threshold: int = DIFF_THRESHOLD) -> SubjectTrack:
    """Segment the moving subject in every frame (see module docstring) and measure it."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 2:
        raise ClipError(f"need frames [T>=2, H, W, 3] to segment a subject, got shape {frames.shape}")
    stride = max(1, int(np.ceil(frames.shape[1] / MAX_ANALYSIS_HEIGHT)))
    small = frames[:, ::stride, ::stride]
    t, h, w, _ = small.shape
    sample = small[np.linspace(0, t - 1, min(t, 120)).astype(int)]
    background = np.median(sample, axis=0).astype(np.int16)
    min_area = max(4.0, MIN_BLOB_FRACTION * h * w)
    fields = {k: np.full(t, np.nan) for k in ("cx", "cy", "top", "bottom", "left", "right", "area")}
    rows = np.arange(h)[:, None]
    cols = np.arange(w)[None, :]
    for i in range(t):
        diff = np.abs(small[i].astype(np.int16) - background).max(axis=-1)
        mask = diff > threshold
        if mask.sum() < min_area:
            continue
        blob = _largest_component(_dilate(mask, 2)) & mask
        area = float(blob.sum())
        if area < min_area:
            continue
        ys = np.nonzero(blob.any(axis=1))[0]
        xs = np.nonzero(blob.any(axis=0))[0]
        fields["cx"][i] = float((blob * cols).sum() / area)
        fields["cy"][i] = float((blob * rows).sum() / area)
        fields["top"][i], fields["bottom"][i] = ys[0], ys[-1]
        fields["left"][i], fields["right"][i] = xs[0], xs[-1]
        fields["area"][i] = area
    return SubjectTrack(**fields, stride=stride)


# ----------------------------------------------------------------------------------------------
# descriptors
# ----------------------------------------------------------------------------------------------


def _fill_nan(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.all():
        return x
    idx = np.arange(len(x))
    return np.interp(idx, idx[ok], x[ok])


def _uniform(t: np.ndarray, *signals: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], float]:
    """Resample signals onto a uniform time grid (trajectories may have uneven ``t``)."""
    dt = float(np.median(np.diff(t)))
    if not np.isfinite(dt) or dt <= 0:
        raise CritiqueError("time stamps must increase")
    grid = t[0] + dt * np.arange(int(round((t[-1] - t[0]) / dt)) + 1)
    return grid, [np.interp(grid, t, s) for s in signals], dt


def _slope(t: np.ndarray, x: np.ndarray) -> float:
    tc = t - t.mean()
    denom = float((tc * tc).sum())
    return float((tc * (x - x.mean())).sum() / denom) if denom > 0 else 0.0


def bounce(t: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """(amplitude, frequency Hz) of a vertical signal: linear detrend, half of the 5-95 %
    percentile range, and the dominant FFT peak (Hann window, zero-padded, parabolic refinement)
    between max(0.2 Hz, 1/duration) and Nyquist. Frequency is 0 when amplitude < ``BOUNCE_MIN``."""
    t, (z,), dt = _uniform(np.asarray(t, float), np.asarray(z, float))
    zd = z - (z.mean() + _slope(t, z) * (t - t.mean()))
    amplitude = float(np.percentile(zd, 95) - np.percentile(zd, 5)) / 2.0
    if amplitude < BOUNCE_MIN or len(zd) < 8:
        return amplitude, 0.0
    n_fft = max(8192, 1 << int(np.ceil(np.log2(len(zd) * 8))))
    spec = np.abs(np.fft.rfft(zd * np.hanning(len(zd)), n_fft))
    freqs = np.fft.rfftfreq(n_fft, dt)
    duration = dt * (len(zd) - 1)
    band = freqs >= max(0.2, 1.0 / max(duration, 1e-9))
    if not band.any():
        return amplitude, 0.0
    k = int(np.nonzero(band)[0][0] + spec[band].argmax())
    if 0 < k < len(spec) - 1:
        a, b, c = np.log(spec[k - 1: k + 2] + 1e-12)
        shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
        return amplitude, float(freqs[k] + np.clip(shift, -0.5, 0.5) * (freqs[1] - freqs[0]))
    return amplitude, float(freqs[k])


def descriptors_from_track(track: SubjectTrack, fps: float) -> dict[str, float]:
    valid = track.valid
    if valid.sum() < max(4, 0.25 * len(valid)):
        raise ClipError(
            f"subject found in only {int(valid.sum())} of {len(valid)} frames: cannot measure motion"
        )
    size = float(np.median(np.maximum(track.height, track.width)[valid]))
    t = np.arange(len(valid)) / fps
    x = _fill_nan(track.cx) / size
    z = -_fill_nan(track.cy) / size  # up
    speed = abs(_slope(t[valid], x[valid]))
    amp, freq = bounce(t, z)
    bottom = track.bottom[valid]
    ground = float(np.percentile(bottom, 90))  # robust lowest point (image y grows downwards)
    airborne = float(np.mean(bottom < ground - AIRBORNE_CLEARANCE * size))
    heights = track.height[valid]
    height_ratio = float(np.median(heights) / np.percentile(heights, 98))
    return {
        "speed": float(speed),
        "bounce_amplitude": amp,
        "bounce_frequency": freq,
        "airborne_fraction": airborne,
        "height_ratio": float(min(height_ratio, 1.0)),
    }


def descriptors_from_video(frames: np.ndarray, fps: float) -> dict[str, float]:
    """Descriptors of the subject in ``frames`` uint8 [T, H, W, 3] at ``fps`` (see module doc)."""
    if fps <= 0:
        raise ClipError(f"fps must be positive, got {fps}")
    return descriptors_from_track(track_subject(frames), fps)


def descriptors_from_clip(path: str | Path, max_frames: int = 1500) -> dict[str, float]:
    """Read a video file and compute its descriptors; errors name the file."""
    from vidreward.video.io import read_video

    frames, fps = read_video(path, max_frames=max_frames)
    try:
        return descriptors_from_video(frames, fps)
    except ClipError as exc:
        raise ClipError(f"{path}: {exc}") from exc


def robot_dims(robot: str) -> tuple[float, float]:
    """``(body_length, standing_height)`` of a robot, from ``vidreward.sim.robots.get_robot``."""
    from vidreward.sim.robots import get_robot

    spec = get_robot(robot)
    return float(spec.body_length), float(spec.standing_height)


def load_trajectory(npz_path: str | Path) -> dict[str, Any]:
    path = Path(npz_path)
    try:
        with np.load(path, allow_pickle=False) as data:
            traj = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise CritiqueError(f"{path}: cannot read trajectory ({exc})") from exc
    missing = [k for k in ("t", "root_pos", "foot_contact_forces") if k not in traj]
    if missing:
        raise CritiqueError(f"{path}: trajectory lacks {missing} (see the trajectory contract)")
    if len(traj["t"]) < 4 or traj["root_pos"].shape != (len(traj["t"]), 3):
        raise CritiqueError(f"{path}: need >= 4 steps and root_pos [T, 3], got {traj['root_pos'].shape}")
    return traj


def airborne_of_lowest(lowest: np.ndarray, clearance: float) -> float:
    """Fraction of samples whose lowest point clears the usual ground level (the 10th percentile
    of ``lowest``, robust to the odd sample below it) by more than ``clearance`` (same unit)."""
    lowest = np.asarray(lowest, float)
    return float(np.mean(lowest > float(np.percentile(lowest, 10)) + clearance))


def _trajectory_airborne(traj: dict[str, Any], steps: int, body_length: float,
                         clearance: float = AIRBORNE_CLEARANCE) -> float:
    """Fraction of steps the robot is visibly airborne, by the rule used for the expert clip: its
    lowest point (the silhouette bottom) clears its usual ground level (the robust lowest level over
    the rollout) by ``clearance`` body sizes (default ``AIRBORNE_CLEARANCE``, the video rule; the
    oracle critic passes its truth file's). Tiny skips that a camera would not show as flight do
    not count. Trajectories of robots without a model here fall back to "no foot touches the
    ground" from ``foot_contact_forces``."""
    robot = str(traj.get("robot", ""))
    if robot and all(k in traj for k in ("root_quat", "dof_pos")):
        from vidreward.errors import ConfigError
        from vidreward.sim.kinematics import lowest_point_heights

        try:
            lowest = lowest_point_heights(
                robot, np.asarray(traj["root_pos"]), np.asarray(traj["root_quat"]),
                np.asarray(traj["dof_pos"]))
        except ConfigError:
            lowest = None
        if lowest is not None:
            return airborne_of_lowest(lowest, clearance * body_length)
    forces = np.asarray(traj["foot_contact_forces"], float).reshape(steps, -1)
    return float(np.mean(np.all(np.abs(forces) < CONTACT_FORCE_EPS, axis=1)))


def descriptors_from_trajectory(
    npz_path: str | Path,
    body_length: float | None = None,
    standing_height: float | None = None,
    airborne_clearance: float = AIRBORNE_CLEARANCE,
) -> dict[str, float]:
    """Descriptors of a rollout ``trajectory.npz`` (trajectory contract). Body size and standing
    height default to ``vidreward.sim.robots.get_robot(<npz robot>)``'s; ``airborne_clearance``
    (body sizes) is how far the lowest point must clear the ground to count as airborne."""
    path = Path(npz_path)
    traj = load_trajectory(path)
    if body_length is None or standing_height is None:
        if "robot" not in traj:
            raise CritiqueError(f"{path}: no 'robot' entry to look up body_length/standing_height")
        bl, sh = robot_dims(str(traj["robot"]))
        body_length = bl if body_length is None else body_length
        standing_height = sh if standing_height is None else standing_height
    if body_length <= 0 or standing_height <= 0:
        raise CritiqueError(f"{path}: body_length and standing_height must be positive")
    t = np.asarray(traj["t"], float)
    root = np.asarray(traj["root_pos"], float)
    speed = _slope(t, root[:, 0]) / body_length
    amp, freq = bounce(t, root[:, 2] / body_length)
    airborne = _trajectory_airborne(traj, len(t), body_length, airborne_clearance)
    height_ratio = float(np.median(root[:, 2]) / standing_height)
    return {
        "speed": float(speed),
        "bounce_amplitude": amp,
        "bounce_frequency": freq,
        "airborne_fraction": airborne,
        "height_ratio": float(np.clip(height_ratio, 0.0, 1.5)),
    }


def trajectory_diagnostics(npz_path: str | Path, body_length: float) -> dict[str, float]:
    """Robot-only checks a side-view clip cannot show: forward speed (m/s), lateral drift speed
    (m/s, |slope of y|), fraction of time upright (torso up axis z-component > 0.5)."""
    traj = load_trajectory(npz_path)
    t = np.asarray(traj["t"], float)
    root = np.asarray(traj["root_pos"], float)
    out = {
        "forward_speed_mps": _slope(t, root[:, 0]),
        "lateral_speed_mps": abs(_slope(t, root[:, 1])),
        "lateral_speed_body": abs(_slope(t, root[:, 1])) / body_length,
    }
    if "root_quat" in traj:
        q = np.asarray(traj["root_quat"], float)
        w, x, y, _ = q.T
        up_z = 1.0 - 2.0 * (x * x + y * y)  # z-component of the body z axis
        out["upright_fraction"] = float(np.mean(up_z > 0.5))
    return out


def median_descriptors(episodes: list[dict[str, float]]) -> dict[str, float]:
    """Per-descriptor median over several rollouts of one policy (the keys of the first): the
    robot's typical motion, which one lucky or unlucky reset state does not decide."""
    if not episodes:
        raise CritiqueError("no rollout to take descriptors from")
    return {k: float(np.median([e[k] for e in episodes])) for k in episodes[0]}


GAP_CAP = 2.0  # a single descriptor contributes at most this many scales to ``gap``


def gap_terms(expert: dict[str, float], robot: dict[str, float]) -> dict[str, float]:
    """Per-descriptor normalised differences (robot - expert) / ``GAP_SCALES[key]``, each clipped to
    +-``GAP_CAP`` so no single descriptor swamps the others. The bounce frequency is weighted by how
    comparable the two bounces are (smaller amplitude / larger amplitude): the frequency of a bounce
    a third as large as the expert's counts a third (its amplitude difference already counts)."""
    missing = [k for k in DESCRIPTOR_KEYS if k not in expert or k not in robot]
    if missing:
        raise CritiqueError(f"descriptors lack {missing}")
    terms = {
        k: float(np.clip((robot[k] - expert[k]) / GAP_SCALES[k], -GAP_CAP, GAP_CAP))
        for k in DESCRIPTOR_KEYS
    }
    a_r, a_e = abs(robot["bounce_amplitude"]), abs(expert["bounce_amplitude"])
    terms["bounce_frequency"] *= min(a_r, a_e) / max(a_r, a_e) if max(a_r, a_e) > 0 else 0.0
    return terms


def gap(expert: dict[str, float], robot: dict[str, float]) -> float:
    """RMS of :func:`gap_terms`. 0 = identical motion descriptors."""
    z = np.array(list(gap_terms(expert, robot).values()))
    return float(np.sqrt(np.mean(z * z)))
