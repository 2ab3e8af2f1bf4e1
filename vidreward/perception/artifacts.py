"""What a reviewer sees of a measurement: the per-frame track CSV and the storyboard overlay
(subject box, motion over the ground, camera motion)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from vidreward.perception.camera import CameraMotion
from vidreward.perception.ground import GroundTrack
from vidreward.perception.segment import SubjectTrack

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
