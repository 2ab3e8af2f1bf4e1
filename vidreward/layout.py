"""Where every artifact of the workflow lives: the one module that spells file names.

The rules (through ``rules/common.smk``), the stages, training, rollout, the report, the summary
and provenance all take their paths from here. Four kinds:

- :class:`ClipPaths`: an expert clip's fetched source, trimmed video, sidecar and evidence;
- :class:`RunPaths`: one run's directory, its summary, report pages, logs and benchmarks;
- :class:`IterationPaths`: one iteration's artifacts (reward code, policy, rollout, critique ...);
- :class:`ComparisonPaths`: a task x method matrix's comparison (tables, figures, rating page).

Each class gives concrete paths (``IterationPaths("ant_quick", 2).path("reward")``) and the
Snakemake pattern of the same path (``IterationPaths.pattern("reward")`` ==
``"results/{run}/iter_{i}/reward.py"``), so a rule's declared output and the file its stage
writes are the same string by construction.

An iteration holds K reward candidates (``search.candidates``), each its own chain of jobs:
``IterationPaths(run, i, candidate=k)`` places a candidate's reward, policy, rollout, trajectory,
score and measured critique under ``iter_<i>/cand_<k>/`` (``pattern(name, candidate="{k}")`` for
the rules); with successive halving (``search.halving``) its screening run lies under
``cand_<k>/screen/`` (``rung="screen"``). ``candidate=None`` is the iteration directory itself: the
proposals, the selection and copies of the selected candidate's (or the kept incumbent's) reward,
policy, rollout and trajectory, its critique and the provenance record.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

RESULTS_DIR = "results"
SHIPPED_DIR = "data/shipped"
"""Small offline expert clips kept in git (``clips.<name>.source.shipped``), with SOURCES.md."""
RAW_DIR = "data/raw"
CLIPS_DIR = "data/clips"
DOWNLOAD_CACHE_DIR = "data/cache/downloads"
CLIP_LOG_DIR = "logs/clips"

# file name of each artifact of one iteration (or of one candidate of it)
ITERATION_FILES = {
    "reward": "reward.py",
    "validation": "reward_validation.json",
    "policy": "policy.pth",
    "train_log": "train_log.csv",
    "tb": "tb",
    "rl_games": "rl_games",  # rl-games' scratch directory during training (not an output)
    "rollout": "rollout.mp4",
    "trajectory": "trajectory.npz",
    "critique": "critique.json",
    "critique_md": "critique.md",
    "critic_dir": "critic",
    "lm_dir": "lm",
    "provenance": "provenance.json",
    "proposals": "proposals.json",  # iteration: the K reward candidates the rewriter proposed
    "selection": "selection.json",  # iteration: every candidate's score and which one won, why
    "survivors": "survivors.json",  # iteration (successive halving): who continues after screening
    "score": "score.json",  # candidate: the selection objective measured on its rollout
}
# what an iteration's provenance.json records, and the record itself (the default target)
RECORDED = (
    "proposals", "reward", "validation", "policy", "train_log", "rollout", "trajectory",
    "selection", "critique", "critique_md", "critic_dir", "provenance",
)
# what one candidate's chain of jobs produces (recorded by its iteration's provenance.json)
CANDIDATE_RECORDED = (
    "reward", "validation", "policy", "train_log", "tb", "rollout", "trajectory", "score",
    "critique", "critique_md", "critic_dir",
)
# what a candidate's screening run produces under successive halving
SCREEN_RECORDED = ("policy", "train_log", "tb", "rollout", "trajectory", "score", "critique",
                   "critique_md", "critic_dir")
SELECTED = ("reward", "validation", "policy", "train_log", "rollout", "trajectory")
"""What the selection copies from the winning candidate (or the kept incumbent) to the iteration."""
SCREEN_SELECTED = tuple(n for n in SELECTED if n in SCREEN_RECORDED)
"""What the selection takes from a winning screening checkpoint's run; the rest (the reward and its
validation) is its candidate's."""
SCREEN_DIR = "screen"
RUNNER_UP_DIR = "runner_up"  # under an iteration's lm/: the model exchanges revising the runner-up
STORYBOARD = "critic/storyboard"  # under the iteration: the frames the critic saw


def _fill(template: str, **values: object) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", str(value))
    return template


class _TemplatePaths:
    """Paths from the class's ``TEMPLATES`` (name -> Snakemake pattern): ``pattern(name)`` is the
    pattern (``fixed`` wildcards filled), ``path(name)`` the concrete path, the wildcard named after
    the dataclass's one field filled from it (and any further ``values``)."""

    TEMPLATES: dict[str, str] = {}

    @classmethod
    def pattern(cls, name: str, **fixed: object) -> str:
        return _fill(cls.TEMPLATES[name], **fixed)

    def path(self, name: str, **values: object) -> str:
        key = fields(self)[0].name
        return _fill(self.TEMPLATES[name], **{key: getattr(self, key)}, **values)


@dataclass(frozen=True)
class ClipPaths(_TemplatePaths):
    """The files of one expert clip."""

    clip: str

    TEMPLATES = {
        "raw_video": f"{RAW_DIR}/{{clip}}.mp4",
        "fetch_info": f"{RAW_DIR}/{{clip}}.fetch.json",
        "video": f"{CLIPS_DIR}/{{clip}}.mp4",
        "sidecar": f"{CLIPS_DIR}/{{clip}}.json",
        "evidence": f"{CLIPS_DIR}/evidence/{{clip}}.json",
        # the same measurement's record for the critics (evidence.json, track.csv, expert_<k>.png
        # overlays): the analytic critic reads it instead of measuring the clip for every candidate
        "measurement": f"{CLIPS_DIR}/evidence/{{clip}}",
        "fetch_log": f"{CLIP_LOG_DIR}/{{clip}}.fetch.log",
        "trim_log": f"{CLIP_LOG_DIR}/{{clip}}.trim.log",
        "evidence_log": f"{CLIP_LOG_DIR}/{{clip}}.evidence.log",
    }


SUITE_DIR = "data/motion_suite"
"""Clips of the ground-truth suite (vidreward.perception.suite), rendered by rule suite_clip."""
SUITE_FILES = {
    "video": f"{SUITE_DIR}/{{suite_clip}}.mp4",
    "truth": f"{SUITE_DIR}/{{suite_clip}}.truth.json",
    "truth_arrays": f"{SUITE_DIR}/{{suite_clip}}.truth.npz",
    "log": f"{CLIP_LOG_DIR}/suite/{{suite_clip}}.log",
}


def shipped_clip(name: str) -> str:
    """A shipped clip's file (``clips.<clip>.source.shipped: <name>``)."""
    return f"{SHIPPED_DIR}/{name}"


def feedback_file(feedback_dir: str, run: str, i: int | str) -> str:
    """The file a person writes for the human critic of iteration ``i`` (config ``feedback_dir``)."""
    return f"{feedback_dir}/{run}/iter_{i}.md"


@dataclass(frozen=True)
class RunPaths(_TemplatePaths):
    """The files of one run."""

    run: str

    TEMPLATES = {
        "dir": f"{RESULTS_DIR}/{{run}}",
        "summary_csv": f"{RESULTS_DIR}/{{run}}/summary.csv",
        "summary_json": f"{RESULTS_DIR}/{{run}}/summary.json",
        "summary_log": f"{RESULTS_DIR}/{{run}}/logs/summary.log",
        "report_iteration": f"{RESULTS_DIR}/{{run}}/report/iter_{{i}}",
        "report_overview": f"{RESULTS_DIR}/{{run}}/report/overview",
        "report_plot": f"{RESULTS_DIR}/{{run}}/report/summary.png",
        "run_page_log": f"{RESULTS_DIR}/{{run}}/logs/run_page.log",
        "robustness_episodes": f"{RESULTS_DIR}/{{run}}/robustness/episodes",
        "robustness_csv": f"{RESULTS_DIR}/{{run}}/robustness/episodes.csv",
        "robustness_json": f"{RESULTS_DIR}/{{run}}/robustness/summary.json",
        "robustness_log": f"{RESULTS_DIR}/{{run}}/logs/robustness.log",
        "robustness_benchmark": f"{RESULTS_DIR}/{{run}}/benchmarks/robustness.tsv",
    }

    @property
    def dir(self) -> Path:
        return Path(self.path("dir"))

    def iteration(self, i: int, candidate: int | None = None) -> "IterationPaths":
        return IterationPaths(self.run, i, candidate)

    def report_pages(self, iterations: int) -> list[str]:
        pages = [self.path("report_iteration", i=i) for i in range(iterations)]
        return pages + [self.path("report_overview"), self.path("report_plot")]


COMPARISON_DIR = f"{RESULTS_DIR}/comparison"


@dataclass(frozen=True)
class ComparisonPaths(_TemplatePaths):
    """The files of one matrix's comparison (``matrix.name``): its tables, figures and the rating
    page. ``ratings`` is where people's ratings are saved (``<ratings_dir>/<name>.json``, input,
    not a result)."""

    name: str

    TEMPLATES = {
        "dir": f"{COMPARISON_DIR}/{{name}}",
        "scores_csv": f"{COMPARISON_DIR}/{{name}}/scores.csv",
        "table_csv": f"{COMPARISON_DIR}/{{name}}/table.csv",
        "table_md": f"{COMPARISON_DIR}/{{name}}/table.md",
        "bars": f"{COMPARISON_DIR}/{{name}}/scores.png",
        "curves": f"{COMPARISON_DIR}/{{name}}/curves.png",
        "rating_page": f"{COMPARISON_DIR}/{{name}}/rating",
        "rating_key": f"{COMPARISON_DIR}/{{name}}/rating_key.json",
        "ratings_csv": f"{COMPARISON_DIR}/{{name}}/ratings.csv",
        "compare_log": f"{COMPARISON_DIR}/{{name}}/logs/compare.log",
        "rating_page_log": f"{COMPARISON_DIR}/{{name}}/logs/rating_page.log",
        "ratings_log": f"{COMPARISON_DIR}/{{name}}/logs/ratings.log",
    }

    def targets(self) -> list[str]:
        """What a matrix's comparison builds (the default target lists them)."""
        return [self.path(n) for n in ("table_csv", "table_md", "bars", "curves", "rating_page")]


def ratings_file(ratings_dir: str, name: str) -> str:
    """Where the rating page saves the ratings of matrix ``name`` (config ``ratings_dir``)."""
    return f"{ratings_dir}/{name}.json"


@dataclass(frozen=True)
class IterationPaths:
    """The files of one iteration (``candidate`` None) or of one reward candidate of it."""

    run: str
    i: int | str
    candidate: int | str | None = None
    rung: str | None = None  # None: the candidate's final training; SCREEN_DIR: its screening run

    ITER_DIR = f"{RESULTS_DIR}/{{run}}/iter_{{i}}"
    CANDIDATE_DIR = "cand_{k}"

    @classmethod
    def dir_pattern(cls, i: str = "{i}", candidate: str | None = None, rung: str | None = None) -> str:
        base = _fill(cls.ITER_DIR, i=i)
        if candidate is not None:
            base = f"{base}/{_fill(cls.CANDIDATE_DIR, k=candidate)}"
        return base if rung is None else f"{base}/{rung}"

    @classmethod
    def pattern(cls, name: str, i: str = "{i}", candidate: str | None = None,
                rung: str | None = None) -> str:
        """Snakemake pattern of artifact ``name``, e.g. ``results/{run}/iter_{i}/reward.py``."""
        return f"{cls.dir_pattern(i, candidate, rung)}/{ITERATION_FILES[name]}"

    @classmethod
    def log_pattern(cls, stage: str, i: str = "{i}", candidate: str | None = None,
                    rung: str | None = None) -> str:
        return f"{cls._side_dir('logs', i, candidate, rung)}/{stage}.log"

    @classmethod
    def benchmark_pattern(cls, stage: str = "", i: str = "{i}", candidate: str | None = None,
                          rung: str | None = None) -> str:
        """A stage's benchmark TSV; with no stage, the iteration's benchmark directory (whose
        candidates' TSVs lie in ``cand_<k>/`` below it)."""
        base = cls._side_dir("benchmarks", i, candidate, rung)
        return f"{base}/{stage}.tsv" if stage else base

    @classmethod
    def _side_dir(cls, kind: str, i: str, candidate: str | None, rung: str | None) -> str:
        base = f"{RESULTS_DIR}/{{run}}/{kind}/iter_{i}"
        if candidate is not None:
            base = f"{base}/{_fill(cls.CANDIDATE_DIR, k=candidate)}"
        return base if rung is None else f"{base}/{rung}"

    @property
    def dir(self) -> Path:
        return Path(_fill(self.dir_pattern(str(self.i), None if self.candidate is None else str(self.candidate),
                                           self.rung), run=self.run))

    def path(self, name: str) -> Path:
        return self.dir / ITERATION_FILES[name]

    def recorded(self) -> list[str]:
        """Every artifact of the iteration itself its provenance.json records, and the record."""
        return [str(self.path(name)) for name in RECORDED]

    def cand(self, k: int, rung: str | None = None) -> "IterationPaths":
        """Candidate ``k`` of this iteration (its screening run with ``rung=SCREEN_DIR``)."""
        return IterationPaths(self.run, self.i, k, rung)

    def candidate_recorded(self, k: int, halving: bool = False) -> list[str]:
        """Every artifact of candidate ``k`` (and of its screening run under halving)."""
        paths = [str(self.cand(k).path(n)) for n in CANDIDATE_RECORDED]
        if halving:
            paths += [str(self.cand(k, SCREEN_DIR).path(n)) for n in SCREEN_RECORDED]
        return paths

    @property
    def previous(self) -> "IterationPaths":
        return IterationPaths(self.run, int(self.i) - 1, self.candidate, self.rung)

    @property
    def storyboard(self) -> Path:
        return self.dir / STORYBOARD

    @property
    def benchmarks(self) -> str:
        return _fill(self.benchmark_pattern(), run=self.run, i=self.i)

    @staticmethod
    def in_dir(directory: str | Path, name: str) -> Path:
        """Artifact ``name`` inside an iteration directory given as a path."""
        return Path(directory) / ITERATION_FILES[name]

    @classmethod
    def candidate_name(cls, k: int | str) -> str:
        """The directory name of candidate ``k`` (``cand_<k>``), also its label in tables."""
        return _fill(cls.CANDIDATE_DIR, k=k)

    @classmethod
    def candidate_in_dir(cls, directory: str | Path, k: int | str) -> Path:
        """Candidate ``k``'s directory inside an iteration directory given as a path."""
        return Path(directory) / cls.candidate_name(k)


def iteration_index(directory: str | Path) -> int:
    """The ``i`` of an ``iter_<i>`` directory (or of a candidate directory inside one)."""
    path = Path(directory)
    while not path.name.startswith("iter_") and path != path.parent:
        path = path.parent  # a candidate's directory, or its screening run's
    return int(path.name.removeprefix("iter_"))


def iteration_dirs(run_dir: str | Path) -> list[Path]:
    """The ``iter_<i>`` directories of a run directory, in order of ``i``."""
    dirs = [p for p in Path(run_dir).glob("iter_*") if p.is_dir() and p.name[5:].isdigit()]
    return sorted(dirs, key=iteration_index)
