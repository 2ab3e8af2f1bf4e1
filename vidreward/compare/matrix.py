"""The task x method x seed matrix: typed settings and their expansion into ordinary runs.

A config with a ``matrix`` section (and the ``tasks`` it names) gets one run per cell, named
``<task>-<method>-s<seed>`` (:func:`cell_run_name`), whose settings are, merged in this order: the
matrix's ``run`` settings (budget, iterations, search), the task's (clip, robot, task text), the
method's preset for the matrix's ``mode`` (:mod:`vidreward.compare.methods`) and the seed. The
matrix's runs become the default runs, and the comparison of the matrix is built from them. A run
is an ordinary run with its own directory, so adding a method or a seed adds runs and leaves the
existing ones (and their results) as they are.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from vidreward.compare.methods import METHODS
from vidreward.config import deep_merge, validate_section
from vidreward.errors import ConfigError


@dataclass(frozen=True)
class TaskConfig:
    """One task of ``tasks``: a robot, what it should do, and the expert clip for each mode."""

    name: str
    robot: str
    task: str
    """The task description given to the rewriter."""
    clip: str
    """The offline clip (a ``clips`` entry): real motion rendered, or generated from a stated model."""
    online_clip: str | None = None
    """The clip with the video's URL and time range, used by online matrices (default: ``clip``)."""
    about: str = ""
    """What the task is in the paper and what its clips are."""


@dataclass(frozen=True)
class Cell:
    """One run of the matrix."""

    task: str
    method: str
    seed: int
    run: str


@dataclass(frozen=True)
class MatrixConfig:
    """The ``matrix`` section: which tasks, methods and seeds, in which mode, with which budget."""

    name: str
    """The comparison's name: its outputs lie under ``results/comparison/<name>/``."""
    tasks: tuple[str, ...]
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    mode: str = "offline"
    """``offline`` (analytic/oracle stand-ins, no network) or ``online`` (model endpoints)."""
    run: dict[str, Any] | None = None
    """Settings every run of the matrix shares (iterations, train, rollout, search, warm_start)."""
    lm: dict[str, Any] | None = None
    """Online: the language-model settings of every model part (base_url, model, temperature...)."""
    rating_seed: int = 0
    """Seed of the rating page's shuffle."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "MatrixConfig | None":
        raw = config.get("matrix")
        if raw is None:
            return None
        validate_section(config, "matrix")
        m = cls(name=raw["name"], tasks=tuple(raw["tasks"]), methods=tuple(raw["methods"]),
                seeds=tuple(raw["seeds"]), mode=raw.get("mode", "offline"),
                run=dict(raw.get("run") or {}), lm=dict(raw.get("lm") or {}),
                rating_seed=raw.get("rating_seed", 0))
        m._check(config)
        return m

    def _check(self, config: dict[str, Any]) -> None:
        """What the schema (whose method and mode enums come from the registries) cannot say: the
        tasks the config defines, and the model settings an online matrix needs."""
        tasks = config.get("tasks") or {}
        for task in self.tasks:
            if task not in tasks:
                raise ConfigError(f"config matrix.tasks: no task named {task!r}; defined tasks: "
                                  f"{', '.join(sorted(tasks)) or 'none'}")
        if self.mode == "online" and not self.lm:
            raise ConfigError("config matrix.lm: an online matrix needs the model settings "
                              "(base_url, model) of its model parts")

    def cells(self) -> list[Cell]:
        """Every run of the matrix, task-major."""
        return [Cell(t, m, s, cell_run_name(t, m, s))
                for t in self.tasks for m in self.methods for s in self.seeds]


def cell_run_name(task: str, method: str, seed: int) -> str:
    """The run name of one cell of the matrix."""
    return f"{task}-{method}-s{seed}"


def task_config(config: dict[str, Any], name: str) -> TaskConfig:
    """The typed ``tasks.<name>`` entry."""
    raw = (config.get("tasks") or {}).get(name)
    if raw is None:
        raise ConfigError(f"config tasks: no task named {name!r}")
    try:
        return TaskConfig(name=name, **raw)
    except TypeError as exc:
        raise ConfigError(f"config tasks.{name}: {exc}") from exc


def cell_settings(config: dict[str, Any], matrix: MatrixConfig, cell: Cell) -> dict[str, Any]:
    """The ``runs`` entry of one cell (module docstring: the merge order)."""
    task = task_config(config, cell.task)
    method = METHODS[cell.method]
    clip = task.online_clip if matrix.mode == "online" and task.online_clip else task.clip
    if clip not in config.get("clips", {}):
        raise ConfigError(f"config tasks.{task.name}: no clip named {clip!r}")
    if matrix.mode == "offline" and method.needs_truth_offline and not config["clips"][clip].get("truth"):
        raise ConfigError(
            f"config matrix.methods: {cell.method!r} offline reads the clip's truth in place of a person "
            f"(the oracle critic), and task {task.name!r}'s clip {clip!r} declares none (set "
            f"clips.{clip}.truth or leave the method out)")
    run = deep_merge(copy.deepcopy(matrix.run or {}), {"clip": clip, "robot": task.robot, "task": task.task})
    run = deep_merge(run, method.settings(matrix.mode, matrix.lm))
    run["seed"] = cell.seed
    run.setdefault("iterations", 5)
    return run


def expand_matrix(config: dict[str, Any]) -> dict[str, Any]:
    """Add the matrix's runs to ``config["runs"]`` and make them the default runs (in place).
    A config without ``matrix`` is returned unchanged; a run name the config already uses for
    another run is an error naming it."""
    matrix = MatrixConfig.from_config(config)
    if matrix is None:
        return config
    runs = config.setdefault("runs", {})
    cells = matrix.cells()
    for cell in cells:
        settings = cell_settings(config, matrix, cell)
        if cell.run in runs and runs[cell.run] != settings:
            raise ConfigError(f"config runs.{cell.run}: the name of matrix cell ({cell.task}, "
                              f"{cell.method}, seed {cell.seed}); rename the run")
        runs[cell.run] = settings
    config["default_runs"] = [c.run for c in cells]
    return config
