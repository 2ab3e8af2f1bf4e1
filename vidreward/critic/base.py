"""Critique data model and the interface every critic backend implements."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vidreward.errors import CritiqueError

SECTIONS = ("problems", "rewrite", "remove", "new")
SECTION_TITLES = {
    "problems": "Problems",
    "rewrite": "Rewrite component",
    "remove": "Remove component",
    "new": "New component",
}


@dataclass
class Item:
    """One feedback item. ``params`` is machine-readable (analytic backends) or empty (model text)."""

    text: str
    component: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Critique:
    """Four-part feedback comparing the robot's rollout with the expert clip."""

    problems: list[Item] = field(default_factory=list)
    rewrite: list[Item] = field(default_factory=list)
    remove: list[Item] = field(default_factory=list)
    new: list[Item] = field(default_factory=list)
    backend: str = ""
    gap: float | None = None
    descriptors: dict[str, dict[str, float]] = field(default_factory=dict)
    raw_text: str = ""
    # analytic critics: the robot measured twice, from its rendered video and from its trajectory
    # {descriptor: {"video": x | None, "trajectory": y, "agree": bool | None, "note": str}}
    crosscheck: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the search of the iteration: its candidates, their scores and which one won (or the kept
    # incumbent), as vidreward.search.selection writes it; empty for a lone critique
    search: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "critique") -> "Critique":
        try:
            sections = {
                s: [Item(**item) for item in data.get(s, [])] for s in SECTIONS
            }
            return cls(
                **sections,
                backend=data.get("backend", ""),
                gap=data.get("gap"),
                descriptors=data.get("descriptors", {}),
                raw_text=data.get("raw_text", ""),
                crosscheck=dict(data.get("crosscheck") or {}),
                search=dict(data.get("search") or {}),
            )
        except TypeError as exc:
            raise CritiqueError(f"{source}: malformed critique item: {exc}") from exc

    @classmethod
    def load(cls, path: str | Path) -> "Critique":
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CritiqueError(f"{path}: cannot read critique: {exc}") from exc
        return cls.from_dict(data, source=str(path))

    def save(self, json_path: str | Path, md_path: str | Path | None = None) -> None:
        Path(json_path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        if md_path is not None:
            Path(md_path).write_text(self.to_markdown())

    def to_markdown(self) -> str:
        lines = [f"# Critique ({self.backend or 'unknown backend'})", ""]
        if self.gap is not None:
            lines += [f"Measured gap to the expert clip: **{self.gap:.3f}**", ""]
        for section in SECTIONS:
            lines.append(f"## {SECTION_TITLES[section]}")
            items = getattr(self, section)
            if not items:
                lines.append("(none)")
            for i, item in enumerate(items, 1):
                prefix = f"`{item.component}`: " if item.component else ""
                lines.append(f"{i}. {prefix}{item.text}")
            lines.append("")
        if self.descriptors:
            expert = self.descriptors.get("expert", {})
            robot = self.descriptors.get("robot", {})
            sides = [s for s in ("robot_video", "robot_trajectory") if s in self.descriptors]
            header = ["descriptor", "expert", "robot"] + [s.replace("_", " ") for s in sides]
            lines += ["## Motion descriptors", "", "| " + " | ".join(header) + " |",
                      "|" + "---|" * len(header)]
            for key in sorted(set(expert) | set(robot)):
                cells = [key, _fmt(expert.get(key)), _fmt(robot.get(key))]
                cells += [_fmt(self.descriptors[s].get(key)) for s in sides]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
            lines += _episodes_markdown(self.descriptors.get("episodes") or [])
        if self.crosscheck:
            lines += crosscheck_markdown(self.crosscheck)
        if self.search.get("text"):
            lines += [f"## {SEARCH_TITLE}", "", self.search["text"].strip(), ""]
        return "\n".join(lines)


SEARCH_TITLE = "Search: the candidates of this iteration"


CROSSCHECK_TITLE = "Cross-check: rollout video vs trajectory"


def crosscheck_markdown(crosscheck: dict[str, dict[str, Any]]) -> list[str]:
    """The cross-check part: every disagreement with its note, then one line each for the
    descriptors that agree and for those the video could not give."""
    lines = [f"## {CROSSCHECK_TITLE}", ""]
    off = [(k, e) for k, e in sorted(crosscheck.items()) if e.get("agree") is False]
    agree = [k for k, e in sorted(crosscheck.items()) if e.get("agree") is True]
    rest = [(k, e) for k, e in sorted(crosscheck.items()) if e.get("agree") is None]
    if off:
        lines += [f"{i}. `{k}`: {e.get('note', '')}" for i, (k, e) in enumerate(off, 1)]
    else:
        lines.append("No disagreement between the rollout video and the trajectory.")
    lines.append("")
    if agree:
        lines += [f"Video and trajectory agree on: {', '.join(agree)}.", ""]
    for k, e in rest:
        lines += [f"- `{k}`: {e.get('note', '')}"]
    if rest:
        lines.append("")
    return lines


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


@dataclass
class CritiqueInput:
    """Everything a critic may look at for one iteration."""

    expert_clip: Path
    rollout_video: Path
    trajectory: Path
    reward_code: str
    train_log: Path | None
    out_dir: Path
    robot: str
    task: str = ""
    episodes: tuple[tuple[Path, Path], ...] = ()
    """Further rollouts of the same policy from other reset seeds, ``(video, trajectory)`` each
    (``search.episodes``): the measuring critics take the robot's descriptors as the
    per-descriptor median over ``rollout_video`` and these."""
    expert_measurement: Path | None = None
    """The expert clip measured once already (rule ``clip_evidence``'s record directory,
    :func:`vidreward.critic.analytic.measure_expert_clip`): the analytic critic reads it instead of
    measuring ``expert_clip`` again. None: the critic measures the clip itself."""


def _episodes_markdown(episodes: list[dict[str, Any]]) -> list[str]:
    """The rollouts a robot column is the median of (``search.episodes``), one row each."""
    if not episodes:
        return []
    keys = sorted(episodes[0]["robot"])
    lines = [f"## Rollouts measured ({len(episodes)})", "",
             "The robot column above is the per-descriptor median over these rollouts of the same "
             "policy, from the run's reset seed and the next ones (the robot video and trajectory "
             "columns are the first rollout's).", "",
             "| rollout | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 1)]
    for e in episodes:
        name = "/".join(Path(e["rollout"]).parts[-2:])
        lines.append(f"| {name} | " + " | ".join(_fmt(e["robot"].get(k)) for k in keys) + " |")
    return lines + [""]


class Critic(Protocol):
    name: str

    def critique(self, inp: CritiqueInput) -> Critique: ...
