"""Oracle critic: the Eureka-GT-style upper bound of the upper level, with no perception at all.

It reads the expert's motion descriptors from the clip's truth file (``clips.<clip>.truth`` in the
config: a ``*.truth.json`` of ``data/motion_suite/`` written by :mod:`vidreward.perception.suite`,
or a hand-marked one of ``data/motion/real/``), never from the video, and the robot's from its
exact ``trajectory.npz`` (:func:`vidreward.critic.motion.descriptors_from_trajectory`), never from
the rollout video. Both sides are therefore exact, and a run with this critic measures the search
(critic items -> rewriter -> training) apart from perception.

Truth fields used: the ``truth`` block's quantities under the motion-evidence extractor's names,
the ones ``benchmarks/bench_motion.py`` compares the extractor's estimates with
(:data:`TRUTH_FIELDS`: ``speed_bl_s``, ``bounce_amplitude_bl``, ``bounce_frequency_hz``,
``airborne_fraction``, ``height_ratio``); the speed is the subject's ground speed in body lengths
per second, as the extractor measures it (the analytic critic compares the same quantity).
The robot's flight is measured by the truth's own airborne rule: its lowest point clears its
ground by the truth file's ``airborne_clearance_bl`` of its body length (the suite's 2 cm of feet
clearance, in body lengths). ``speed_bl_s`` is required (:data:`REQUIRED`); a descriptor the
truth does not define (absent or null: the hand-marked real clips give only speed and airborne
fraction) is left out of the comparison like an unknown of the analytic critic: the robot's own value stands in for it, and the
imitation score leaves it out.

The comparison is :func:`vidreward.critic.checks.compare`, the analytic critic's named checks, so
the critique carries the same four-part items with machine-readable ``params`` and the analytic
rewriter acts on it. ``Critique.descriptors`` holds ``expert`` (the truth, with stand-ins),
``robot`` (the trajectory's), ``truth`` (only what the truth defines) and ``imitation``
(``{"score": s}``, :func:`vidreward.imitation.imitation_score` of the truth against the robot,
with each compared descriptor's similarity). ``backend`` is ``"oracle"``; the markdown says first
that the expert comes from a truth file, not the video.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidreward.critic.analytic import EVIDENCE_KEYS
from vidreward.critic.base import Critique, CritiqueInput
from vidreward.critic.checks import compare
from vidreward.critic.motion import (
    AIRBORNE_CLEARANCE,
    descriptors_from_trajectory,
    gap,
    median_descriptors,
    robot_dims,
    trajectory_diagnostics,
)
from vidreward.critic.reward_terms import current_terms
from vidreward.errors import CritiqueError
from vidreward.imitation import imitation_score, imitation_terms

#: critic descriptor -> field of the truth file's ``truth`` block (the extractor's quantity names)
TRUTH_FIELDS: dict[str, str] = dict(EVIDENCE_KEYS)
#: descriptors every truth file must define
REQUIRED = ("speed",)


@dataclass(frozen=True)
class Truth:
    """What a truth file says about the expert: ``known`` descriptors, and for each one it does
    not define, why (``unknown``)."""

    path: Path
    known: dict[str, float]
    unknown: dict[str, str] = field(default_factory=dict)
    airborne_clearance: float = AIRBORNE_CLEARANCE
    """Body lengths the lowest point must clear the ground by to count as airborne: the truth
    file's ``airborne_clearance_bl`` (its own airborne rule, which the robot is then measured by),
    else the video rule's ``AIRBORNE_CLEARANCE`` (a hand-marked flight is a visible one)."""


def read_truth(path: str | Path) -> Truth:
    """The expert's descriptors from a ``*.truth.json``; ``CritiqueError`` naming the file (and the
    field) when it is missing, unreadable, has no ``truth`` block, lacks a required descriptor or
    holds a value that is not a finite number."""
    path = Path(path)
    if not path.is_file():
        raise CritiqueError(f"{path}: truth file not found (the oracle critic reads the expert's "
                            "motion from it; see clips.<clip>.truth in the config)")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CritiqueError(f"{path}: cannot read truth file: {exc}") from exc
    block = doc.get("truth") if isinstance(doc, dict) else None
    if not isinstance(block, dict):
        raise CritiqueError(f"{path}: truth file has no 'truth' object with the expert's motion")
    known: dict[str, float] = {}
    unknown: dict[str, str] = {}
    for key, name in TRUTH_FIELDS.items():
        value = block.get(name)
        if value is None:
            if key in REQUIRED:
                raise CritiqueError(f"{path}: truth.{name} is missing: the oracle critic needs the "
                                    f"expert's {key.replace('_', ' ')}")
            unknown[key] = f"the truth file defines no truth.{name}"
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise CritiqueError(f"{path}: truth.{name} must be a finite number, got {value!r}")
        known[key] = float(value)
    clearance = doc.get("airborne_clearance_bl", AIRBORNE_CLEARANCE)
    if (isinstance(clearance, bool) or not isinstance(clearance, (int, float))
            or not math.isfinite(clearance) or clearance <= 0):
        raise CritiqueError(f"{path}: airborne_clearance_bl must be a positive number, got {clearance!r}")
    return Truth(path=path, known=known, unknown=unknown, airborne_clearance=float(clearance))


class OracleCritique(Critique):
    """A :class:`Critique` whose markdown opens by saying the expert came from a truth file.
    Serialises exactly like a ``Critique`` (``backend == "oracle"``)."""

    note: str = ""  # a class attribute, not a field: set per instance, not serialised

    def to_markdown(self) -> str:
        return _with_note(super().to_markdown(), self.note)


class OracleCritic:
    """Critic from a truth file and the robot's exact trajectory (module docstring);
    ``robot_dims=(body_length, standing_height)`` overrides the robot registry's."""

    def __init__(self, truth_path: str | Path, name: str = "oracle",
                 robot_dims: tuple[float, float] | None = None):
        self.name = name
        self.truth = read_truth(truth_path)  # fails now, naming the file, not after training
        self.robot_dims = robot_dims

    def _dims(self, robot: str) -> tuple[float, float]:
        if self.robot_dims is not None:
            return float(self.robot_dims[0]), float(self.robot_dims[1])
        return robot_dims(robot)

    def robot_descriptors(self, inp: CritiqueInput) -> dict[str, float]:
        """The robot's descriptors from its trajectory; with ``inp.episodes`` the per-descriptor
        median over its trajectory and theirs."""
        bl, sh = self._dims(inp.robot)
        clearance = self.truth.airborne_clearance
        return median_descriptors([descriptors_from_trajectory(t, bl, sh, clearance)
                                   for t in [inp.trajectory] + [t for _, t in inp.episodes]])

    def imitation(self, inp: CritiqueInput) -> float:
        """The imitation score of the robot's trajectory against the truth (no critique)."""
        return imitation_score(self.truth.known, self.robot_descriptors(inp))

    def critique(self, inp: CritiqueInput) -> Critique:
        bl, sh = self._dims(inp.robot)
        robot = self.robot_descriptors(inp)
        diag = trajectory_diagnostics(inp.trajectory, bl)
        truth = self.truth.known
        expert = {k: truth.get(k, robot[k]) for k in robot}  # undefined: not compared
        terms = current_terms(inp.reward_code, Path(inp.train_log) if inp.train_log else None)
        similarity = imitation_terms(truth, robot)
        crit = OracleCritique(
            backend=self.name, gap=gap(expert, robot),
            descriptors={"expert": expert, "robot": robot, "truth": dict(truth),
                         "imitation": {"score": imitation_score(truth, robot), **similarity}})
        compare(crit, expert, robot, diag, terms, bl, sh)
        crit.note = _note(crit, inp, terms.names, terms.source, bl, sh, self.truth)
        crit.raw_text = crit.to_markdown()
        return crit


def _note(crit: Critique, inp: CritiqueInput, names, source: str, bl: float, sh: float,
          truth: Truth) -> str:
    score = crit.descriptors["imitation"]["score"]
    note = (
        f"**Oracle critic**: the expert's motion descriptors are read from the truth file "
        f"`{truth.path}`, not measured from the video `{Path(inp.expert_clip).name}`; the robot's come "
        f"from its exact trajectory `{Path(inp.trajectory).name}`"
        + (f" and {len(inp.episodes)} more rollouts' from other reset seeds (the per-descriptor "
           f"median)" if inp.episodes else "")
        + f" (no video perception; body_length "
        f"{bl:.3f} m, standing_height {sh:.3f} m; airborne while its lowest point clears its ground "
        f"by more than {truth.airborne_clearance:.4g} body lengths, the truth's own rule). An upper "
        f"bound: no perception error on either side. Imitation score {score:.3f} (0-1, 1 = the truth's descriptors). Components of the "
        f"current reward (from {source}): {', '.join(sorted(names)) or 'unknown'}."
    )
    for key, why in sorted(truth.unknown.items()):
        note += f" The expert's {key.replace('_', ' ')} is not compared ({why})."
    if not any(getattr(crit, s) for s in ("problems", "rewrite", "remove", "new")):
        note += " Every descriptor is within its threshold of the expert's: no change needed."
    return note


def _with_note(markdown: str, note: str) -> str:
    """``note`` as the paragraph right after the markdown's heading."""
    if not note:
        return markdown
    head, _, rest = markdown.partition("\n\n")
    return f"{head}\n\n{note}\n\n{rest}"
