"""Ground-truth clip suite for testing camera-motion-robust motion-evidence extraction.

Each clip is a short MuJoCo offscreen rendering (default 320x240, 30 fps, 6 s) of one subject, a
scripted quadruped or a real human motion-capture body, seen by one camera (fixed, panning, tracking,
shaky hand-held, zoom) over one background (plain, checkered, cluttered). The renderer knows every
pose, so the true motion descriptors are exact: they are measured on the rendered kinematics (the
MuJoCo body and geom positions after forward kinematics, or the mocap joint positions the human
capsules are drawn from), not copied from the script.

Run ``python tools/make_motion_suite.py --out data/motion_suite`` to write the whole suite.

World and camera conventions
----------------------------
World z is up, the floor is the plane z = 0. Every camera starts looking along world +y (its
horizontal right is world +x) and looks down 30 degrees. Headings in the specs are in that frame:
0 = screen right, 90 = away from the camera, -90 = toward it.

* ``fixed``: position and orientation constant, aimed at the middle of the subject's path, far
  enough away that the whole path stays in view.
* ``panning``: position constant; the yaw follows the subject (pitch constant).
* ``tracking``: the camera translates with the subject's (smoothed) horizontal position at a
  constant offset, orientation constant: the subject stays near the image centre, the floor scrolls.
* ``shaky``: tracking plus smooth random jitter (sum of sinusoids 0.3-2.5 Hz): position about 3 cm
  RMS per axis, yaw/pitch/roll about 1.2 degrees RMS.
* ``zoom``: fixed position and orientation, vertical field of view easing from 50 to 26 degrees.

Files per clip
--------------
``<name>.mp4`` (H.264), ``<name>.truth.json`` (the contract below) and ``<name>.truth.npz`` (the
exact per-frame world trajectory, for debugging: ``t`` [T] s, ``root_pos`` [T,3] m (quadruped torso
centre, human hips), ``yaw`` [T] rad (body heading, counter-clockwise from world +x),
``torso_height`` [T] m, ``foot_heights`` [T,F] m (lowest point of each foot above the floor),
``cam_pos`` [T,3], ``cam_mat`` [T,3,3] (columns: camera right, up, backward, in world frame),
``cam_fovy`` [T] degrees, ``subject_px`` [T,2] (root projected to pixels, x right, y down; NaN
behind the camera)).

Truth contract (``<name>.truth.json``)
--------------------------------------
Top level: ``name``, ``subject`` ("quadruped" | "human"), ``motion``, ``camera`` ("fixed" |
"panning" | "tracking" | "shaky" | "zoom"), ``background`` ("plain" | "checkered" | "cluttered"),
``fps``, ``seconds`` (actual clip length: human clips are capped by the mocap segment), ``frames``,
``size`` [w, h], ``body_length_m``, ``body_length_def``, ``spec`` (the scripted parameters, for
reference only), ``source`` (human clips: mocap origin), and ``truth``:

* ``direction_deg``: travel direction on the ground as seen from the camera, degrees, 0 = screen
  right, 90 = away from the camera, -90 = toward it, +-180 = screen left. Per frame the horizontal
  root velocity ``v`` (central difference over +-0.25 s) is projected on the camera's horizontal
  right and forward axes of that frame; the two projections are averaged over the clip and
  ``direction = atan2(mean(v.forward_h), mean(v.right_h))``. For a fixed camera this is the
  direction of the mean ground velocity. ``null`` when ``speed_bl_s < 0.05``.
* ``speed_bl_s``: mean over frames of ``|v|`` (same ``v``) divided by ``body_length_m``.
* ``turn_rate_deg_s``: least-squares slope of the unwrapped body yaw, degrees/s, positive =
  counter-clockwise seen from above. Quadruped yaw: torso heading; human yaw: the direction
  perpendicular to the left-right hip axis.
* ``bounce_amplitude_bl``: half the peak-to-peak of the torso height (quadruped torso centre, human
  hips) after removing a linear trend, divided by ``body_length_m``.
* ``bounce_frequency_hz``: dominant frequency of that detrended height (peak of a fine-grid
  periodogram between max(0.3, 1.5/seconds) and 6 Hz); 0 when ``bounce_amplitude_bl < 0.02``.
* ``airborne_fraction``: fraction of frames in which every foot is more than 2 cm above the floor
  (quadruped: lowest point of each of the 4 foot spheres; human: each foot's height is the minimum
  over its ankle, toe base and toe tip of (joint height - that joint's height standing still), so
  a foot resting on heel or toes counts as on the ground).
* ``cadence_hz``: stride frequency of the limbs: the dominant frequency of the feet's positions in
  the body frame (relative to the root, rotated by the body yaw), combined periodogram of all feet
  and axes; ``null`` when the limbs do not cycle (best sinusoid amplitude < 0.02 body lengths or it
  explains < 25 % of the foot motion's variance).
* ``height_ratio``: median torso height / standing torso height (quadruped: torso height in the
  neutral standing pose; human: median hips height while standing still at the start of CMU take
  01_01, same subject).
* ``axis_motion``: "forward" | "backward" | "sideways" | "none": the mean velocity in the body frame
  (forward = body heading) within 45 degrees of forward, of backward, or otherwise sideways;
  "none" when ``speed_bl_s < 0.05``.
* ``camera_motion``: same as ``camera``.

``body_length_m``: quadruped: the longest horizontal extent in the neutral standing pose (nose to
tail tip, legs included); human: standing height (floor to top of head) while standing still.

Quadruped: a kinematic puppet built here (ellipsoid torso, head, neck, tail, four legs of two
capsules with hip roll, hip pitch and knee hinges). Feet are planned on the ground: each stance
foot stays at a world footfall (under its hip at mid-stance), swing feet move between footfalls on a
raised arc, and two-link inverse kinematics gives the joint angles; the pronk/hop body follows a
ballistic flight. Human: CMU motion capture (``data/motion/*.npz``, see ``data/motion/SOURCES.md``)
drawn as capsules added to the MuJoCo scene.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

import vidreward  # noqa: F401  (sets MUJOCO_GL before the first import of mujoco)
import mujoco  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MOTION_DIR = ROOT / "data" / "motion"

CAMERAS = ("fixed", "panning", "tracking", "shaky", "zoom")
BACKGROUNDS = ("plain", "checkered", "cluttered")
SUBJECTS = ("quadruped", "human")

ELEVATION_DEG = 30.0
FOVY_DEG = 45.0
ZOOM_FOVY = (50.0, 26.0)
AIRBORNE_M = 0.02
STILL_BL_S = 0.05
BOUNCE_MIN_BL = 0.02
VEL_HALF_WINDOW_S = 0.25
GRAVITY = 9.81

# --- quadruped geometry (metres) ---------------------------------------------------------------
Q_TORSO = (0.30, 0.12, 0.09)  # ellipsoid half sizes
Q_HIP = (0.22, 0.10, -0.04)  # hip offset from torso centre (x, |y|, z)
Q_L1, Q_L2 = 0.20, 0.20  # upper / lower leg
Q_R1, Q_R2 = 0.038, 0.026  # capsule radii
Q_FOOT_R = 0.03
Q_STAND_LEG = 0.33  # vertical hip-to-foot-centre distance in the neutral pose
Q_FOOT_OUT = 0.02  # nominal foot lateral offset outside the hip
Q_STAND_Z = Q_FOOT_R + Q_STAND_LEG - Q_HIP[2]  # torso centre height standing
LEGS = ("LF", "RF", "LH", "RH")
LEG_SIGN = {"LF": (1, 1), "RF": (1, -1), "LH": (-1, 1), "RH": (-1, -1)}
Q_COLORS = {
    "torso": (0.50, 0.37, 0.27, 1), "head": (0.44, 0.33, 0.25, 1), "leg": (0.40, 0.36, 0.33, 1),
    "foot": (0.25, 0.23, 0.22, 1),
}

# Gaits: phase offsets (fraction of a stride at which each leg's stance starts), stance duty
# factor, swing lift (m), vertical bounce amplitude (m, at twice the stride frequency).
GAITS: dict[str, dict[str, Any]] = {
    "walk": {"offsets": {"LH": 0.0, "LF": 0.25, "RH": 0.5, "RF": 0.75}, "duty": 0.70, "lift": 0.07,
             "bounce": 0.006},
    "trot": {"offsets": {"LF": 0.0, "RH": 0.0, "RF": 0.5, "LH": 0.5}, "duty": 0.50, "lift": 0.08,
             "bounce": 0.025},
    # pronk: negative lift = the legs stretch down in flight (feet stay >= half the body's rise up)
    "pronk": {"offsets": {"LF": 0.0, "RF": 0.0, "LH": 0.0, "RH": 0.0}, "duty": 0.40, "lift": -0.05,
              "bounce": 0.0, "dip": 0.04},
}

# --- human drawing (metres) --------------------------------------------------------------------
H_FOOT_R, H_TOE_R = 0.045, 0.03
H_SHIRT = (0.42, 0.44, 0.50, 1)
H_TROUSERS = (0.36, 0.30, 0.25, 1)
H_SKIN = (0.76, 0.60, 0.50, 1)
H_SHOE = (0.20, 0.19, 0.20, 1)
# (from joint, to joint, radius, colour); a joint name with "@a:b:f" means a + f * (b - a)
H_BONES: tuple[tuple[str, str, float, tuple], ...] = (
    ("LeftUpLeg", "RightUpLeg", 0.10, H_TROUSERS),
    ("Hips", "Spine", 0.125, H_SHIRT),
    ("Spine", "Spine1", 0.13, H_SHIRT),
    ("LeftArm", "RightArm", 0.065, H_SHIRT),
    ("Spine1", "Neck1", 0.05, H_SKIN),
    ("Neck1", "Head", 0.05, H_SKIN),
    ("@Head:Head_end:0.25", "@Head:Head_end:0.7", 0.095, H_SKIN),
    ("LeftShoulder", "LeftArm", 0.06, H_SHIRT),
    ("RightShoulder", "RightArm", 0.06, H_SHIRT),
    ("LeftArm", "LeftForeArm", 0.05, H_SHIRT),
    ("RightArm", "RightForeArm", 0.05, H_SHIRT),
    ("LeftForeArm", "LeftHand", 0.04, H_SKIN),
    ("RightForeArm", "RightHand", 0.04, H_SKIN),
    ("LeftHand", "@LeftHand:LeftForeArm:-0.45", 0.035, H_SKIN),
    ("RightHand", "@RightHand:RightForeArm:-0.45", 0.035, H_SKIN),
    ("LeftUpLeg", "LeftLeg", 0.075, H_TROUSERS),
    ("RightUpLeg", "RightLeg", 0.075, H_TROUSERS),
    ("LeftLeg", "LeftFoot", 0.055, H_TROUSERS),
    ("RightLeg", "RightFoot", 0.055, H_TROUSERS),
    ("LeftFoot", "LeftToeBase", H_FOOT_R, H_SHOE),
    ("RightFoot", "RightToeBase", H_FOOT_R, H_SHOE),
    ("LeftToeBase", "LeftToeBase_end", H_TOE_R, H_SHOE),
    ("RightToeBase", "RightToeBase_end", H_TOE_R, H_SHOE),
)
H_HEAD_TOP = ("Head", "Head_end", 0.7, 0.095)  # head capsule top end and radius
H_FEET = {"L": ("LeftFoot", "LeftToeBase", "LeftToeBase_end"),
          "R": ("RightFoot", "RightToeBase", "RightToeBase_end")}


@dataclass(frozen=True)
class ClipSpec:
    """One clip of the suite. Quadruped fields are the script; human clips name a mocap segment."""

    name: str
    subject: str
    motion: str
    camera: str
    background: str
    heading_deg: float = 0.0  # initial body heading (camera frame, see module docstring)
    gait: str = "walk"
    cadence_hz: float = 1.2  # stride frequency
    v_forward: float = 0.0  # m/s along the body heading (negative: backward)
    v_side: float = 0.0  # m/s to the body's left (negative: to its right)
    yaw_rate_deg_s: float = 0.0
    height_scale: float = 1.0  # leg extension relative to the neutral stance (crawl < 1)
    lift: float | None = None  # swing lift override (m)
    mocap: str | None = None  # human: npz stem in data/motion/
    mocap_start_s: float = 0.0  # human: start time within the npz
    mocap_max_s: float | None = None  # human: longest usable segment from the start
    seed: int | None = None
    notes: str = ""

    def __post_init__(self):
        if self.subject not in SUBJECTS:
            raise ValueError(f"{self.name}: subject {self.subject!r} not in {SUBJECTS}")
        if self.camera not in CAMERAS:
            raise ValueError(f"{self.name}: camera {self.camera!r} not in {CAMERAS}")
        if self.background not in BACKGROUNDS:
            raise ValueError(f"{self.name}: background {self.background!r} not in {BACKGROUNDS}")
        if self.subject == "quadruped" and self.gait not in GAITS:
            raise ValueError(f"{self.name}: gait {self.gait!r} not in {tuple(GAITS)}")
        if self.subject == "human" and not self.mocap:
            raise ValueError(f"{self.name}: human clips need a mocap segment")

    @property
    def rng_seed(self) -> int:
        return self.seed if self.seed is not None else zlib.crc32(self.name.encode())


Q = "quadruped"
SPECS: tuple[ClipSpec, ...] = (
    ClipSpec("quad_walk_fixed_plain", Q, "walk", "fixed", "plain", heading_deg=0, gait="walk",
             cadence_hz=1.25, v_forward=0.5),
    ClipSpec("quad_walk_shaky_cluttered", Q, "walk", "shaky", "cluttered", heading_deg=180,
             gait="walk", cadence_hz=1.2, v_forward=0.5),
    ClipSpec("quad_walk_zoom_checkered", Q, "walk", "zoom", "checkered", heading_deg=0, gait="walk",
             cadence_hz=1.0, v_forward=0.3),
    ClipSpec("quad_trot_tracking_checkered", Q, "trot", "tracking", "checkered", heading_deg=180,
             gait="trot", cadence_hz=2.0, v_forward=1.0),
    ClipSpec("quad_trot_panning_plain", Q, "trot", "panning", "plain", heading_deg=15, gait="trot",
             cadence_hz=1.9, v_forward=0.8),
    ClipSpec("quad_trot_fixed_cluttered", Q, "trot", "fixed", "cluttered", heading_deg=135,
             gait="trot", cadence_hz=1.8, v_forward=0.6),
    ClipSpec("quad_pronk_tracking_cluttered", Q, "pronk", "tracking", "cluttered", heading_deg=0,
             gait="pronk", cadence_hz=1.6, v_forward=0.7,
             notes="flight 0.375 s per 0.625 s stride, ballistic apex 0.17 m"),
    ClipSpec("quad_hop_fixed_checkered", Q, "hop", "fixed", "checkered", heading_deg=30,
             gait="pronk", cadence_hz=1.8,
             notes="pronking in place: flight 0.333 s per 0.556 s stride, apex 0.14 m"),
    ClipSpec("quad_sidestep_fixed_checkered", Q, "sidestep", "fixed", "checkered", heading_deg=120,
             gait="walk", cadence_hz=1.2, v_side=-0.3, lift=0.06,
             notes="travels to the body's right (heading 120 - 90 = 30 degrees)"),
    ClipSpec("quad_turn_ccw_fixed_plain", Q, "turn", "fixed", "plain", heading_deg=0, gait="walk",
             cadence_hz=1.4, yaw_rate_deg_s=50.0),
    ClipSpec("quad_turn_cw_shaky_checkered", Q, "turn", "shaky", "checkered", heading_deg=60,
             gait="trot", cadence_hz=1.8, yaw_rate_deg_s=-60.0),
    ClipSpec("quad_backward_panning_checkered", Q, "backward", "panning", "checkered", heading_deg=0,
             gait="walk", cadence_hz=1.1, v_forward=-0.35),
    ClipSpec("quad_crawl_tracking_plain", Q, "crawl", "tracking", "plain", heading_deg=-20,
             gait="walk", cadence_hz=0.9, v_forward=0.3, height_scale=0.6, lift=0.045),
    ClipSpec("quad_toward_fixed_cluttered", Q, "toward", "fixed", "cluttered", heading_deg=-90,
             gait="walk", cadence_hz=1.25, v_forward=0.5),
    ClipSpec("quad_away_tracking_checkered", Q, "away", "tracking", "checkered", heading_deg=90,
             gait="trot", cadence_hz=1.9, v_forward=0.8),
    ClipSpec("human_jumps_tracking_cluttered", "human", "jumps", "tracking", "cluttered",
             heading_deg=0, mocap="cmu_01_01", mocap_start_s=0.3,
             notes="CMU 01_01 forward two-footed jumps (take 1.3-7.3 s)"),
    ClipSpec("human_jumps_panning_checkered", "human", "jumps", "panning", "checkered",
             heading_deg=180, mocap="cmu_01_01", mocap_start_s=9.1,
             notes="CMU 01_01 jumps back after the turn (take 10.1-16.1 s)"),
    ClipSpec("human_turn_fixed_plain", "human", "turn", "fixed", "plain", heading_deg=-90,
             mocap="cmu_01_01", mocap_start_s=6.4, mocap_max_s=3.0,
             notes="CMU 01_01 turning around on the spot (take 7.4-10.4 s); at most 3 s"),
    ClipSpec("human_walk_fixed_checkered", "human", "walk", "fixed", "checkered", heading_deg=180,
             mocap="cmu_01_03", mocap_start_s=0.25, mocap_max_s=2.25,
             notes="CMU 01_03 walking on a curve (take 0.25-2.5 s); at most 2.25 s"),
)


def get_spec(name: str) -> ClipSpec:
    for s in SPECS:
        if s.name == name:
            return s
    raise KeyError(f"no clip spec named {name!r}; known: {', '.join(s.name for s in SPECS)}")


# =================================================================================================
# Small math helpers
# =================================================================================================

def _rotz(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, float)
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def _mat2quat(mat: np.ndarray) -> np.ndarray:
    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, np.ascontiguousarray(mat, dtype=np.float64).ravel())
    return q


def _euler_small(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation in the camera's own frame: yaw about its up (y), pitch about right (x), roll about z."""
    cy, sy, cp, sp, cr, sr = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch), \
        math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return ry @ rx @ rz


def _look_mat(forward: np.ndarray) -> np.ndarray:
    """Camera matrix (columns right, up, backward) looking along ``forward``, no roll."""
    f = forward / np.linalg.norm(forward)
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    return np.stack([right, up, -f], axis=1)


def _smooth(x: np.ndarray, n: int) -> np.ndarray:
    """Moving average along axis 0 with edge padding (window ``n`` samples, odd)."""
    if n <= 1:
        return x.copy()
    n = n | 1
    pad = np.concatenate([np.repeat(x[:1], n // 2, 0), x, np.repeat(x[-1:], n // 2, 0)], 0)
    c = np.cumsum(np.concatenate([np.zeros_like(x[:1]), pad], 0), axis=0)
    return (c[n:] - c[:-n]) / n


def _detrend(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    a = np.vstack([t, np.ones_like(t)]).T
    coef, *_ = np.linalg.lstsq(a, x, rcond=None)
    return x - a @ coef


def _periodogram(signals: np.ndarray, t: np.ndarray, fmin: float, fmax: float = 6.0,
                 step: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """Fine-grid periodogram summed over columns of ``signals`` [T, K] (each detrended)."""
    freqs = np.arange(fmin, fmax + 1e-9, step)
    x = np.stack([_detrend(s, t) for s in np.atleast_2d(signals.T)], 1)  # [T, K]
    e = np.exp(-2j * np.pi * np.outer(freqs, t))  # [F, T]
    power = (np.abs(e @ x) ** 2).sum(1) * (2.0 / len(t)) ** 2  # amplitude^2 of a sinusoid
    return freqs, power


def _fmin(seconds: float) -> float:
    return max(0.3, 1.5 / seconds)


def _dominant_frequency(x: np.ndarray, t: np.ndarray) -> float:
    freqs, power = _periodogram(x[:, None], t, _fmin(t[-1] - t[0] + (t[1] - t[0])))
    return float(freqs[int(np.argmax(power))])


# =================================================================================================
# Subject kinematics
# =================================================================================================

@dataclass
class Kinematics:
    """Per-frame subject state used to build the camera path and clutter (before rendering)."""

    t: np.ndarray  # [T]
    track: np.ndarray  # [T, 2] smoothed horizontal position the cameras follow
    qpos: np.ndarray | None = None  # quadruped [T, nq]
    joints: np.ndarray | None = None  # human joint world positions [T, J, 3]
    joint_names: list[str] = field(default_factory=list)
    target_z: float = 0.4  # height the cameras aim at
    body_length: float = 1.0
    body_length_def: str = ""
    standing_torso_z: float = 1.0
    source: str = ""
    extra: dict = field(default_factory=dict)


class _QuadScript:
    """Analytic root path and body height of a scripted quadruped."""

    def __init__(self, spec: ClipSpec, seconds: float):
        self.spec = spec
        g = GAITS[spec.gait]
        self.duty = g["duty"]
        self.offsets = g["offsets"]
        self.lift = spec.lift if spec.lift is not None else g["lift"]
        self.f = spec.cadence_hz
        self.yaw0 = math.radians(spec.heading_deg)
        self.omega = math.radians(spec.yaw_rate_deg_s)
        self.vc = complex(spec.v_forward, spec.v_side)
        self.stand_z = Q_FOOT_R + spec.height_scale * Q_STAND_LEG - Q_HIP[2]
        self.pronk = spec.gait == "pronk"
        self.flight = (1.0 - self.duty) / self.f
        self.v0 = GRAVITY * self.flight / 2.0
        self.apex = GRAVITY * self.flight ** 2 / 8.0
        self.offset = 0j
        mid = self.xy(np.array([seconds / 2.0]))[0]  # centre the path on the origin
        self.offset = -complex(*mid)

    def yaw(self, t):
        return self.yaw0 + self.omega * np.asarray(t, float)

    def xy(self, t) -> np.ndarray:
        t = np.asarray(t, float)
        if abs(self.omega) < 1e-12:
            p = self.vc * np.exp(1j * self.yaw0) * t
        else:
            p = self.vc * (np.exp(1j * self.yaw(t)) - np.exp(1j * self.yaw0)) / (1j * self.omega)
        p = p + self.offset
        return np.stack([p.real, p.imag], -1)

    def rise(self, t) -> np.ndarray:
        """Torso height above the stance height (pronk: ballistic flights and stance dips)."""
        t = np.asarray(t, float)
        if self.pronk:
            phase = self.f * t
            loc = phase - np.floor(phase)
            tau = (loc - self.duty) / self.f
            flight = self.v0 * tau - 0.5 * GRAVITY * tau ** 2
            dip = -GAITS["pronk"]["dip"] * np.sin(np.pi * np.clip(loc / self.duty, 0, 1))
            return np.where(loc < self.duty, dip, flight)
        return GAITS[self.spec.gait]["bounce"] * np.cos(4 * np.pi * self.f * t)

    def flight_rise(self, t) -> np.ndarray:
        return np.maximum(self.rise(t), 0.0) if self.pronk else np.zeros_like(np.asarray(t, float))

    def nominal_foot(self, leg: str) -> np.ndarray:
        sx, sy = LEG_SIGN[leg]
        return np.array([sx * Q_HIP[0], sy * (Q_HIP[1] + Q_FOOT_OUT)])

    def footfall(self, leg: str, k: np.ndarray) -> np.ndarray:
        """World xy of leg's foot during stance number ``k`` (array)."""
        tm = (k + self.duty / 2.0 - self.offsets[leg]) / self.f
        rot = _rotz(self.yaw(tm))[..., :2, :2]
        return self.xy(tm) + np.einsum("kij,j->ki", rot, self.nominal_foot(leg))

    def foot_world(self, leg: str, t: np.ndarray) -> np.ndarray:
        phase = self.f * t + self.offsets[leg]
        k = np.floor(phase)
        loc = phase - k
        stance = loc < self.duty
        u = np.clip((loc - self.duty) / (1.0 - self.duty), 0.0, 1.0)
        s = u * u * (3 - 2 * u)
        a, b = self.footfall(leg, k), self.footfall(leg, k + 1)
        xy = np.where(stance[:, None], a, a + (b - a) * s[:, None])
        rise = self.flight_rise(t)
        swing_z = self.lift * np.sin(np.pi * u) + rise
        if self.lift < 0:
            swing_z = np.maximum(swing_z, 0.5 * rise)
        z = Q_FOOT_R + np.where(stance, 0.0, swing_z)
        return np.concatenate([xy, z[:, None]], 1)


def _leg_ik(d: np.ndarray) -> np.ndarray:
    """Joint angles [.., 3] (hip roll, hip pitch, knee) putting the foot centre at ``d`` [.., 3]
    relative to the hip, in the torso frame. Knees bend backward."""
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    roll = np.arctan2(dy, -dz)
    rho = np.hypot(dy, dz)
    r = np.clip(np.hypot(dx, rho), 0.05, 0.999 * (Q_L1 + Q_L2))
    c2 = np.clip((r ** 2 - Q_L1 ** 2 - Q_L2 ** 2) / (2 * Q_L1 * Q_L2), -1.0, 1.0)
    knee = -np.arccos(c2)
    alpha = np.arctan2(-dx, rho)
    hip = alpha - np.arctan2(Q_L2 * np.sin(knee), Q_L1 + Q_L2 * np.cos(knee))
    return np.stack([roll, hip, knee], -1)


def _quad_qpos(script: _QuadScript, t: np.ndarray) -> np.ndarray:
    n = len(t)
    qpos = np.zeros((n, 7 + 3 * len(LEGS)))
    xy = script.xy(t)
    yaw = script.yaw(t)
    z = script.stand_z + script.rise(t)
    qpos[:, 0:2] = xy
    qpos[:, 2] = z
    qpos[:, 3] = np.cos(yaw / 2)
    qpos[:, 6] = np.sin(yaw / 2)
    rot_t = np.transpose(_rotz(yaw), (0, 2, 1))  # world -> body
    torso = np.concatenate([xy, z[:, None]], 1)
    for i, leg in enumerate(LEGS):
        sx, sy = LEG_SIGN[leg]
        hip = np.array([sx * Q_HIP[0], sy * Q_HIP[1], Q_HIP[2]])
        foot = script.foot_world(leg, t)
        d = np.einsum("tij,tj->ti", rot_t, foot - torso) - hip
        qpos[:, 7 + 3 * i: 10 + 3 * i] = _leg_ik(d)
    return qpos


def _quad_standing_qpos() -> np.ndarray:
    q = np.zeros(7 + 3 * len(LEGS))
    q[2] = Q_STAND_Z
    q[3] = 1.0
    for i, leg in enumerate(LEGS):
        sy = LEG_SIGN[leg][1]
        q[7 + 3 * i: 10 + 3 * i] = _leg_ik(np.array([0.0, sy * Q_FOOT_OUT, -Q_STAND_LEG]))
    return q


def _quad_kinematics(spec: ClipSpec, fps: float, seconds: float) -> Kinematics:
    n = int(round(seconds * fps))
    t = np.arange(n) / fps
    script = _QuadScript(spec, seconds)
    qpos = _quad_qpos(script, t)
    extra = {"stand_torso_z_scripted": script.stand_z}
    if script.pronk:
        extra.update(flight_time_s=script.flight, flight_apex_m=script.apex)
    return Kinematics(t=t, track=qpos[:, :2].copy(), qpos=qpos, target_z=Q_STAND_Z,
                      standing_torso_z=Q_STAND_Z, extra=extra)


def load_mocap(stem: str, motion_dir: Path | None = None) -> dict[str, Any]:
    """Shipped mocap segment ``data/motion/<stem>.npz`` (see data/motion/SOURCES.md)."""
    path = (motion_dir or MOTION_DIR) / f"{stem}.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: shipped mocap missing (regenerate with "
                                f"tools/make_motion_suite.py --extract-mocap)")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files} | {"path": str(path)}


def _joint(pos: np.ndarray, names: list[str], key: str) -> np.ndarray:
    """Positions [T, 3] of joint ``key`` or an interpolated point ``@a:b:f``."""
    if key.startswith("@"):
        a, b, f = key[1:].split(":")
        pa, pb = pos[:, names.index(a)], pos[:, names.index(b)]
        return pa + float(f) * (pb - pa)
    return pos[:, names.index(key)]


def human_yaw(pos: np.ndarray, names: list[str]) -> np.ndarray:
    """Body heading [T] (rad): perpendicular to the left-right hip axis, pointing forward."""
    lr = pos[:, names.index("LeftUpLeg")] - pos[:, names.index("RightUpLeg")]
    return np.unwrap(np.arctan2(-lr[:, 0], lr[:, 1]))


def human_foot_heights(pos: np.ndarray, names: list[str],
                       foot_ref: np.ndarray | None = None) -> np.ndarray:
    """Height [T, 2] of the left and right foot above the floor.

    With ``foot_ref`` ([2, 3]: standing-still heights of ankle, toe base and toe tip per side) a
    foot's height is min over its three joints of (joint height - standing height): 0 when any part
    of it is as low as when standing. Without it: the lowest point of the drawn foot capsules.
    """
    out = []
    for i, side in enumerate(("L", "R")):
        z = [pos[:, names.index(j), 2] for j in H_FEET[side]]
        if foot_ref is not None:
            out.append(np.min([zj - foot_ref[i, k] for k, zj in enumerate(z)], axis=0))
        else:
            out.append(np.minimum(np.minimum(z[0], z[1]) - H_FOOT_R, z[2] - H_TOE_R))
    return np.stack(out, 1)


def human_top(pos: np.ndarray, names: list[str]) -> np.ndarray:
    a, b, f, r = H_HEAD_TOP
    top = _joint(pos, names, f"@{a}:{b}:{f}")
    return top[:, 2] + r


def _human_kinematics(spec: ClipSpec, fps: float, seconds: float,
                      motion_dir: Path | None = None) -> Kinematics:
    mo = load_mocap(spec.mocap, motion_dir)
    names = [str(s) for s in mo["names"]]
    src_fps = float(mo["fps"])
    pos_all = mo["positions"].astype(np.float64)
    src_t = np.arange(len(pos_all)) / src_fps
    avail = src_t[-1] - spec.mocap_start_s
    if spec.mocap_max_s is not None:
        avail = min(avail, spec.mocap_max_s)
    seconds = min(seconds, avail)
    n = int(math.floor(seconds * fps + 1e-6))
    t = np.arange(n) / fps
    ts = spec.mocap_start_s + t
    flat = pos_all.reshape(len(pos_all), -1)
    pos = np.stack([np.interp(ts, src_t, flat[:, k]) for k in range(flat.shape[1])], 1)
    pos = pos.reshape(n, len(names), 3)
    # Rotate about z so the initial facing is spec.heading_deg; centre the path on the origin.
    yaw0 = float(np.median(human_yaw(pos[: max(int(0.5 * fps), 1)], names)))
    rot = _rotz(math.radians(spec.heading_deg) - yaw0)
    root = pos[:, names.index("Hips")]
    centre = np.array([(root[:, 0].min() + root[:, 0].max()) / 2,
                       (root[:, 1].min() + root[:, 1].max()) / 2, 0.0])
    pos = np.einsum("ij,tkj->tki", rot, pos - centre)
    root = pos[:, names.index("Hips")]
    track = _smooth(root[:, :2], int(round(fps)))
    return Kinematics(
        t=t, track=track, joints=pos, joint_names=names,
        target_z=0.9, body_length=float(mo["standing_height"]),
        body_length_def="standing height: floor to top of head while standing still (CMU 01_01)",
        standing_torso_z=float(mo["standing_hip_height"]),
        extra={"foot_ref": mo["foot_ref"]},
        source=str(mo["source"]) + f"; segment from {float(mo['take_start_s']) + spec.mocap_start_s:.2f} s "
                                   f"of the take, {seconds:.2f} s",
    )


# =================================================================================================
# Camera paths
# =================================================================================================

@dataclass
class CameraPath:
    pos: np.ndarray  # [T, 3]
    mat: np.ndarray  # [T, 3, 3] columns right, up, backward
    fovy: np.ndarray  # [T] degrees


def _jitter(rng: np.random.Generator, t: np.ndarray, rms: float, k: int = 3) -> np.ndarray:
    freqs = rng.uniform(0.3, 2.5, size=k)
    amps = rng.uniform(0.5, 1.0, size=k)
    phases = rng.uniform(0, 2 * np.pi, size=k)
    x = (amps[None] * np.sin(2 * np.pi * freqs[None] * t[:, None] + phases[None])).sum(1)
    return x * rms / np.sqrt((amps ** 2).sum() / 2)


def camera_path(spec: ClipSpec, kin: Kinematics, size: tuple[int, int]) -> CameraPath:
    t, track = kin.t, kin.track
    n = len(t)
    w, h = size
    el = math.radians(ELEVATION_DEG)
    fwd0 = np.array([0.0, math.cos(el), -math.sin(el)])
    base = 3.2 if spec.subject == "quadruped" else 5.0
    fovy = np.full(n, FOVY_DEG)
    if spec.camera == "zoom":
        s = 0.5 - 0.5 * np.cos(np.pi * np.clip(t / max(t[-1], 1e-9), 0, 1))
        fovy = ZOOM_FOVY[0] + (ZOOM_FOVY[1] - ZOOM_FOVY[0]) * s
    target_z = kin.target_z
    mid = np.array([(track[:, 0].min() + track[:, 0].max()) / 2,
                    (track[:, 1].min() + track[:, 1].max()) / 2, target_z])

    if spec.camera in ("fixed", "zoom", "panning"):
        dist = base
        if spec.camera != "panning":
            tan_h = (w / h) * math.tan(math.radians(float(fovy.min())) / 2)
            half_w = np.abs(track[:, 0] - mid[0]).max() + 0.7 * max(kin.body_length, 0.6)
            depth = np.abs(track[:, 1] - mid[1]).max()
            dist = max(base, half_w / tan_h * 1.05, (depth + 0.6 * base) / math.cos(el))
        pos0 = mid - dist * fwd0
        pos = np.repeat(pos0[None], n, 0)
        if spec.camera == "panning":
            mats = []
            for p in track:
                d = np.array([p[0] - pos0[0], p[1] - pos0[1]])
                d /= np.linalg.norm(d)
                hz = math.cos(el)
                mats.append(_look_mat(np.array([d[0] * hz, d[1] * hz, -math.sin(el)])))
            mat = np.stack(mats)
        else:
            mat = np.repeat(_look_mat(fwd0)[None], n, 0)
        return CameraPath(pos, mat, fovy)

    # tracking / shaky
    tgt = np.concatenate([track, np.full((n, 1), target_z)], 1)
    pos = tgt - base * fwd0
    mat = np.repeat(_look_mat(fwd0)[None], n, 0)
    if spec.camera == "shaky":
        rng = np.random.default_rng(spec.rng_seed + 1)
        pos = pos + np.stack([_jitter(rng, t, 0.03) for _ in range(3)], 1)
        ang = np.stack([_jitter(rng, t, math.radians(1.2)) for _ in range(3)], 1)
        mat = np.stack([m @ _euler_small(*a) for m, a in zip(mat, ang)])
    return CameraPath(pos, mat, fovy)


# =================================================================================================
# Scene
# =================================================================================================

def _periodic_noise(rng: np.random.Generator, n: int, res: int) -> np.ndarray:
    import cv2

    g = rng.random((res, res)).astype(np.float32)
    big = cv2.resize(np.tile(g, (3, 3)), (3 * n, 3 * n), interpolation=cv2.INTER_CUBIC)
    return big[n:2 * n, n:2 * n]


def noise_texture(rng: np.random.Generator, n: int = 256) -> np.ndarray:
    """Seamless earthy noise texture uint8 [n, n, 3] for the cluttered floor."""
    tone = sum(_periodic_noise(rng, n, r) * wgt for r, wgt in ((4, 1.0), (8, .6), (16, .45), (32, .3),
                                                                (64, .2)))
    tone = (tone - tone.min()) / (np.ptp(tone) + 1e-9)
    hue = _periodic_noise(rng, n, 6)
    hue = (hue - hue.min()) / (np.ptp(hue) + 1e-9)
    soil = np.array([0.42, 0.36, 0.28])
    grass = np.array([0.40, 0.46, 0.30])
    light = np.array([0.70, 0.66, 0.56])
    base = soil[None, None] * (1 - hue[..., None]) + grass[None, None] * hue[..., None]
    img = base * (1 - tone[..., None] * 0.8) + light[None, None] * tone[..., None] * 0.8
    img = img + rng.normal(0, 0.035, size=(n, n, 1))  # fine grain
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _clutter(rng: np.random.Generator, kin: Kinematics, cam: CameraPath) -> list[str]:
    """XML geoms for static boxes, cylinders and rocks off the subject's path and line of sight."""
    track = kin.track[:: max(len(kin.track) // 40, 1)]
    campos = cam.pos[:: max(len(cam.pos) // 40, 1), :2]
    pts = np.concatenate([track, campos], 0)
    lo, hi = pts.min(0) - 4.0, pts.max(0) + np.array([4.0, 6.0])
    area = float(np.prod(hi - lo))
    clear = 0.5 * max(kin.body_length, 0.9) + 0.15
    scale = 1.0 if kin.body_length < 1.2 else 1.4  # bigger objects around a human
    geoms = []
    for _ in range(int(area * 1.2)):
        p = rng.uniform(lo, hi)
        if np.min(np.linalg.norm(track - p, axis=1)) < clear:
            continue
        if np.min(np.linalg.norm(campos - p, axis=1)) < 1.0:
            continue
        a, b = campos, track[np.linspace(0, len(track) - 1, len(campos)).astype(int)]
        ab = b - a
        u = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0, 1)
        near = u > 0.6  # low objects block the view only close to the subject
        if near.any() and np.min(np.linalg.norm(a + ab * u[:, None] - p, axis=1)[near]) < 0.4:
            continue
        hsv = (rng.random(), rng.uniform(0.25, 0.75), rng.uniform(0.3, 0.9))
        import colorsys

        rgb = colorsys.hsv_to_rgb(*hsv)
        rgba = f"{rgb[0]:.3f} {rgb[1]:.3f} {rgb[2]:.3f} 1"
        kind = rng.choice(["box", "cylinder", "rock", "rock"])
        yaw = rng.uniform(0, 180)
        if kind == "box":
            sx, sy, sz = rng.uniform(0.04, 0.18, 3) * scale
            g = (f'<geom type="box" size="{sx:.3f} {sy:.3f} {sz:.3f}" pos="{p[0]:.3f} {p[1]:.3f} '
                 f'{sz:.3f}" euler="0 0 {yaw:.1f}" rgba="{rgba}"/>')
        elif kind == "cylinder":
            r, hz = rng.uniform(0.03, 0.12) * scale, rng.uniform(0.05, 0.2) * scale
            g = (f'<geom type="cylinder" size="{r:.3f} {hz:.3f}" pos="{p[0]:.3f} {p[1]:.3f} {hz:.3f}"'
                 f' rgba="{rgba}"/>')
        else:
            sx, sy, sz = np.array([rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.16),
                                   rng.uniform(0.03, 0.1)]) * scale
            tilt = rng.uniform(-20, 20, 2)
            g = (f'<geom type="ellipsoid" size="{sx:.3f} {sy:.3f} {sz:.3f}" pos="{p[0]:.3f} '
                 f'{p[1]:.3f} {0.4 * sz:.3f}" euler="{tilt[0]:.1f} {tilt[1]:.1f} {yaw:.1f}" '
                 f'rgba="{rgba}"/>')
        geoms.append(g)
    return geoms


def _rgba(c) -> str:
    return " ".join(f"{v:.3f}" for v in c)


def _quad_xml() -> str:
    hx, hy, hz = Q_HIP
    legs = []
    for leg in LEGS:
        sx, sy = LEG_SIGN[leg]
        legs.append(f"""
      <body name="{leg}_thigh" pos="{sx * hx} {sy * hy} {hz}">
        <joint name="{leg}_roll" type="hinge" axis="1 0 0"/>
        <joint name="{leg}_pitch" type="hinge" axis="0 1 0"/>
        <geom name="{leg}_upper" type="capsule" fromto="0 0 0 0 0 {-Q_L1}" size="{Q_R1}"
              rgba="{_rgba(Q_COLORS['leg'])}"/>
        <body name="{leg}_shin" pos="0 0 {-Q_L1}">
          <joint name="{leg}_knee" type="hinge" axis="0 1 0"/>
          <geom name="{leg}_lower" type="capsule" fromto="0 0 0 0 0 {-Q_L2}" size="{Q_R2}"
                rgba="{_rgba(Q_COLORS['leg'])}"/>
          <geom name="{leg}_foot" type="sphere" pos="0 0 {-Q_L2}" size="{Q_FOOT_R}"
                rgba="{_rgba(Q_COLORS['foot'])}"/>
        </body>
      </body>""")
    tx, ty, tz = Q_TORSO
    return f"""
    <body name="torso" pos="0 0 {Q_STAND_Z}" childclass="subject">
      <freejoint name="root"/>
      <geom name="torso" type="ellipsoid" size="{tx} {ty} {tz}" rgba="{_rgba(Q_COLORS['torso'])}"/>
      <geom name="neck" type="capsule" fromto="0.22 0 0.03 0.36 0 0.11" size="0.05"
            rgba="{_rgba(Q_COLORS['torso'])}"/>
      <geom name="head" type="ellipsoid" pos="0.42 0 0.13" size="0.10 0.065 0.065"
            rgba="{_rgba(Q_COLORS['head'])}"/>
      <geom name="ear_l" type="ellipsoid" pos="0.38 0.04 0.19" size="0.025 0.012 0.035"
            rgba="{_rgba(Q_COLORS['head'])}"/>
      <geom name="ear_r" type="ellipsoid" pos="0.38 -0.04 0.19" size="0.025 0.012 0.035"
            rgba="{_rgba(Q_COLORS['head'])}"/>
      <geom name="tail" type="capsule" fromto="-0.27 0 0.04 -0.42 0 0.12" size="0.02"
            rgba="{_rgba(Q_COLORS['leg'])}"/>{''.join(legs)}
    </body>"""


def scene_xml(spec: ClipSpec, kin: Kinematics, cam: CameraPath, size: tuple[int, int]) -> str:
    rng = np.random.default_rng(spec.rng_seed)
    w, h = size
    if spec.background == "plain":
        asset = '<material name="floor" rgba="0.60 0.62 0.57 1" specular="0" shininess="0"/>'
    elif spec.background == "checkered":
        asset = ('<texture name="floor" type="2d" builtin="checker" width="256" height="256" '
                 'rgb1="0.72 0.72 0.68" rgb2="0.45 0.47 0.50"/>'
                 '<material name="floor" texture="floor" texrepeat="1 1" texuniform="true" '
                 'specular="0" shininess="0"/>')
    else:
        asset = ('<texture name="floor" type="2d" builtin="flat" width="256" height="256" '
                 'rgb1="0.5 0.5 0.5"/>'
                 '<material name="floor" texture="floor" texrepeat="0.5 0.5" texuniform="true" '
                 'specular="0" shininess="0"/>')
    clutter = "\n    ".join(_clutter(rng, kin, cam)) if spec.background == "cluttered" else ""
    subject = _quad_xml() if spec.subject == "quadruped" else ""
    return f"""<mujoco model="{spec.name}">
  <compiler angle="degree"/>
  <statistic extent="2" center="0 0 0.5"/>
  <visual>
    <global offwidth="{max(w, 640)}" offheight="{max(h, 480)}" fovy="{FOVY_DEG}"/>
    <quality offsamples="0"/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.45 0.45 0.45" specular="0 0 0"/>
    <map znear="0.01" zfar="60"/>
  </visual>
  <default>
    <geom contype="0" conaffinity="0" group="0"/>
    <default class="subject"><geom group="2"/></default>
  </default>
  <asset>{asset}</asset>
  <worldbody>
    <light directional="true" pos="0 0 10" dir="-0.3 0.4 -1" diffuse="0.55 0.55 0.55"
           specular="0.05 0.05 0.05" castshadow="false"/>
    <geom name="floor" type="plane" size="60 60 0.1" material="floor"/>
    {clutter}
    <body name="cam_rig" mocap="true"><camera name="cam" fovy="{FOVY_DEG}"/></body>{subject}
  </worldbody>
</mujoco>"""


def build_model(spec: ClipSpec, kin: Kinematics, cam: CameraPath, size: tuple[int, int]) -> mujoco.MjModel:
    mspec = mujoco.MjSpec.from_string(scene_xml(spec, kin, cam, size))
    if spec.background == "cluttered":
        tex = mspec.texture("floor")
        img = noise_texture(np.random.default_rng(spec.rng_seed + 7), int(tex.width))
        tex.builtin = mujoco.mjtBuiltin.mjBUILTIN_NONE
        tex.data = img.tobytes()
    return mspec.compile()


# =================================================================================================
# Rendering
# =================================================================================================

@dataclass
class Clip:
    spec: ClipSpec
    frames: np.ndarray  # [T, H, W, 3] uint8
    fps: float
    arrays: dict[str, np.ndarray]
    truth: dict[str, Any]
    render_s: float


def _project(p: np.ndarray, cam_pos: np.ndarray, cam_mat: np.ndarray, fovy: np.ndarray,
             size: tuple[int, int]) -> np.ndarray:
    w, h = size
    rel = np.einsum("tji,tj->ti", cam_mat, p - cam_pos)  # camera frame: x right, y up, z back
    depth = -rel[:, 2]
    f = (h / 2) / np.tan(np.radians(fovy) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = w / 2 + f * rel[:, 0] / depth
        v = h / 2 - f * rel[:, 1] / depth
    out = np.stack([u, v], 1)
    out[depth <= 1e-6] = np.nan
    return out


def _add_capsule(scn: mujoco.MjvScene, a: np.ndarray, b: np.ndarray, r: float, rgba) -> None:
    if scn.ngeom >= scn.maxgeom:
        return
    g = scn.geoms[scn.ngeom]
    color = np.asarray(rgba, np.float32)
    if np.linalg.norm(b - a) < 1e-6:
        mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_SPHERE, np.array([r, r, r]), a,
                            np.eye(3).ravel(), color)
    else:
        mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3), np.zeros(3),
                            np.eye(3).ravel(), color)
        mujoco.mjv_connector(g, mujoco.mjtGeom.mjGEOM_CAPSULE, r, a, b)
    scn.ngeom += 1


def quad_body_length(model: mujoco.MjModel | None = None) -> float:
    """Longest horizontal extent of the quadruped in its neutral standing pose (m)."""
    if model is None:
        model = mujoco.MjModel.from_xml_string(
            f'<mujoco><compiler angle="degree"/><default><default class="subject"><geom group="2"/>'
            f'</default>'
            f'</default><worldbody>{_quad_xml()}</worldbody></mujoco>')
    data = mujoco.MjData(model)
    data.qpos[:] = _quad_standing_qpos()
    mujoco.mj_kinematics(model, data)
    pts = []
    for g in range(model.ngeom):
        if model.geom_group[g] != 2:
            continue
        c, hs = model.geom_aabb[g, :3], model.geom_aabb[g, 3:]
        corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * hs + c
        pts.append(corners @ data.geom_xmat[g].reshape(3, 3).T + data.geom_xpos[g])
    pts = np.concatenate(pts)
    ext = pts[:, :2].max(0) - pts[:, :2].min(0)
    return float(ext.max())


def render_clip(spec: ClipSpec | str, size: tuple[int, int] = (320, 240), fps: float = 30.0,
                seconds: float = 6.0, hide_subject: bool = False,
                motion_dir: Path | None = None) -> Clip:
    """Render one clip; returns frames, per-frame arrays and the truth dictionary."""
    spec = get_spec(spec) if isinstance(spec, str) else spec
    w, h = int(size[0]), int(size[1])
    if w % 2 or h % 2:
        raise ValueError(f"frame size must be even (H.264 yuv420p), got {w}x{h}")
    t0 = time.perf_counter()
    if spec.subject == "quadruped":
        kin = _quad_kinematics(spec, fps, seconds)
    else:
        kin = _human_kinematics(spec, fps, seconds, motion_dir)
    cam = camera_path(spec, kin, (w, h))
    model = build_model(spec, kin, cam, (w, h))
    data = mujoco.MjData(model)
    cam_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "cam")
    n = len(kin.t)
    frames = np.empty((n, h, w, 3), np.uint8)
    opt = mujoco.MjvOption()
    if hide_subject:
        opt.geomgroup[2] = 0
    arrays: dict[str, list] = {k: [] for k in ("root_pos", "yaw", "torso_height", "foot_heights",
                                               "foot_rel", "cam_pos", "cam_mat")}
    if spec.subject == "quadruped":
        kin.body_length = quad_body_length(model)
        kin.body_length_def = "longest horizontal extent standing: nose to tail tip, legs included"
        torso_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "torso")
        foot_ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"{leg}_foot") for leg in LEGS]
        # Neutral standing torso height, measured on the model.
        data.qpos[:] = _quad_standing_qpos()
        mujoco.mj_kinematics(model, data)
        kin.standing_torso_z = float(data.xpos[torso_id, 2])
    else:
        names = kin.joint_names
        bone_pts = [(_joint(kin.joints, names, a), _joint(kin.joints, names, b), r, c)
                    for a, b, r, c in H_BONES]
    try:
        renderer = mujoco.Renderer(model, height=h, width=w, max_geom=2000)
    except (mujoco.FatalError, ImportError) as exc:
        from vidreward import gl

        raise type(exc)(f"cannot create an OpenGL context ({gl.describe()}): {exc}") from exc
    try:
        flags = renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = 0
        for k in range(n):
            if kin.qpos is not None:
                data.qpos[:] = kin.qpos[k]
            data.mocap_pos[0] = cam.pos[k]
            data.mocap_quat[0] = _mat2quat(cam.mat[k])
            model.cam_fovy[cam_id] = cam.fovy[k]
            mujoco.mj_kinematics(model, data)
            mujoco.mj_camlight(model, data)
            renderer.update_scene(data, camera=cam_id, scene_option=opt)
            if spec.subject == "human" and not hide_subject:
                for pa, pb, r, c in bone_pts:
                    _add_capsule(renderer.scene, pa[k], pb[k], r, c)
            renderer.render(out=frames[k])
            arrays["cam_pos"].append(data.cam_xpos[cam_id].copy())
            arrays["cam_mat"].append(data.cam_xmat[cam_id].reshape(3, 3).copy())
            if spec.subject == "quadruped":
                root = data.xpos[torso_id].copy()
                rmat = data.xmat[torso_id].reshape(3, 3)
                feet = data.geom_xpos[foot_ids]
                arrays["root_pos"].append(root)
                arrays["yaw"].append(math.atan2(rmat[1, 0], rmat[0, 0]))
                arrays["torso_height"].append(root[2])
                arrays["foot_heights"].append(feet[:, 2] - Q_FOOT_R)
                arrays["foot_rel"].append((feet - root) @ rmat)
    finally:
        renderer.close()
    if spec.subject == "human":
        pos = kin.joints
        root = pos[:, names.index("Hips")]
        yaw = human_yaw(pos, names)
        feet = np.stack([pos[:, names.index(H_FEET[s][1])] for s in ("L", "R")], 1)
        rot_t = np.transpose(_rotz(yaw), (0, 2, 1))
        arrays["root_pos"] = root
        arrays["yaw"] = yaw
        arrays["torso_height"] = root[:, 2]
        arrays["foot_heights"] = human_foot_heights(pos, names, kin.extra.pop("foot_ref"))
        arrays["foot_rel"] = np.einsum("tij,tfj->tfi", rot_t, feet - root[:, None])
    out = {k: np.asarray(v, np.float64) for k, v in arrays.items()}
    out["yaw"] = np.unwrap(out["yaw"])
    out["t"] = kin.t
    out["cam_fovy"] = cam.fovy.astype(np.float64)
    out["subject_px"] = _project(out["root_pos"], out["cam_pos"], out["cam_mat"], out["cam_fovy"], (w, h))
    elapsed = time.perf_counter() - t0
    truth = clip_truth(spec, kin, out, fps, (w, h))
    return Clip(spec, frames, fps, out, truth, elapsed)


# =================================================================================================
# Truth
# =================================================================================================

def _velocity(t: np.ndarray, xy: np.ndarray, fps: float) -> np.ndarray:
    k = max(int(round(VEL_HALF_WINDOW_S * fps)), 1)
    n = len(t)
    i0 = np.clip(np.arange(n) - k, 0, n - 1)
    i1 = np.clip(np.arange(n) + k, 0, n - 1)
    dt = np.maximum(t[i1] - t[i0], 1e-9)
    return (xy[i1] - xy[i0]) / dt[:, None]


def motion_truth(t: np.ndarray, root_pos: np.ndarray, yaw: np.ndarray, torso_height: np.ndarray,
                 foot_heights: np.ndarray, foot_rel: np.ndarray, cam_mat: np.ndarray,
                 body_length: float, standing_torso_z: float, fps: float,
                 camera: str) -> dict[str, Any]:
    """The ``truth`` block of the contract (see module docstring) from per-frame kinematics."""
    bl = float(body_length)
    seconds = len(t) / fps
    v = _velocity(t, root_pos[:, :2], fps)
    speed = float(np.linalg.norm(v, axis=1).mean()) / bl
    right = cam_mat[:, :2, 0]
    fwd = -cam_mat[:, :2, 2]
    right = right / np.maximum(np.linalg.norm(right, axis=1, keepdims=True), 1e-9)
    fwd = fwd / np.maximum(np.linalg.norm(fwd, axis=1, keepdims=True), 1e-9)
    moving = speed >= STILL_BL_S
    direction = None
    axis = "none"
    if moving:
        vr, vf = (v * right).sum(1).mean(), (v * fwd).sum(1).mean()
        direction = round(math.degrees(math.atan2(vf, vr)), 2)
        heading = np.stack([np.cos(yaw), np.sin(yaw)], 1)
        lateral = np.stack([-np.sin(yaw), np.cos(yaw)], 1)
        ang = math.degrees(math.atan2((v * lateral).sum(1).mean(), (v * heading).sum(1).mean()))
        axis = "forward" if abs(ang) <= 45 else "backward" if abs(ang) >= 135 else "sideways"
    a = np.vstack([t, np.ones_like(t)]).T
    turn = float(np.linalg.lstsq(a, np.degrees(yaw), rcond=None)[0][0])
    zd = _detrend(torso_height, t)
    amp = float(np.ptp(zd) / 2) / bl
    freq = _dominant_frequency(torso_height, t) if amp >= BOUNCE_MIN_BL else 0.0
    airborne = float(np.mean(np.all(foot_heights > AIRBORNE_M, axis=1)))
    sig = foot_rel.reshape(len(t), -1)
    freqs, power = _periodogram(sig, t, _fmin(seconds))
    best = int(np.argmax(power))
    var = sum(float(np.var(_detrend(s, t))) for s in sig.T)
    # per-signal amplitude of the best sinusoid at the peak frequency
    e = np.exp(-2j * np.pi * freqs[best] * t)
    amps = np.abs(np.stack([_detrend(s, t) for s in sig.T], 1).T @ e) * 2 / len(t)
    explained = float(power[best] / 2) / max(var, 1e-12)
    cadence = round(float(freqs[best]), 3) if (amps.max() / bl >= 0.02 and explained >= 0.25) else None
    return {
        "direction_deg": direction,
        "speed_bl_s": round(speed, 4),
        "turn_rate_deg_s": round(turn, 2),
        "bounce_amplitude_bl": round(amp, 4),
        "bounce_frequency_hz": round(freq, 3),
        "airborne_fraction": round(airborne, 4),
        "cadence_hz": cadence,
        "height_ratio": round(float(np.median(torso_height)) / standing_torso_z, 4),
        "axis_motion": axis,
        "camera_motion": camera,
    }


def clip_truth(spec: ClipSpec, kin: Kinematics, arrays: dict[str, np.ndarray], fps: float,
               size: tuple[int, int]) -> dict[str, Any]:
    truth = motion_truth(arrays["t"], arrays["root_pos"], arrays["yaw"], arrays["torso_height"],
                         arrays["foot_heights"], arrays["foot_rel"], arrays["cam_mat"],
                         kin.body_length, kin.standing_torso_z, fps, spec.camera)
    script = {k: v for k, v in asdict(spec).items()
              if k not in ("name", "subject", "motion", "camera", "background") and v not in (None, "")}
    script.update({k: round(float(v), 4) for k, v in kin.extra.items()})
    doc = {
        "name": spec.name,
        "subject": spec.subject,
        "motion": spec.motion,
        "camera": spec.camera,
        "background": spec.background,
        "fps": fps,
        "seconds": round(len(arrays["t"]) / fps, 4),
        "frames": int(len(arrays["t"])),
        "size": [int(size[0]), int(size[1])],
        "body_length_m": round(kin.body_length, 4),
        "body_length_def": kin.body_length_def,
        "standing_torso_height_m": round(kin.standing_torso_z, 4),
        "truth": truth,
        "spec": script,
    }
    if kin.source:
        doc["source"] = kin.source
    return doc


# =================================================================================================
# Writing
# =================================================================================================

def write_clip(spec: ClipSpec | str, out_dir: str | Path, size: tuple[int, int] = (320, 240),
               fps: float = 30.0, seconds: float = 6.0, motion_dir: Path | None = None) -> dict[str, Any]:
    """Render ``spec`` and write ``<name>.mp4``, ``<name>.truth.json``, ``<name>.truth.npz``."""
    import imageio.v2 as imageio

    spec = get_spec(spec) if isinstance(spec, str) else spec
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clip = render_clip(spec, size=size, fps=fps, seconds=seconds, motion_dir=motion_dir)
    t0 = time.perf_counter()
    mp4 = out_dir / f"{spec.name}.mp4"
    tmp = out_dir / f".{spec.name}.tmp.mp4"
    imageio.mimsave(tmp, list(clip.frames), fps=fps, codec="libx264", macro_block_size=1,
                    ffmpeg_log_level="error")
    tmp.replace(mp4)
    np.savez_compressed(out_dir / f"{spec.name}.truth.npz",
                        **{k: v for k, v in clip.arrays.items() if k != "foot_rel"},
                        foot_rel=clip.arrays["foot_rel"])
    doc = dict(clip.truth)
    doc["made_by"] = "vidreward.perception.suite (tools/make_motion_suite.py)"
    doc["render_s"] = round(clip.render_s, 3)
    doc["encode_s"] = round(time.perf_counter() - t0, 3)
    (out_dir / f"{spec.name}.truth.json").write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def scaled(spec: ClipSpec, **changes) -> ClipSpec:
    """A copy of ``spec`` with fields changed (e.g. a different camera for an experiment)."""
    return replace(spec, **changes)
