"""The suite's clips: :class:`ClipSpec` (what each clip shows: subject, motion, camera, background,
the scripted gait or the mocap segment), the catalogue ``SPECS`` and the vocabulary (cameras,
backgrounds, subjects, gaits)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any




ROOT = Path(__file__).resolve().parents[3]


MOTION_DIR = ROOT / "data" / "motion"


CAMERAS = ("fixed", "panning", "tracking", "shaky", "zoom")


BACKGROUNDS = ("plain", "checkered", "cluttered")


SUBJECTS = ("quadruped", "human")


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
    ClipSpec("human_run_tracking_checkered", "human", "run", "tracking", "checkered",
             heading_deg=180, mocap="deepmimic_run",
             notes="DeepMimic humanoid3d_run (pybullet_data) looped: running at 3.55 m/s, "
                   "0.8 s strides"),
)


def get_spec(name: str) -> ClipSpec:
    for s in SPECS:
        if s.name == name:
            return s
    raise KeyError(f"no clip spec named {name!r}; known: {', '.join(s.name for s in SPECS)}")


def scaled(spec: ClipSpec, **changes) -> ClipSpec:
    """A copy of ``spec`` with fields changed (e.g. a different camera for an experiment)."""
    return replace(spec, **changes)
