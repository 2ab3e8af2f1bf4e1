"""Cut short real-camera clips with hand-checked truth from OpenCV's ``vtest.avi``.

``vtest.avi`` (Debian package ``opencv-doc``, ``examples/data/vtest.avi``: pedestrians on a campus
crossing, fixed camera, 768x576, 10 fps, 795 frames) is not in the repository; the small clips cut
from it are (``data/motion/real/``). Get the source with

    cd /tmp && apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb /tmp/opencvdoc

then ``python tools/make_real_clips.py [--vtest PATH] [--out data/motion/real] [--only NAME ...]``.
``--truth-only`` rewrites the truth files from the marks below (no video needed), ``--calibrate``
re-measures the camera model from the footage, ``--mark-frames DIR`` writes the marked frames as
PNG with the marks drawn, to check them by eye.

Each clip is a time window and a spatial crop in which one walker (one couple, for
``vtest_couple_toward``) is the only moving thing. ``<name>.mp4`` (H.264) and
``<name>.truth.json`` are written per clip.

How the truth was made (by hand, not by the extractor)
------------------------------------------------------
1. Marks. The frames of each clip were written as zoomed PNGs with a pixel grid and looked at; on
   five frames (first, quarter, middle, three quarters, last) the top of the walker's head and the
   bottom of each visible shoe were read off in full-frame pixels (about +-1.5 px). The foot point
   is the midpoint of the two shoes (one shoe where the other was hidden behind it).
2. Camera model (``--calibrate`` re-measures it). Pinhole, principal point at the image centre,
   square pixels, one radial distortion term ``p_u = c + (p_d - c)(1 + k1 r_d^2)``:
   * ``k1`` from the curvature of the straight white window sill of the building at the top
     (image row ~31, columns 332-567): a parabola fitted to its sub-pixel edge gives
     ``k1 = 1.3e-7`` per px^2 (3 % at the corners; the window band's lower edge gives 2.3e-7).
   * Vertical vanishing point from 57 near-vertical building edges (window mullions, corners) in
     the upper 120 rows, after undistortion: (573, 4840).
   * Focal length: people are vertical and their height does not change while they walk, so for
     each marked walker the camera height in units of that walker's height, solved from the foot
     point on the ground and the head one body height above it, must be the same on all of the
     walker's marks; the focal length (with the vertical vanishing point fixing the tilt and roll
     for each candidate) that makes it most constant over all 6 walkers is 1260 px (residual
     spread 1.6 %, the gait's own swing). The camera is then tilted 15.5 degrees down, rolled
     2.4 degrees, 3.7-4.2 walker heights above the ground.
3. Ground track. Each foot point is undistorted and intersected with the ground plane; its
   position is expressed on the camera's horizontal right and forward axes, in units of the
   walker's own height (camera height / walker height from step 2). The truth velocity is the
   least-squares slope of the five positions over time: ``direction_deg = atan2(forward, right)``
   (0 = screen right, 90 = away from the camera, -90 = toward it, +-180 = screen left) and
   ``speed_bl_s = |velocity|`` in walker heights per second of the clip's own time line (10 fps).
   For the couple: the mean of both walkers' ground velocities over their mean height.
4. Cross-check (the method in the issue): depth from the change of the walker's apparent height
   (distance ~ f / pixel height) and lateral position from the foot's x; stored as
   ``derived.height_cross_check``.
5. Sensitivity: the truth recomputed with the focal length 15 % shorter and longer
   (``derived.sensitivity``): the main uncertainty of the depth component.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vidreward.fsutil import sha256_file  # noqa: E402
from vidreward.video.io import read_video, write_video  # noqa: E402

OUT_DIR = ROOT / "data" / "motion" / "real"
VTEST_CANDIDATES = (
    Path("/tmp/opencvdoc/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
    Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
)
SOURCE = {
    "file": "vtest.avi",
    "package": "opencv-doc 4.6.0+dfsg-12 (Debian 12 bookworm, main)",
    "path_in_package": "usr/share/doc/opencv-doc/examples/data/vtest.avi",
    "upstream": "OpenCV samples/data/vtest.avi",
    "licence": "Apache-2.0 AND BSD-3-Clause (debian/copyright, stanza 'Files: *', which covers "
               "samples/data/; Copyright 2000-2022 Intel Corporation, Willow Garage, NVIDIA, AMD, "
               "OpenCV Foundation, Itseez, Xperience AI, Shenzhen Institute of AI and Robotics for "
               "Society, and OpenCV contributors)",
    "size": [768, 576],
    "fps": 10.0,
    "frames": 795,
}
FPS = 10.0
CRF = 20

# Camera model of vtest.avi, measured by ``--calibrate`` (see the module docstring).
CAMERA = {
    "principal_point": [384.0, 288.0],
    "k1_per_px2": 1.3e-7,
    "vertical_vanishing_point": [573.0, 4840.0],
    "focal_px": 1260.0,
}
FOCAL_RANGE = (0.85, 1.15)
DIRECTION_TOL_DEG = 30.0
SPEED_TOL = 0.25


@dataclass(frozen=True)
class Mark:
    frame: int  # frame index in vtest.avi
    head: tuple[float, float]  # top of the head, full-frame pixels (x right, y down)
    feet: tuple[tuple[float, float], ...]  # bottom of each visible shoe

    @property
    def foot(self) -> tuple[float, float]:
        return tuple(np.mean(np.array(self.feet, float), axis=0).tolist())


@dataclass(frozen=True)
class Clip:
    name: str
    start: int  # first frame (vtest.avi index)
    stop: int  # one past the last frame
    crop: tuple[int, int, int, int]  # x0, y0, x1, y1 in full-frame pixels (x1, y1 exclusive)
    walker: str
    motion: str
    walkers: tuple[tuple[Mark, ...], ...]  # marks per walker (two for the couple)
    notes: str = ""


CLIPS = (
    Clip("vtest_walk_left", 577, 616, (100, 100, 350, 300),
         "man in a dark jacket and jeans on the far footpath",
         "walks to the screen left across the view, drifting slightly away",
         ((Mark(577, (311.75, 145.5), ((316.75, 217.5), (328.0, 213.0))),
           Mark(586, (258.0, 145.5), ((262.5, 215.5), (274.25, 211.0))),
           Mark(596, (212.5, 145.5), ((216.25, 214.5), (230.0, 210.0))),
           Mark(605, (172.25, 143.5), ((176.5, 210.0), (188.5, 208.5))),
           Mark(615, (140.5, 139.5), ((143.0, 206.0), (154.25, 207.0)))),),
         "A parking cone and the barrier tape are static; the woman in red who walked ahead of him has "
         "left the frame at the left; the next walker enters vtest at x < 90 after frame 615."),
    Clip("vtest_walk_left_away", 490, 544, (80, 120, 410, 330),
         "woman in a red jacket and jeans on the road",
         "walks to the screen left and away from the camera (diagonal)",
         ((Mark(490, (372.5, 194.3), ((372.0, 268.0), (382.5, 273.0))),
           Mark(503, (304.75, 188.5), ((297.25, 261.75), (321.5, 260.5))),
           Mark(517, (247.75, 180.5), ((246.0, 248.0), (257.75, 251.25))),
           Mark(530, (199.25, 174.0), ((196.75, 240.0), (215.0, 241.5))),
           Mark(543, (160.75, 168.5), ((159.0, 229.75), (167.0, 234.25)))),),
         "The man following her stays right of x = 430 until frame 543; the lamp post's sign is just "
         "outside the crop."),
    Clip("vtest_walk_away_grass", 630, 679, (100, 300, 440, 576),
         "woman in a long black coat on the grass, near the camera",
         "strolls away from the camera and to the left, bending left on the way",
         ((Mark(630, (377.3, 396.7), ((357.8, 525.0), (386.8, 540.0))),
           Mark(642, (358.7, 385.0), ((362.0, 521.7), (373.7, 514.0))),
           Mark(654, (347.3, 366.3), ((357.3, 499.7),)),
           Mark(666, (277.0, 347.7), ((280.3, 467.7), (298.7, 471.0))),
           Mark(678, (188.3, 334.3), ((190.6, 449.0), (218.6, 453.0)))),),
         "Path bends: mostly away in the first half, mostly left in the second. Frame 654: legs "
         "crossed, one shoe visible. Walkers on the road stay above y = 300 or right of x = 440."),
    Clip("vtest_walk_away_road", 60, 100, (548, 130, 768, 380),
         "bald man in a dark jacket and jeans on the road",
         "walks away from the camera, first slightly left then slightly right",
         ((Mark(60, (632.3, 233.3), ((625.7, 333.3), (642.3, 339.3))),
           Mark(70, (603.7, 210.7), ((602.0, 305.7), (612.7, 304.0))),
           Mark(80, (583.3, 190.3), ((586.0, 282.0),)),
           Mark(90, (587.0, 174.3), ((578.0, 257.7), (588.7, 249.3))),
           Mark(99, (604.7, 156.7), ((593.0, 236.7), (606.3, 232.0)))),),
         "A couple walking left passes just left of the crop (their right edge stays at x <= 542). "
         "Frame 80: mid-stance, one shoe visible."),
    Clip("vtest_couple_toward", 280, 351, (560, 110, 768, 370),
         "a couple (man in a red and navy jacket, woman in a black coat) walking side by side",
         "walk toward the camera, drifting to the screen right",
         ((Mark(280, (609.0, 140.0), ((610.0, 206.0), (616.0, 201.7))),
           Mark(298, (597.7, 157.3), ((590.3, 228.3), (597.7, 226.0))),
           Mark(315, (606.3, 178.3), ((599.0, 250.0), (609.0, 257.3))),
           Mark(333, (636.0, 201.0), ((633.3, 283.7), (640.0, 281.0))),
           Mark(350, (683.3, 224.0), ((681.7, 315.7), (686.7, 312.3)))),
          (Mark(280, (641.0, 143.3), ((635.7, 206.0), (641.7, 209.0))),
           Mark(298, (627.0, 160.0), ((621.7, 226.0), (634.3, 230.0))),
           Mark(315, (637.3, 180.0), ((636.3, 255.0),)),
           Mark(333, (668.7, 201.7), ((663.3, 280.3), (666.7, 285.3))),
           Mark(350, (710.0, 227.3), ((704.7, 309.0), (724.0, 313.0))))),
         "Two people, not one: they walk shoulder to shoulder and move as one region (no single "
         "walker toward the camera is isolated anywhere in vtest). A third walker passes left of "
         "the crop (x < 555) from frame 324."),
)


# --- geometry -----------------------------------------------------------------------------------

def undistort(p, camera=CAMERA) -> np.ndarray:
    c = np.array(camera["principal_point"])
    d = np.asarray(p, float) - c
    return c + d * (1.0 + camera["k1_per_px2"] * (d ** 2).sum(-1, keepdims=True))


def axes(camera=CAMERA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World down, horizontal forward and horizontal right, in camera coordinates (x right,
    y down, z along the optical axis)."""
    (cx, cy), f = camera["principal_point"], camera["focal_px"]
    vx, vy = camera["vertical_vanishing_point"]
    down = np.array([(vx - cx) / f, (vy - cy) / f, 1.0])
    down /= np.linalg.norm(down)
    z = np.array([0.0, 0.0, 1.0])
    fwd = z - (z @ down) * down
    fwd /= np.linalg.norm(fwd)
    return down, fwd, np.cross(down, fwd)


def _ray(p, camera) -> np.ndarray:
    (cx, cy), f = camera["principal_point"], camera["focal_px"]
    return np.array([(p[0] - cx) / f, (p[1] - cy) / f, 1.0])


def ground_point(p, height: float, camera=CAMERA) -> np.ndarray:
    """Camera-frame point where pixel ``p`` (undistorted) meets the ground, ``height`` below."""
    down = axes(camera)[0]
    r = _ray(p, camera)
    return height * r / (r @ down)


def camera_height(mark: Mark, camera=CAMERA) -> float:
    """Camera height in units of the walker's height: the head, one walker height above the
    foot point on the ground, projects onto the marked head row."""
    down = axes(camera)[0]
    (cx, cy), f = camera["principal_point"], camera["focal_px"]
    foot, head = undistort(mark.foot, camera), undistort(mark.head, camera)

    def row_error(hc: float) -> float:
        p = ground_point(foot, hc, camera) - down
        return cy + f * p[1] / p[2] - head[1]

    lo, hi = 1.02, 500.0
    e_lo = row_error(lo)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        e = row_error(mid)
        if (e > 0) == (e_lo > 0):
            lo, e_lo = mid, e
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _slope(t: np.ndarray, x: np.ndarray) -> float:
    tc = t - t.mean()
    return float((tc * (x - x.mean())).sum() / (tc ** 2).sum())


def ground_velocity(walkers, camera=CAMERA, fps: float = FPS) -> dict:
    """Least-squares ground velocity in walker heights per second (couples: mean velocity over
    mean height), and per-walker tracks."""
    _, fwd, right = axes(camera)
    vel_cam, heights, tracks = [], [], []
    for marks in walkers:
        hc = float(np.mean([camera_height(m, camera) for m in marks]))
        t = np.array([m.frame for m in marks], float) / fps
        g = np.array([ground_point(undistort(m.foot, camera), 1.0, camera) for m in marks])  # camera heights
        xy = np.stack([g @ right, g @ fwd], 1)
        vel_cam.append([_slope(t, xy[:, 0]), _slope(t, xy[:, 1])])
        heights.append(1.0 / hc)
        tracks.append({"camera_height_in_walker_heights": round(hc, 3),
                       "ground_right_fwd_walker_heights": (xy * hc).round(3).tolist()})
    v = np.mean(vel_cam, axis=0) / np.mean(heights)
    return {"direction_deg": math.degrees(math.atan2(v[1], v[0])), "speed_bl_s": float(np.hypot(*v)),
            "velocity_right_fwd_bl_s": v.round(4).tolist(), "walkers": tracks}


def height_cross_check(walkers, camera=CAMERA, fps: float = FPS) -> dict:
    """Depth from apparent height (distance = f / pixel height, in walker heights) and lateral
    position from the foot's x at that distance; tilt ignored."""
    (cx, _), f = camera["principal_point"], camera["focal_px"]
    vs = []
    for marks in walkers:
        t = np.array([m.frame for m in marks], float) / fps
        foot = np.array([undistort(m.foot, camera) for m in marks])
        head = np.array([undistort(m.head, camera) for m in marks])
        h = np.linalg.norm(foot - head, axis=1)
        depth = f / h
        lateral = (foot[:, 0] - cx) / h
        vs.append([_slope(t, lateral), _slope(t, depth)])
    v = np.mean(vs, axis=0)
    return {"direction_deg": round(math.degrees(math.atan2(v[1], v[0])), 1),
            "speed_bl_s": round(float(np.hypot(*v)), 3),
            "note": "noisier than the ground track: the apparent height swings by a few per cent "
                    "over the gait cycle, and the tilt of the camera is ignored"}


def derive_truth(clip: Clip, camera=CAMERA) -> dict:
    main = ground_velocity(clip.walkers, camera)
    sens = {}
    for s in FOCAL_RANGE:
        cam = {**camera, "focal_px": camera["focal_px"] * s}
        r = ground_velocity(clip.walkers, cam)
        sens[f"focal_x{s:.2f}"] = {"focal_px": round(cam["focal_px"]), "direction_deg": round(r["direction_deg"], 1),
                                   "speed_bl_s": round(r["speed_bl_s"], 3)}
    return {"ground": main, "height_cross_check": height_cross_check(clip.walkers, camera),
            "sensitivity": sens}


def truth_doc(clip: Clip, vtest_sha256: str | None = None) -> dict:
    x0, y0, x1, y1 = clip.crop
    derived = derive_truth(clip)
    g = derived["ground"]
    lo = min(v["speed_bl_s"] for v in derived["sensitivity"].values())
    hi = max(v["speed_bl_s"] for v in derived["sensitivity"].values())
    dirs = [v["direction_deg"] for v in derived["sensitivity"].values()]

    def mark_doc(m: Mark) -> dict:
        return {"frame": m.frame, "clip_frame": m.frame - clip.start,
                "head_top": list(m.head), "feet": [list(p) for p in m.feet],
                "foot_point": [round(v, 2) for v in m.foot],
                "head_top_in_clip": [round(m.head[0] - x0, 2), round(m.head[1] - y0, 2)],
                "foot_point_in_clip": [round(m.foot[0] - x0, 2), round(m.foot[1] - y0, 2)],
                "pixel_height": round(m.foot[1] - m.head[1], 1)}

    return {
        "name": clip.name,
        "subject": "human" if len(clip.walkers) == 1 else "two humans walking together",
        "walker": clip.walker,
        "motion": clip.motion,
        "camera": "fixed",
        "background": "real",
        "source": {**SOURCE, **({"sha256": vtest_sha256} if vtest_sha256 else {})},
        "source_frames": {"start": clip.start, "stop": clip.stop},
        "crop": {"x0": x0, "y0": y0, "x1": x1, "y1": y1},
        "fps": FPS,
        "frames": clip.stop - clip.start,
        "seconds": round((clip.stop - clip.start) / FPS, 2),
        "size": [x1 - x0, y1 - y0],
        "body_length_def": "the walker's height (top of head to the ground) as seen while walking; "
                           "couple: the mean of the two",
        "marks_coordinates": "full-frame vtest.avi pixels (x right, y down) unless '_in_clip'",
        "marks": [[mark_doc(m) for m in marks] for marks in clip.walkers],
        "how_checked": (
            "Hand-marked: the clip's frames were written as zoomed PNGs (3-5x) with a pixel grid "
            "and looked at one by one; on the five listed frames the top of the head and the "
            "bottom of each visible shoe were read off (about +-1.5 px). The values below are "
            "computed from those marks and the camera model only; the extractor's output was not "
            "used. " + clip.notes),
        "camera_model": {**CAMERA, "how": "tools/make_real_clips.py --calibrate: k1 from the "
                         "curvature of the building's window sill, vertical vanishing point from "
                         "57 building edges, focal length from walkers' constant height (see the "
                         "tool's docstring)"},
        "derived": derived,
        "truth": {
            "direction_deg": round(g["direction_deg"], 1),
            "speed_bl_s": round(g["speed_bl_s"], 3),
            "airborne_fraction": 0.0,
            "camera_motion": "fixed",
        },
        "tolerance": {
            "direction_deg": DIRECTION_TOL_DEG,
            "speed_rel": SPEED_TOL,
            "note": (f"Issue tolerances: direction within {DIRECTION_TOL_DEG:.0f} degrees, speed "
                     f"within {SPEED_TOL:.0%}. Uncertainty of this truth: marks +-1.5 px; the "
                     f"focal length +-15 % moves it to {min(dirs):.0f}..{max(dirs):.0f} degrees "
                     f"and {lo:.2f}..{hi:.2f} body lengths/s. airborne_fraction is 0 by "
                     "definition of walking (a foot is always on the ground). Speeds are per "
                     "second of the file's 10 fps time line."),
        },
        "made_by": "tools/make_real_clips.py",
    }


# --- calibration ----------------------------------------------------------------------------------

def _median_background(frames: np.ndarray) -> np.ndarray:
    return np.median(frames[::7], axis=0).astype(np.uint8)


def calibrate(frames: np.ndarray) -> dict:
    """Re-measure the camera model from the footage (prints and returns it)."""
    import cv2

    bg = _median_background(frames)
    grey = bg.astype(float).mean(-1)
    (cx, cy) = CAMERA["principal_point"]
    # k1: curvature of the window sill's lower edge (bright sill above darker windows)
    pts = []
    for x in [x for x in range(332, 568) if not 392 <= x <= 445]:  # lamp head in front
        d = np.diff(grey[24:40, x])
        i = int(np.argmax(d))
        if 0 < i < len(d) - 1:
            a, b, c = d[i - 1], d[i], d[i + 1]
            den = a - 2 * b + c
            pts.append((x, 24 + i + 0.5 + (0.5 * (a - c) / den if den else 0.0), b))
    pts = np.array(pts)
    pts = pts[pts[:, 2] > np.percentile(pts[:, 2], 30)]
    xx = pts[:, 0] - cx
    coef = np.linalg.lstsq(np.stack([np.ones_like(xx), xx, xx * xx], 1), pts[:, 1], rcond=None)[0]
    k1 = 2 * coef[2] / (-2 * (coef[0] - cy))
    # vertical vanishing point from near-vertical segments in the upper rows (not the lamp post)
    g2 = cv2.resize(cv2.cvtColor(bg, cv2.COLOR_RGB2GRAY), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    seg = cv2.createLineSegmentDetector(cv2.LSD_REFINE_ADV).detect(g2)[0].reshape(-1, 4) / 2
    keep = []
    for x1, y1, x2, y2 in seg:
        n = math.hypot(x2 - x1, y2 - y1)
        if n >= 18 and abs(x2 - x1) < 0.12 * abs(y2 - y1) and min(y1, y2) < 120 and not (415 < x1 < 440 and min(y1, y2) > 90):
            keep.append((x1, y1, x2, y2, n))
    seg = np.array(keep)
    cam = {**CAMERA, "k1_per_px2": float(k1)}
    p1, p2 = undistort(seg[:, 0:2], cam), undistort(seg[:, 2:4], cam)
    s = (p2[:, 0] - p1[:, 0]) / (p2[:, 1] - p1[:, 1])
    xm, ym, w = (p1[:, 0] + p2[:, 0]) / 2, (p1[:, 1] + p2[:, 1]) / 2, seg[:, 4]
    best = None
    for yv in np.linspace(1500, 20000, 3701):
        a, b = 1 / (yv - ym), -xm / (yv - ym)
        xv = float(np.sum(w * a * (s - b)) / np.sum(w * a * a))
        res = float(np.sum(w * (s - (a * xv + b)) ** 2))
        if best is None or res < best[0]:
            best = (res, xv, float(yv))
    cam["vertical_vanishing_point"] = [round(best[1]), round(best[2] / 10) * 10]
    # focal length: walkers' camera height (in their own height) constant over their marks
    walkers = [marks for clip in CLIPS for marks in clip.walkers]
    fit = None
    for f in np.arange(900.0, 2000.0, 10.0):
        c2 = {**cam, "focal_px": f}
        spread = sum(float(((lg - lg.mean()) ** 2).sum())
                     for lg in (np.log([camera_height(m, c2) for m in marks]) for marks in walkers))
        if fit is None or spread < fit[0]:
            fit = (spread, f)
    n = sum(len(m) for m in walkers) - len(walkers)
    cam["focal_px"] = fit[1]
    down = axes(cam)[0]
    hc = [float(np.mean([camera_height(m, cam) for m in marks])) for marks in walkers]
    out = {"k1_per_px2": float(f"{k1:.2g}"), "vertical_vanishing_point": cam["vertical_vanishing_point"],
           "vertical_segments": len(seg), "focal_px": fit[1],
           "walker_height_spread_pct": round(100 * math.sqrt(fit[0] / n), 2),
           "tilt_down_deg": round(math.degrees(math.asin(down[2])), 1),
           "roll_deg": round(math.degrees(math.atan2(down[0], down[1])), 1),
           "camera_height_in_walker_heights": [round(v, 2) for v in hc]}
    print(json.dumps(out, indent=2))
    return out


# --- output -------------------------------------------------------------------------------------------

def find_vtest(path: str | None) -> Path:
    if path:
        p = Path(path)
        if not p.is_file():
            raise SystemExit(f"{p}: no such file")
        return p
    for p in VTEST_CANDIDATES:
        if p.is_file():
            return p
    raise SystemExit("vtest.avi not found; extract it with\n  cd /tmp && apt-get download opencv-doc && "
                     "dpkg-deb -x opencv-doc_*.deb /tmp/opencvdoc\nor pass --vtest PATH")


def write_marked_frames(frames: np.ndarray, out: Path, only) -> None:
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    for clip in CLIPS:
        if only and clip.name not in only:
            continue
        x0, y0, x1, y1 = clip.crop
        for k in range(len(clip.walkers[0])):
            frame_no = clip.walkers[0][k].frame
            img = np.ascontiguousarray(frames[frame_no][y0:y1, x0:x1, ::-1])
            img = cv2.resize(img, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
            for marks in clip.walkers:
                m = marks[k]
                for p, col in [(m.head, (0, 255, 255))] + [(q, (255, 0, 255)) for q in m.feet] + [(m.foot, (0, 0, 255))]:
                    cv2.circle(img, (int(round((p[0] - x0) * 3)), int(round((p[1] - y0) * 3))), 4, col, 1)
            cv2.putText(img, f"{clip.name} frame {frame_no}", (4, 16), 0, 0.45, (255, 255, 255), 1)
            cv2.imwrite(str(out / f"{clip.name}_{frame_no}.png"), img)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vtest", help="path of vtest.avi (default: the extracted opencv-doc package)")
    ap.add_argument("--out", default=str(OUT_DIR))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--truth-only", action="store_true", help="rewrite the truth files only (no video)")
    ap.add_argument("--calibrate", action="store_true", help="re-measure the camera model and print it")
    ap.add_argument("--mark-frames", metavar="DIR", help="write the marked frames with the marks drawn")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clips = [c for c in CLIPS if not args.only or c.name in args.only]
    if args.truth_only:
        for clip in clips:
            path = out / f"{clip.name}.truth.json"
            old = json.loads(path.read_text()) if path.exists() else {}
            doc = truth_doc(clip, old.get("source", {}).get("sha256"))
            for key in ("clip_sha256", "clip_bytes"):
                if key in old:
                    doc[key] = old[key]
            path.write_text(json.dumps(doc, indent=2) + "\n")
            print(f"{path.name}: direction {doc['truth']['direction_deg']:.0f} deg, speed {doc['truth']['speed_bl_s']:.2f} bl/s")
        return 0
    vtest = find_vtest(args.vtest)
    frames, fps = read_video(vtest, max_frames=max(c.stop for c in CLIPS) if not args.calibrate else None)
    if abs(fps - FPS) > 1e-6 or frames.shape[1:3] != (576, 768):
        raise SystemExit(f"{vtest}: expected 768x576 at 10 fps, got {frames.shape[2]}x{frames.shape[1]} at {fps}")
    if args.calibrate:
        calibrate(frames)
        return 0
    if args.mark_frames:
        write_marked_frames(frames, Path(args.mark_frames), args.only)
        return 0
    digest = sha256_file(vtest)
    for clip in clips:
        x0, y0, x1, y1 = clip.crop
        mp4 = out / f"{clip.name}.mp4"
        write_video(mp4, frames[clip.start:clip.stop, y0:y1, x0:x1], FPS, crf=CRF)
        doc = truth_doc(clip, digest)
        doc["clip_sha256"] = sha256_file(mp4)
        doc["clip_bytes"] = mp4.stat().st_size
        (out / f"{clip.name}.truth.json").write_text(json.dumps(doc, indent=2) + "\n")
        print(f"{mp4.name}: {x1 - x0}x{y1 - y0}, {clip.stop - clip.start} frames, {doc['clip_bytes'] // 1024} KiB; "
              f"truth direction {doc['truth']['direction_deg']:.0f} deg, speed {doc['truth']['speed_bl_s']:.2f} bl/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
