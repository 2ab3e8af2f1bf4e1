"""Analytic critic: the offline default of the upper level.

It measures the expert from the clip's pixels with the motion-evidence extractor
(``vidreward.perception.evidence``: camera motion from the background, subject segmentation,
everything relative to the ground, body-size-normalised; what the clip cannot show is reported as
unknown and left out of the comparison, never stated) and the robot the same way, from its rendered
``rollout.mp4``: video is compared with video, as a vision-language model would. The rollout's
``trajectory.npz`` (the exact simulator state behind the video) measures the robot a second time
(:func:`vidreward.critic.crosscheck.cross_check`): a robot descriptor the video cannot show comes
from the trajectory, and each one the two disagree on beyond its ``XCHECK_*`` tolerance is flagged
in the critique (``Critique.crosscheck`` and a "Cross-check: rollout video vs trajectory" part):
the render or the measurement is off. A rollout video that cannot be analysed (missing,
unreadable, no subject found) leaves every robot descriptor to the trajectory, and the critique
says so. The extractor's overlays and records of the rollout go to ``storyboard/robot/``
(``robot_<k>.png``, ``evidence.json``, ``track.csv``), next to the expert's in ``storyboard/``.

Each of the expert's descriptors is compared with the robot's by the named checks of
:mod:`vidreward.critic.checks` (which documents the items, their ``params`` and thresholds); the
current reward's components come from :mod:`vidreward.critic.reward_terms`.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any, NamedTuple

from vidreward.critic.base import Critique, CritiqueInput
from vidreward.critic.checks import compare
from vidreward.critic.crosscheck import cross_check
from vidreward.critic.motion import (
    descriptors_from_trajectory,
    gap,
    median_descriptors,
    robot_dims,
    trajectory_diagnostics,
)
from vidreward.critic.reward_terms import RewardTerms, current_terms
from vidreward.errors import ClipError, CritiqueError

EXPERT_FRAMES_MAX = 1500
ROBOT_FRAMES_MAX = 1500
STORYBOARD_FRAMES = 6
MIN_FOUND = 0.25  # share of frames the subject must be found in for its motion to be measured
ROBOT_EVIDENCE_DIR = "robot"  # under the storyboard: the rollout's evidence.json, track.csv, overlays
# critic descriptor -> motion-evidence quantity
EVIDENCE_KEYS = {"speed": "speed_bl_s", "bounce_amplitude": "bounce_amplitude_bl",
                 "bounce_frequency": "bounce_frequency_hz", "airborne_fraction": "airborne_fraction",
                 "height_ratio": "height_ratio"}

log = logging.getLogger(__name__)


class AnalyticCritic:
    """Descriptor-based critic; ``robot_dims=(body_length, standing_height)`` overrides the lookup
    ``vidreward.critic.motion.robot_dims``."""

    def __init__(self, name: str = "analytic", robot_dims: tuple[float, float] | None = None):
        self.name = name
        self.robot_dims = robot_dims

    def _dims(self, robot: str) -> tuple[float, float]:
        if self.robot_dims is not None:
            return float(self.robot_dims[0]), float(self.robot_dims[1])
        return robot_dims(robot)

    def expert_descriptors(self, clip: Path, storyboard: Path | None = None) -> dict[str, float]:
        """The expert's descriptors that the clip shows (unknown ones are left out); with
        ``storyboard`` the extractor's overlays, ``evidence.json`` and ``track.csv`` go there."""
        return self.expert_evidence(clip, storyboard)[0]

    def expert_evidence(self, clip: Path, storyboard: Path | None = None,
                        measurement: Path | None = None) -> tuple[dict[str, float], dict[str, str]]:
        """(known descriptors, {descriptor: why the clip cannot show it}) from the motion-evidence
        extractor (:mod:`vidreward.perception.evidence`), which measures relative to the ground
        whatever the camera does; ``measurement``: the clip's record from
        :func:`measure_expert_clip`, read (and its overlays copied to ``storyboard``) instead of
        measuring the clip again."""
        if measurement is not None:
            return measured_evidence(Path(measurement), Path(clip), storyboard)
        return clip_evidence(clip, storyboard, "expert_", EXPERT_FRAMES_MAX)

    def robot_video_evidence(self, video: Path, storyboard: Path | None = None) -> tuple[dict[str, float], dict[str, str]]:
        """The same measurement of the rendered rollout; with ``storyboard`` its overlays
        (``robot_<k>.png``), ``evidence.json`` and ``track.csv`` go to ``storyboard/robot/`` (the
        extractor names its record files itself, so they would overwrite the expert's). Raises
        ``ClipError`` when the video cannot be read or shows no subject."""
        out = Path(storyboard) / ROBOT_EVIDENCE_DIR if storyboard is not None else None
        return clip_evidence(video, out, "robot_", ROBOT_FRAMES_MAX)

    def measure_robot(self, video: Path, trajectory: Path, bl: float, sh: float,
                      storyboard: Path | None = None) -> "RobotMeasurement":
        """One rollout of the robot: its video measured as the clip is, cross-checked against its
        trajectory; a video that cannot be analysed leaves every descriptor to the trajectory."""
        from_trajectory = descriptors_from_trajectory(trajectory, bl, sh)
        diag = trajectory_diagnostics(trajectory, bl)
        try:
            from_video, video_unknown = self.robot_video_evidence(Path(video), storyboard)
            video_failed = None
        except Exception as exc:  # noqa: BLE001 - the rollout video never breaks the critique
            log.warning("rollout video %s not measured, trajectory used instead: %s", video, exc)
            from_video, video_unknown, video_failed = {}, {}, _short(exc)
        robot, crosscheck = cross_check(from_video, video_unknown, video_failed, from_trajectory,
                                        diag, bl)
        return RobotMeasurement(robot, crosscheck, from_video, from_trajectory, diag, video_failed)

    def critique(self, inp: CritiqueInput) -> Critique:
        bl, sh = self._dims(inp.robot)
        storyboard = Path(inp.out_dir) / "storyboard" if inp.out_dir else None
        expert, unknown = self.expert_evidence(Path(inp.expert_clip), storyboard, inp.expert_measurement)
        main = self.measure_robot(Path(inp.rollout_video), Path(inp.trajectory), bl, sh, storyboard)
        others = [(v, self.measure_robot(Path(v), Path(t), bl, sh)) for v, t in inp.episodes]
        measured = [(inp.rollout_video, main)] + others
        robot = median_descriptors([m.robot for _, m in measured])
        # what the clip cannot show is not compared: the robot's own value stands in for it
        expert = {k: expert.get(k, robot[k]) for k in robot}
        terms = current_terms(inp.reward_code, Path(inp.train_log) if inp.train_log else None)
        descriptors = {"expert": expert, "robot": robot, "robot_video": main.video,
                       "robot_trajectory": main.trajectory}
        if others:
            descriptors["episodes"] = [{"rollout": str(v), "robot": m.robot} for v, m in measured]
        crit = Critique(backend=self.name, gap=gap(expert, robot), descriptors=descriptors,
                        crosscheck=main.crosscheck)
        compare(crit, expert, robot, main.diag, terms, bl, sh)
        crit.raw_text = _render(crit, inp, terms, bl, sh, unknown, main.video_failed)
        return crit


class RobotMeasurement(NamedTuple):
    """One rollout's robot descriptors (``robot``: the video's, the trajectory's where the video
    cannot show them), the cross-check, both sources and the trajectory-only diagnostics."""

    robot: dict[str, float]
    crosscheck: dict[str, Any]
    video: dict[str, float]
    trajectory: dict[str, float]
    diag: dict[str, float]
    video_failed: str | None


def clip_evidence(clip: Path, out_dir: Path | None, prefix: str,
                  max_frames: int) -> tuple[dict[str, float], dict[str, str]]:
    """(known descriptors, {descriptor: why the clip cannot show it}) of a clip, by the
    motion-evidence extractor; raises ``ClipError`` when the subject is found in too few frames."""
    from vidreward.perception.evidence import analyse_clip

    ev = analyse_clip(clip, out_dir=out_dir, storyboard=STORYBOARD_FRAMES, max_frames=max_frames,
                      prefix=prefix)
    return descriptors_of_evidence(ev.to_dict(), clip)


def measure_expert_clip(clip: str | Path, out_dir: str | Path):
    """Measure the expert clip once, as :meth:`AnalyticCritic.expert_evidence` does, into
    ``out_dir`` (``evidence.json``, ``track.csv``, ``expert_<k>.png`` overlays): the record every
    later critique of the run reads (``CritiqueInput.expert_measurement``). Returns the
    ``MotionEvidence``."""
    from vidreward.perception.evidence import analyse_clip

    return analyse_clip(clip, out_dir=out_dir, storyboard=STORYBOARD_FRAMES,
                        max_frames=EXPERT_FRAMES_MAX, prefix="expert_")


def measured_evidence(measurement: Path, clip: Path,
                      storyboard: Path | None = None) -> tuple[dict[str, float], dict[str, str]]:
    """(known descriptors, {descriptor: why not}) from a record of :func:`measure_expert_clip`;
    with ``storyboard`` its files are copied there, as a fresh measurement would write them.
    ``CritiqueError`` naming the record when it is unreadable or measured another clip."""
    path = measurement / "evidence.json"
    try:
        record = json.loads(path.read_text())
        quantities, measured_clip = record["quantities"], Path(record["clip"]).name
        float(record["found_fraction"]), int(record["frames"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CritiqueError(f"{path}: cannot read the expert clip's measurement ({exc})") from exc
    if measured_clip != clip.name:
        raise CritiqueError(f"{path}: the measurement is of {measured_clip}, not the expert clip {clip}")
    if not isinstance(quantities, dict):
        raise CritiqueError(f"{path}: 'quantities' must be an object")
    known_unknown = descriptors_of_evidence(record, clip)  # a record it cannot use copies nothing
    if storyboard is not None:
        shutil.copytree(measurement, storyboard, dirs_exist_ok=True)
    return known_unknown


def descriptors_of_evidence(record: dict[str, Any], clip: Path) -> tuple[dict[str, float], dict[str, str]]:
    """(known descriptors, {descriptor: why the clip cannot show it}) of a motion-evidence record
    (``MotionEvidence.to_dict()``); raises ``ClipError`` when the subject is found in too few frames."""
    found, frames = float(record["found_fraction"]), int(record["frames"])
    if found < MIN_FOUND:
        raise ClipError(f"{clip}: subject found in only {round(found * frames)} of "
                        f"{frames} frames: cannot measure motion")
    known, unknown = {}, {}
    for key, source in EVIDENCE_KEYS.items():
        q = record["quantities"].get(source)
        if q is None or q.get("value") is None:
            unknown[key] = (q.get("unknown") if q is not None else None) or "not visible in the clip"
        else:
            known[key] = float(q["value"])
    return known, unknown


def _short(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    if inp.episodes:
        robot_note += (f"; the robot's descriptors are the per-descriptor median over this rollout "
                       f"and {len(inp.episodes)} more of the same policy from other reset seeds "
                       f"(the cross-check is this rollout's)")
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
