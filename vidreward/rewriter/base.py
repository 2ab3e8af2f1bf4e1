"""The interface every rewriter backend (lower level) implements.

Each input reaches a rewriter through one door: the backend's own settings (language-model
settings, where to record) through its constructor; the robot and the task through the
:class:`TaskSpec` that both :meth:`Rewriter.initial` and :meth:`Rewriter.rewrite` take; the expert
clip through ``initial``'s ``expert_clip`` and, with the rollout video, through ``rewrite``'s
:class:`RewriteVideos`."""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vidreward.critic.base import Critique


@dataclass
class TaskSpec:
    """What the run asks for: the robot and a plain-language description of the behaviour."""

    robot: str
    description: str


@dataclass
class RewriteVideos:
    """The two clips of an iteration, for rewriters that see video directly."""

    expert_clip: Path
    rollout_video: Path
    out_dir: Path


def code_digest(code: str) -> str:
    """Identity of a reward candidate for de-duplication: sha256 of its syntax tree printed back
    (``ast.unparse``), so two samples that differ only in comments or layout are one candidate;
    code that does not parse is taken as written."""
    try:
        canonical = ast.unparse(ast.parse(code))
    except (SyntaxError, ValueError):
        canonical = code
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Proposal:
    """One reward candidate a rewriter proposes: its code, one line saying what it changes, and
    (backends that validated it) the :class:`vidreward.reward.validate.ValidationReport` of it."""

    code: str
    label: str
    report: Any = None

    @property
    def digest(self) -> str:
        return code_digest(self.code)


@dataclass
class CandidateRecord:
    """What the search knows of one earlier candidate: what it changed and how it scored."""

    iteration: int
    candidate: int
    label: str
    digest: str
    gap: float | None = None
    fitness: float | None = None
    won: bool = False


@dataclass
class SearchHistory:
    """Every candidate tried so far in a run, and whether the last iteration kept its incumbent
    (no candidate beat it). Rewriters use it to propose something not tried before and to see
    which edits helped."""

    candidates: list[CandidateRecord] = field(default_factory=list)
    incumbent_kept: bool = False
    pending: frozenset[str] = frozenset()
    """Digests of this iteration's candidates already proposed (not yet scored): also not to repeat."""

    def tried(self) -> set[str]:
        return {c.digest for c in self.candidates} | set(self.pending)

    def to_markdown(self) -> str:
        """A table of the candidates (for prompts and critiques); empty when there are none."""
        if not self.candidates:
            return ""
        rows = ["| iteration | candidate | change | gap | fitness | selected |", "|---:|---:|---|---:|---:|---|"]
        for c in self.candidates:
            gap = "" if c.gap is None else f"{c.gap:.3f}"
            fit = "" if c.fitness is None else f"{c.fitness:.3f}"
            rows.append(f"| {c.iteration} | {c.candidate} | {c.label} | {gap} | {fit} | {'yes' if c.won else ''} |")
        if self.incumbent_kept:
            rows.append("")
            rows.append("No candidate of the last iteration beat the incumbent: its reward and policy were kept.")
        return "\n".join(rows)


class Rewriter(Protocol):
    name: str

    def initial(self, task: TaskSpec, env_context: str, expert_clip: Path | None = None) -> str:
        """Return the source of the iteration-0 ``reward.py``.

        ``expert_clip`` is given to backends that look at the clip themselves (single-model
        ablation)."""

    def rewrite(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: "RewriteVideos | None" = None,
    ) -> str:
        """Return the source of the next iteration's ``reward.py``.

        ``videos`` is given to backends that look at the clips themselves (single-model ablation).
        """

    def propose_initial(
        self, task: TaskSpec, env_context: str, expert_clip: Path | None, k: int
    ) -> list[Proposal]:
        """``k`` distinct iteration-0 reward candidates (``RewardCodeError`` when fewer exist)."""

    def propose_rewrites(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: "RewriteVideos | None",
        k: int,
        history: SearchHistory,
    ) -> list[Proposal]:
        """``k`` distinct next-iteration reward candidates, none of them a candidate already in
        ``history`` where the backend can tell (``RewardCodeError`` when fewer exist)."""
