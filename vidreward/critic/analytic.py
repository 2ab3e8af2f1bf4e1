"""Analytic critic: the offline default of the upper level.

It measures the expert from the clip's pixels with the motion-evidence extractor
(``vidreward.perception.evidence``: camera motion from the background, subject segmentation,
everything relative to the ground, body-size-normalised; what the clip cannot show is reported as
unknown and left out of the comparison, never stated) and the robot the same way, from its rendered
``rollout.mp4``: video is compared with video, as a vision-language model would. The rollout's
``trajectory.npz`` (the exact simulator state behind the video) measures the robot a second time
(:func:`cross_check`): a robot descriptor the video cannot show comes from the trajectory, and
each one the two disagree on beyond its ``XCHECK_*`` tolerance is flagged in the critique
(``Critique.crosscheck`` and a "Cross-check: rollout video vs trajectory" part): the render or the
measurement is off. A rollout video that cannot be analysed (missing, unreadable, no subject found)
leaves every robot descriptor to the trajectory, and the critique says so. The extractor's
overlays and records of the rollout go to ``storyboard/robot/`` (``robot_<k>.png``,
``evidence.json``, ``track.csv``), next to the expert's in ``storyboard/``.

The critic writes the four-part feedback with concrete numbers and machine-readable ``params`` in
the reward-term vocabulary shared with the analytic rewriter:

| component | params |
|---|---|
| ``forward_velocity`` | ``target_speed`` (m/s = expert speed x robot body_length), ``sigma`` (m/s) |
| ``vertical_bounce`` | ``amplitude`` (m), ``frequency`` (Hz); z_ref(t) = standing_height + amplitude sin(2 pi f t) |
| ``airborne`` | ``target_fraction`` |
| ``ground_contact`` | (none: reward feet on the ground when the robot flies more than the expert) |
| ``height`` | ``target_height`` (m) |
| ``upright``, ``alive``, ``action_cost``, ``lateral_drift`` | none |

Items are emitted only for meaningful differences (thresholds below, in descriptor units):

* speed: |robot - expert| > max(``SPEED_ABS``, ``SPEED_REL`` x expert) body lengths/s
* bounce (expert bounces, amplitude >= ``BOUNCE_MIN``): amplitude off by more than
  max(``AMP_ABS``, ``AMP_REL`` x expert), or frequency off by more than
  max(``FREQ_ABS``, ``FREQ_REL`` x expert) Hz, or the robot does not bounce at all
* bounce (expert does not bounce): robot amplitude exceeds the expert's by more than ``AMP_ABS``
* airborne: |difference| > ``AIR_ABS``
* posture: |height_ratio difference| > ``HEIGHT_ABS``
* robot only: upright less than ``UPRIGHT_MIN`` of the time; lateral drift > ``DRIFT_MAX`` body
  lengths/s.

``rewrite`` = change a component the reward already has; ``new`` = add a missing one;
``remove`` = a present component that works against the clip: ``vertical_bounce`` when the expert
barely bounces, ``airborne`` when the expert never leaves the ground, ``height`` (a fixed torso
height) when the expert bounces by at least ``BIG_BOUNCE``, ``alive`` when the expert is airborne at
least ``BIG_AIRBORNE`` of the time, the robot too little, and ``alive`` dominates the reward (more
than half of the logged reward magnitude, or the largest ``scale`` in ``TERMS``).

The current reward's components come from the ``TERMS = {...}`` literal at the top of analytically
written code (``ast.literal_eval``), else from the ``reward/<name>`` columns of ``train_log.csv``.
"""

from __future__ import annotations

import ast
import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidreward.critic.base import Critique, CritiqueInput, Item
from vidreward.critic.motion import (
    BOUNCE_MIN,
    DESCRIPTOR_KEYS,
    descriptors_from_trajectory,
    gap,
    trajectory_diagnostics,
)
from vidreward.reward.terms import forward_sigma
from vidreward.errors import ClipError, CritiqueError

SPEED_ABS, SPEED_REL = 0.10, 0.20
AMP_ABS, AMP_REL = 0.02, 0.30
FREQ_ABS, FREQ_REL = 0.30, 0.20
AIR_ABS = 0.10
HEIGHT_ABS = 0.08
UPRIGHT_MIN = 0.80
DRIFT_MAX = 0.10
BIG_BOUNCE = 0.05
BIG_AIRBORNE = 0.30
EXPERT_FRAMES_MAX = 1500
ROBOT_FRAMES_MAX = 1500
STORYBOARD_FRAMES = 6
MIN_FOUND = 0.25  # share of frames the subject must be found in for its motion to be measured
ROBOT_EVIDENCE_DIR = "robot"  # under the storyboard: the rollout's evidence.json, track.csv, overlays
# Cross-check of the robot's two measurements, rendered video vs trajectory (descriptor units):
# they agree when |video - trajectory| <= the tolerance.
XCHECK_SPEED_ABS, XCHECK_SPEED_REL = 0.10, 0.25  # body lengths/s + share of the trajectory's speed
XCHECK_AMP_ABS = 0.03  # body lengths
XCHECK_FREQ_ABS = 0.30  # Hz (compared only when both sides bounce, amplitude >= BOUNCE_MIN)
XCHECK_AIR_ABS = 0.10  # fraction of the time
XCHECK_HEIGHT_ABS = 0.08  # height ratio
XCHECK_TRAVEL_MIN = 0.08  # body lengths/s: below this the trajectory gives no travel direction
# critic descriptor -> motion-evidence quantity
EVIDENCE_KEYS = {"speed": "speed_bl_s", "bounce_amplitude": "bounce_amplitude_bl",
                 "bounce_frequency": "bounce_frequency_hz", "airborne_fraction": "airborne_fraction",
                 "height_ratio": "height_ratio"}


@dataclass
class RewardTerms:
    """Components of the current reward and what is known about them."""

    names: set[str] = field(default_factory=set)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # from TERMS
    shares: dict[str, float] = field(default_factory=dict)  # |last logged value| / sum, train_log
    source: str = "none"

    def dominant(self, name: str) -> bool:
        if name not in self.names:
            return False
        if self.shares:
            return self.shares.get(name, 0.0) > 0.5
        # TERMS written by vidreward.reward.terms scale each term by params["scale"]
        weights = {k: v.get("scale", v.get("weight")) for k, v in self.params.items() if isinstance(v, dict)}
        weights = {k: abs(float(w)) for k, w in weights.items() if isinstance(w, (int, float))}
        if name in weights:
            return weights[name] >= max(weights.values())
        return False


def terms_from_code(code: str) -> dict[str, dict[str, Any]] | None:
    """The top-level ``TERMS = {...}`` literal of reward code, or None when there is none."""
    try:
        tree = ast.parse(code or "")
    except SyntaxError:
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
        if any(isinstance(t, ast.Name) and t.id == "TERMS" for t in targets):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, SyntaxError):
                return None
            if isinstance(value, dict):
                return {str(k): (v if isinstance(v, dict) else {}) for k, v in value.items()}
            if isinstance(value, (list, tuple, set)):
                return {str(k): {} for k in value}
    return None


def terms_from_train_log(path: Path | None) -> tuple[set[str], dict[str, float]]:
    """Component names (``reward/<name>`` columns) and each one's share of the last row's magnitude."""
    if path is None or not Path(path).exists():
        return set(), {}
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
            header = rows[0].keys() if rows else []
    except (OSError, csv.Error) as exc:
        raise CritiqueError(f"{path}: cannot read train log ({exc})") from exc
    cols = [c for c in header if c and c.startswith("reward/")]
    names = {c.split("/", 1)[1] for c in cols}
    shares: dict[str, float] = {}
    if rows:
        last = {}
        for c in cols:
            try:
                last[c.split("/", 1)[1]] = abs(float(rows[-1][c]))
            except (TypeError, ValueError):
                continue
        total = sum(v for v in last.values() if np.isfinite(v))
        if total > 0:
            shares = {k: v / total for k, v in last.items() if np.isfinite(v)}
    return names, shares


def current_terms(code: str, train_log: Path | None) -> RewardTerms:
    literal = terms_from_code(code)
    names, shares = terms_from_train_log(train_log)
    if literal is not None:
        return RewardTerms(set(literal), literal, shares, "TERMS literal")
    return RewardTerms(names, {}, shares, "train_log columns" if names else "none")


log = logging.getLogger(__name__)


def _bl(x: float) -> str:
    return f"{x:.2f} body lengths/s"


class AnalyticCritic:
    """Descriptor-based critic; ``robot_dims=(body_length, standing_height)`` overrides the lookup
    through ``vidreward.sim.robots.get_robot``."""

    def __init__(self, name: str = "analytic", robot_dims: tuple[float, float] | None = None):
        self.name = name
        self.robot_dims = robot_dims

    def _dims(self, robot: str) -> tuple[float, float]:
        if self.robot_dims is not None:
            return float(self.robot_dims[0]), float(self.robot_dims[1])
        from vidreward.sim.robots import get_robot

        spec = get_robot(robot)
        return float(spec.body_length), float(spec.standing_height)

    def expert_descriptors(self, clip: Path, storyboard: Path | None = None) -> dict[str, float]:
        """The expert's descriptors that the clip shows (unknown ones are left out); with
        ``storyboard`` the extractor's overlays, ``evidence.json`` and ``track.csv`` go there."""
        return self.expert_evidence(clip, storyboard)[0]

    def expert_evidence(self, clip: Path, storyboard: Path | None = None) -> tuple[dict[str, float], dict[str, str]]:
        """(known descriptors, {descriptor: why the clip cannot show it}) from the motion-evidence
        extractor (:mod:`vidreward.perception.evidence`), which measures relative to the ground
        whatever the camera does."""
        return clip_evidence(clip, storyboard, "expert_", EXPERT_FRAMES_MAX)

    def robot_video_evidence(self, video: Path, storyboard: Path | None = None) -> tuple[dict[str, float], dict[str, str]]:
        """The same measurement of the rendered rollout; with ``storyboard`` its overlays
        (``robot_<k>.png``), ``evidence.json`` and ``track.csv`` go to ``storyboard/robot/`` (the
        extractor names its record files itself, so they would overwrite the expert's). Raises
        ``ClipError`` when the video cannot be read or shows no subject."""
        out = Path(storyboard) / ROBOT_EVIDENCE_DIR if storyboard is not None else None
        return clip_evidence(video, out, "robot_", ROBOT_FRAMES_MAX)

    def critique(self, inp: CritiqueInput) -> Critique:
        bl, sh = self._dims(inp.robot)
        storyboard = Path(inp.out_dir) / "storyboard" if inp.out_dir else None
        expert, unknown = self.expert_evidence(Path(inp.expert_clip), storyboard)
        trajectory = descriptors_from_trajectory(inp.trajectory, bl, sh)
        diag = trajectory_diagnostics(inp.trajectory, bl)
        try:
            video, video_unknown = self.robot_video_evidence(Path(inp.rollout_video), storyboard)
            video_failed = None
        except Exception as exc:  # noqa: BLE001 - the rollout video never breaks the critique
            log.warning("rollout video not measured, trajectory used instead: %s", exc)
            video, video_unknown, video_failed = {}, {}, _short(exc)
        robot, crosscheck = cross_check(video, video_unknown, video_failed, trajectory, diag, bl)
        # what the clip cannot show is not compared: the robot's own value stands in for it
        expert = {k: expert.get(k, robot[k]) for k in robot}
        terms = current_terms(inp.reward_code, Path(inp.train_log) if inp.train_log else None)
        crit = Critique(backend=self.name, gap=gap(expert, robot),
                        descriptors={"expert": expert, "robot": robot, "robot_video": video,
                                     "robot_trajectory": trajectory},
                        crosscheck=crosscheck)
        _fill(crit, expert, robot, diag, terms, bl, sh)
        crit.raw_text = _render(crit, inp, terms, bl, sh, unknown, video_failed)
        return crit


def clip_evidence(clip: Path, out_dir: Path | None, prefix: str,
                  max_frames: int) -> tuple[dict[str, float], dict[str, str]]:
    """(known descriptors, {descriptor: why the clip cannot show it}) of a clip, by the
    motion-evidence extractor; raises ``ClipError`` when the subject is found in too few frames."""
    from vidreward.perception.evidence import analyse_clip

    ev = analyse_clip(clip, out_dir=out_dir, storyboard=STORYBOARD_FRAMES, max_frames=max_frames,
                      prefix=prefix)
    if ev.found_fraction < MIN_FOUND:
        raise ClipError(f"{clip}: subject found in only {round(ev.found_fraction * ev.frames)} of "
                        f"{ev.frames} frames: cannot measure motion")
    known, unknown = {}, {}
    for key, source in EVIDENCE_KEYS.items():
        q = ev.quantities.get(source)
        if q is None or q.value is None:
            unknown[key] = (q.unknown if q is not None else None) or "not visible in the clip"
        else:
            known[key] = float(q.value)
    return known, unknown


def _short(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


XCHECK_UNITS = {"speed": "body lengths/s", "bounce_amplitude": "body lengths", "bounce_frequency": "Hz",
                "airborne_fraction": "of the time airborne", "height_ratio": "of full height"}


def _value_text(key: str, x: float) -> str:
    if key == "airborne_fraction":
        return f"{x:.0%} {XCHECK_UNITS[key]}"
    return f"{x:.3f} {XCHECK_UNITS[key]}" if key == "bounce_amplitude" else f"{x:.2f} {XCHECK_UNITS[key]}"


def xcheck_tolerance(key: str, trajectory: float) -> float:
    """How far the video's value may be from the trajectory's for the two to agree."""
    if key == "speed":
        return XCHECK_SPEED_ABS + XCHECK_SPEED_REL * abs(trajectory)
    return {"bounce_amplitude": XCHECK_AMP_ABS, "bounce_frequency": XCHECK_FREQ_ABS,
            "airborne_fraction": XCHECK_AIR_ABS, "height_ratio": XCHECK_HEIGHT_ABS}[key]


def cross_check(video: dict[str, float], video_unknown: dict[str, str], video_failed: str | None,
                trajectory: dict[str, float], diag: dict[str, float], body_length: float
                ) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    """(robot descriptors for the comparison, cross-check record).

    Each descriptor is the rollout video's where the video shows it (the expert is measured from
    video too), else the trajectory's. Both are in body lengths: the extractor's body length (the
    longer side of the subject's box) is what the robot's ``body_length`` is defined as (the larger
    extent of its standing side-view silhouette). Speed: the video measures ground speed in any
    direction and cannot tell which way the robot faces, so the cross-check compares it with the
    trajectory's ground speed (forward and sideways), and the comparison uses the video's speed
    times the trajectory's forward share of it (its sign: backwards stays negative; sideways drift
    does not count as forward travel). Bounce frequencies are compared only when both sides bounce.
    """
    ground_bl = float(np.hypot(diag["forward_speed_mps"], diag["lateral_speed_mps"])) / body_length
    if ground_bl >= XCHECK_TRAVEL_MIN:
        forward_share = trajectory["speed"] / ground_bl
    else:
        forward_share = 1.0  # the trajectory gives no direction: what the video shows counts as forward
    traj_side = dict(trajectory, speed=ground_bl)
    robot: dict[str, float] = {}
    record: dict[str, dict[str, Any]] = {}
    for key in DESCRIPTOR_KEYS:
        t = traj_side[key]
        v = video.get(key)
        name = key.replace("_", " ")
        if v is None:
            robot[key] = trajectory[key]
            why = (f"the rollout video could not be analysed ({video_failed})" if video_failed else
                   f"the rollout video cannot show it ({video_unknown.get(key, 'not measured')})")
            record[key] = {"video": None, "trajectory": t, "agree": None,
                           "note": f"{why}: compared using the trajectory's value ({_value_text(key, t)})."}
            continue
        robot[key] = v * forward_share if key == "speed" else v
        if key == "bounce_frequency" and (video.get("bounce_amplitude", 0.0) >= BOUNCE_MIN) != (
                trajectory["bounce_amplitude"] >= BOUNCE_MIN):
            record[key] = {"video": v, "trajectory": t, "agree": None,
                           "note": "not compared: only one of video and trajectory shows a bounce (see "
                                   "bounce_amplitude); compared using the video's value."}
            continue
        agree = bool(abs(v - t) <= xcheck_tolerance(key, t))
        if agree:
            note = (f"video {_value_text(key, v)}, trajectory {_value_text(key, t)}: agree within "
                    f"{xcheck_tolerance(key, t):.2f}.")
        else:
            note = (f"the video shows {name} {_value_text(key, v)} but the trajectory says "
                    f"{_value_text(key, t)}: the render or the measurement is off; this descriptor is "
                    "compared using the video's value.")
            if key == "speed":
                note += " (The trajectory's speed here is its ground speed, forward and sideways.)"
            elif key == "height_ratio":
                note += (" (The video's ratio is relative to the tallest posture in the video, the "
                         "trajectory's to the standing height: a robot that never stands up fully "
                         "reads taller on video.)")
        record[key] = {"video": v, "trajectory": t, "agree": agree, "note": note}
    return robot, record


def _already_set(current: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether the reward's term already has (within 1 %) every requested parameter value."""
    for key, value in params.items():
        have = current.get(key)
        if not isinstance(have, (int, float)) or not isinstance(value, (int, float)):
            return False
        if abs(have - value) > 0.01 * max(abs(value), 1e-9):
            return False
    return True


SCALE_STEP = 2.0  # how much a rewrite raises the weight of a term whose targets are already right
MAX_SCALE = 4.0  # ... up to this weight


def _put(crit: Critique, terms: RewardTerms, component: str, text: str, params: dict[str, Any]) -> None:
    """Rewrite when the reward has ``component``, else add it as new.

    When the term already has exactly the requested targets and the behaviour is still off, the
    reward pays too little for it relative to the other terms: the rewrite raises its ``scale`` by
    ``SCALE_STEP`` (up to ``MAX_SCALE``) instead of repeating a no-op.
    """
    section = crit.rewrite if component in terms.names else crit.new
    if any(i.component == component for i in crit.rewrite + crit.new):
        return
    current = terms.params.get(component)
    if section is crit.rewrite and isinstance(current, dict) and _already_set(current, params):
        scale = current.get("scale")
        if not isinstance(scale, (int, float)) or scale >= MAX_SCALE:
            return
        new_scale = round(min(scale * SCALE_STEP, MAX_SCALE), 4)
        text = (f"{component} already targets this but the motion is still off: weight it more, "
                f"scale {scale:g} -> {new_scale:g}. ({text})")
        params = {"scale": new_scale}
    section.append(Item(text=text, component=component, params=params))


def _fill(crit: Critique, e: dict[str, float], r: dict[str, float], diag: dict[str, float],
          terms: RewardTerms, bl: float, sh: float) -> None:
    has = terms.names
    removed: set[str] = set()

    def remove(component: str, text: str) -> None:
        if component in has and component not in removed:
            removed.add(component)
            crit.remove.append(Item(text=text, component=component, params={}))

    # --- forward speed
    if abs(r["speed"] - e["speed"]) > max(SPEED_ABS, SPEED_REL * e["speed"]):
        verb = "moves forward" if r["speed"] >= 0 else "moves backwards"
        crit.problems.append(Item(
            f"The robot {verb} at {_bl(abs(r['speed']))} ({r['speed'] * bl:.2f} m/s along +x); the expert "
            f"travels at {_bl(e['speed'])} (= {e['speed'] * bl:.2f} m/s for this robot).",
            "forward_velocity"))
        target = e["speed"] * bl
        _put(crit, terms, "forward_velocity",
             f"Track a forward speed of {target:.2f} m/s ({_bl(e['speed'])}, the expert's) instead of "
             f"{r['speed'] * bl:.2f} m/s.",
             {"target_speed": round(target, 4), "sigma": round(forward_sigma(target), 4)})

    # --- vertical bounce
    expert_bounces = e["bounce_amplitude"] >= BOUNCE_MIN
    if expert_bounces:
        amp_off = abs(r["bounce_amplitude"] - e["bounce_amplitude"]) > max(AMP_ABS, AMP_REL * e["bounce_amplitude"])
        freq_off = r["bounce_frequency"] == 0.0 or abs(r["bounce_frequency"] - e["bounce_frequency"]) > max(
            FREQ_ABS, FREQ_REL * e["bounce_frequency"])
        if amp_off or freq_off:
            amp_m, freq = e["bounce_amplitude"] * bl, e["bounce_frequency"]
            robot_motion = (
                f"bounces {r['bounce_amplitude']:.3f} body lengths at {r['bounce_frequency']:.2f} Hz"
                if r["bounce_amplitude"] >= BOUNCE_MIN else
                f"barely moves vertically ({r['bounce_amplitude']:.3f} body lengths)")
            crit.problems.append(Item(
                f"The robot's torso {robot_motion}; the expert bounces {e['bounce_amplitude']:.3f} body "
                f"lengths ({amp_m:.3f} m for this robot) at {freq:.2f} Hz.", "vertical_bounce"))
            _put(crit, terms, "vertical_bounce",
                 f"Bounce like standing_height + {amp_m:.3f} m * sin(2 pi {freq:.2f} Hz t).",
                 {"amplitude": round(amp_m, 4), "frequency": round(freq, 4)})
            if e["bounce_amplitude"] >= BIG_BOUNCE:
                remove("height", "A fixed torso-height target fights the expert's "
                       f"{e['bounce_amplitude']:.2f}-body-length bounce; vertical_bounce sets the height.")
    elif r["bounce_amplitude"] - e["bounce_amplitude"] > AMP_ABS:
        crit.problems.append(Item(
            f"The robot's torso bounces {r['bounce_amplitude']:.3f} body lengths at "
            f"{r['bounce_frequency']:.2f} Hz; the expert's barely moves vertically "
            f"({e['bounce_amplitude']:.3f}).", "vertical_bounce"))
        remove("vertical_bounce", f"The expert does not bounce (amplitude {e['bounce_amplitude']:.3f} body "
               "lengths); a bounce reference drives motion the clip does not show.")

    # --- airborne fraction
    d_air = r["airborne_fraction"] - e["airborne_fraction"]
    if abs(d_air) > AIR_ABS:
        crit.problems.append(Item(
            f"The robot is airborne {r['airborne_fraction']:.0%} of the time (no foot contact); the "
            f"expert {e['airborne_fraction']:.0%}.", "airborne"))
        if e["airborne_fraction"] < 0.02:
            remove("airborne", "The expert never leaves the ground; rewarding flight works against the clip.")
        elif d_air < 0:
            _put(crit, terms, "airborne",
                 f"Reward a flight-phase fraction of {e['airborne_fraction']:.2f} (now "
                 f"{r['airborne_fraction']:.2f}).", {"target_fraction": round(e["airborne_fraction"], 4)})
            remove("ground_contact", "Rewarding feet on the ground works against the expert's flight "
                   "phases, which the robot lacks.")
        if d_air > 0:
            # a per-step term can only push flight up or down: reward contact, drop the flight reward
            remove("airborne", f"The robot already flies more than the expert ({r['airborne_fraction']:.0%} "
                   f"vs {e['airborne_fraction']:.0%}); rewarding flight pushes it further away.")
            _put(crit, terms, "ground_contact",
                 f"Reward feet on the ground to cut flight from {r['airborne_fraction']:.0%} toward the "
                 f"expert's {e['airborne_fraction']:.0%}.", {})
        if d_air < 0 and e["airborne_fraction"] >= BIG_AIRBORNE and terms.dominant("alive"):
            remove("alive", f"The alive bonus dominates the reward and pays for staying planted, but the "
                   f"expert is airborne {e['airborne_fraction']:.0%} of the time.")

    # --- posture
    if abs(r["height_ratio"] - e["height_ratio"]) > HEIGHT_ABS:
        target_h = e["height_ratio"] * sh
        crit.problems.append(Item(
            f"The robot's median torso height is {r['height_ratio']:.2f} of standing height; the "
            f"expert's typical posture is {e['height_ratio']:.2f} of full height "
            f"(= {target_h:.3f} m for this robot).", "height"))
        bounce_sets_height = expert_bounces and ("vertical_bounce" in has or any(
            i.component == "vertical_bounce" for i in crit.new + crit.rewrite))
        if "height" not in removed and not bounce_sets_height:
            _put(crit, terms, "height", f"Hold the torso near {target_h:.3f} m.",
                 {"target_height": round(target_h, 4)})

    # --- robot-only checks the side-view clip cannot show
    upright = diag.get("upright_fraction")
    if upright is not None and upright < UPRIGHT_MIN:
        crit.problems.append(Item(
            f"The robot's torso is upright only {upright:.0%} of the time (it tips or flips); the "
            "expert stays upright.", "upright"))
        if "upright" not in has:
            _put(crit, terms, "upright", "Reward keeping the torso's up axis vertical.", {})
    if diag["lateral_speed_body"] > DRIFT_MAX:
        crit.problems.append(Item(
            f"The robot drifts sideways at {diag['lateral_speed_mps']:.2f} m/s "
            f"({_bl(diag['lateral_speed_body'])}); the expert moves straight.", "lateral_drift"))
        if "lateral_drift" not in has:
            _put(crit, terms, "lateral_drift", "Penalise sideways (y) velocity.", {})


def _render(crit: Critique, inp: CritiqueInput, terms: RewardTerms, bl: float, sh: float,
            unknown: dict[str, str] | None = None, video_failed: str | None = None) -> str:
    md = crit.to_markdown()
    head, _, rest = md.partition("\n\n")
    video, traj = Path(inp.rollout_video).name, Path(inp.trajectory).name
    from_traj = sorted(k for k, e in crit.crosscheck.items() if e.get("video") is None)
    if video_failed:
        robot_note = (f"robot: its rollout video `{video}` could not be analysed ({video_failed}), so "
                      f"every robot descriptor comes from `{traj}`, the exact simulator state behind it")
    else:
        robot_note = (f"robot measured the same way from the pixels of its rollout video `{video}`, "
                      f"cross-checked against `{traj}`, the exact simulator state behind it"
                      + (f"; from the trajectory where the video cannot show it: {', '.join(from_traj)}"
                         if from_traj else ""))
    off = sorted(k for k, e in crit.crosscheck.items() if e.get("agree") is False)
    note = (
        f"Expert measured from the pixels of `{Path(inp.expert_clip).name}` (camera motion from the "
        f"background, subject segmentation, every position relative to the ground, sizes in the "
        f"subject's body size); {robot_note} (body_length {bl:.3f} m, "
        f"standing_height {sh:.3f} m). Components of the current reward (from {terms.source}): "
        f"{', '.join(sorted(terms.names)) or 'unknown'}."
    )
    if off:
        note += (f" The rollout video and the trajectory disagree on {', '.join(off)} (see the "
                 "cross-check below).")
    for key, why in sorted((unknown or {}).items()):
        note += f" The clip cannot show the expert's {key.replace('_', ' ')} ({why}): it is not compared."
    if not any(getattr(crit, s) for s in ("problems", "rewrite", "remove", "new")):
        note += " Every descriptor is within its threshold of the expert's: no change needed."
    return f"{head}\n\n{note}\n\n{rest}"
