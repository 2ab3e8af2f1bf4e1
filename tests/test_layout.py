"""One source for every artifact path (vidreward.layout) and typed settings (vidreward.config)."""

from __future__ import annotations

import dataclasses
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vidreward import layout
from vidreward.config import (
    EVIDENCE_MODES,
    ClipConfig,
    CriticConfig,
    RolloutConfig,
    RunSettings,
    load_schema,
    validate_config,
)
from vidreward.errors import ConfigError
from vidreward.layout import ClipPaths, IterationPaths, RunPaths

REPO = Path(__file__).resolve().parents[1]
QUICK = REPO / "config" / "quick.yaml"


# --------------------------------------------------------------------------- layout


def test_patterns_and_paths_are_the_same_string():
    assert IterationPaths.pattern("reward") == "results/{run}/iter_{i}/reward.py"
    assert IterationPaths.pattern("reward", i="0") == "results/{run}/iter_0/reward.py"
    it = IterationPaths("ant_quick", 2)
    for name in layout.ITERATION_FILES:
        expected = IterationPaths.pattern(name).format(run="ant_quick", i=2)
        assert str(it.path(name)) == expected
    assert ClipPaths("c").path("evidence") == ClipPaths.pattern("evidence").format(clip="c")
    assert RunPaths("r").path("summary_csv") == "results/r/summary.csv"
    assert it.previous.dir == Path("results/ant_quick/iter_1")


def test_candidate_level_has_its_own_artifacts():
    """Room for several reward candidates per iteration, each with its own reward/policy/rollout."""
    cand = IterationPaths("r", 3, candidate=1)
    assert cand.path("reward") == Path("results/r/iter_3/cand_1/reward.py")
    assert cand.path("policy") == Path("results/r/iter_3/cand_1/policy.pth")
    assert IterationPaths.pattern("rollout", candidate="{k}") == "results/{run}/iter_{i}/cand_{k}/rollout.mp4"
    assert layout.iteration_index(cand.dir) == 3
    assert cand.previous == IterationPaths("r", 2, candidate=1)


def _dry_run_files() -> set[str]:
    """Every file the quick config's DAG produces (Snakemake's own --summary; nothing runs)."""
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--configfile", str(QUICK), "--summary", "-n",
         "--nolock"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    files = set()
    for line in out.stdout.splitlines():
        cells = line.split("\t")
        if cells and cells[0] and cells[0] != "output_file" and not cells[0].startswith(("Building", "Using", "Config")):
            files.add(cells[0])
    return files


def _layout_files(config: dict) -> set[str]:
    """The same files, spelled by the layout module alone."""
    files: set[str] = set()
    for clip in config["clips"]:
        files |= {ClipPaths(clip).path(n) for n in ("raw_video", "fetch_info", "video", "sidecar", "evidence",
                                                  "measurement")}
    for run in config["default_runs"]:
        n = config["runs"][run]["iterations"]
        for i in range(n):
            it = IterationPaths(run, i)
            files |= {str(it.path(name)) for name in layout.RECORDED}
            files |= set(it.candidate_recorded(0))  # the quick run has one candidate
        paths = RunPaths(run)
        files |= {paths.path("summary_csv"), paths.path("summary_json")}
        files |= set(paths.report_pages(n))
    return files


def test_every_declared_output_comes_from_the_layout():
    config = yaml.safe_load(QUICK.read_text())
    assert _dry_run_files() == _layout_files(config)


def test_rules_spell_no_artifact_path():
    """File names live in vidreward/layout.py: the rules hold no path literal of their own."""
    literal = re.compile(r"""["']([^"'\n]*(?:results/|data/|logs/|\.mp4|\.npz|\.pth|\.csv|\.json|\.md)[^"'\n]*)["']""")
    allowed = ("../scripts/", "../envs/", "../report/")
    offenders = []
    for smk in sorted((REPO / "rules").glob("*.smk")) + [REPO / "Snakefile"]:
        for n, line in enumerate(smk.read_text().splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            for m in literal.finditer(line):
                if not m.group(1).startswith(allowed) and m.group(1) not in ("config/config.yaml", "params.yaml"):
                    offenders.append(f"{smk.name}:{n}: {m.group(1)}")
    assert not offenders, offenders


# --------------------------------------------------------------------------- typed stages


def test_no_stage_takes_a_json_string():
    from vidreward import provenance, stages, summary

    from vidreward.search import stages as search_stages

    funcs = [f for mod in (stages, search_stages)
             for _, f in inspect.getmembers(mod, inspect.isfunction) if f.__name__.endswith("_stage")]
    funcs += [provenance.write_provenance, summary.write_summary]
    assert len(funcs) >= 8
    for fn in funcs:
        for name, param in inspect.signature(fn).parameters.items():
            assert not name.endswith("_json"), f"{fn.__name__}({name})"
    sig = inspect.signature(stages.critique_stage).parameters
    assert "settings" in sig and "critic_json" not in sig


def test_training_seed_rule_has_one_home():
    config = validate_config(yaml.safe_load(QUICK.read_text()))
    settings = RunSettings.from_config(config, "ant_quick")
    settings = dataclasses.replace(settings, seed=7)
    assert settings.train_config(2).seed == 9
    assert settings.seeds(2) == {"run": 7, "train": 9, "train_candidates": [9], "rollout": 7}
    three = dataclasses.replace(settings, search=dataclasses.replace(settings.search, candidates=3))
    assert three.train_config(2, candidate=2).seed == 2009
    assert three.seeds(2)["train_candidates"] == [9, 1009, 2009]


# --------------------------------------------------------------------------- schema from code


def _fill(cls, skip=()) -> dict:
    """A value for every field of dataclass ``cls``, different from its default where possible."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        default = f.default
        if isinstance(default, bool):
            values[f.name] = not default
        elif isinstance(default, int):
            values[f.name] = default + 1
        elif isinstance(default, float):
            values[f.name] = default / 2 if default else 0.5
        elif isinstance(default, (tuple, list)):
            values[f.name] = list(default)
        else:
            values[f.name] = default
    return values


def test_schema_accepts_every_field_of_every_config_dataclass():
    from vidreward.lm.config import LMConfig
    from vidreward.train.config import TrainConfig

    lm = _fill(LMConfig)
    lm.update(cache_mode="replay", base_url="http://localhost:1/v1", cache_dir="data/other_cache")
    train = _fill(TrainConfig, skip=("seed",))
    train.update(lr_schedule="linear", activation="relu", num_envs=8, horizon=16, minibatch_size=64)
    config = {
        "clips": {"c": {"source": {"shipped": "x.mp4"}, "start": 0, "end": 1}},
        "runs": {
            "r": {
                "clip": "c", "robot": "anymal", "task": "t", "iterations": 1,
                "train": train,
                "rollout": _fill(RolloutConfig),
                "critic": {"backend": "openai", "evidence": "none", **lm},
                "rewriter": {"backend": "single_model", **lm},
            }
        },
    }
    validate_config(config)
    settings = RunSettings.from_config(config, "r")
    assert settings.critic.lm == LMConfig.from_dict(lm)
    assert settings.rewriter.lm == settings.critic.lm
    assert settings.critic.evidence == "none"
    assert settings.rollout == RolloutConfig(**_fill(RolloutConfig))
    for key, value in train.items():
        got = getattr(settings.train, key)
        assert (list(got) if isinstance(got, tuple) else got) == value, key


def test_schema_enums_are_the_registries():
    from vidreward.backends import CRITIC_BACKENDS, REWRITER_BACKENDS
    from vidreward.sim.robots import ROBOTS

    run = load_schema()["$defs"]["run"]["properties"]
    assert run["robot"]["enum"] == list(ROBOTS)
    assert run["critic"]["allOf"][1]["properties"]["backend"]["enum"] == list(CRITIC_BACKENDS)
    assert run["critic"]["allOf"][1]["properties"]["evidence"]["enum"] == list(EVIDENCE_MODES)
    assert run["rewriter"]["allOf"][1]["properties"]["backend"]["enum"] == list(REWRITER_BACKENDS)


def test_evidence_is_a_critic_setting_only():
    base = yaml.safe_load(QUICK.read_text())
    run = base["runs"]["ant_quick"]
    run["rewriter"] = {"backend": "analytic", "evidence": "none"}
    with pytest.raises(ConfigError, match="rewriter"):
        validate_config(base)
    run["rewriter"] = {"backend": "analytic"}
    run["critic"] = {"backend": "analytic", "evidence": "none"}
    with pytest.raises(ConfigError, match="evidence"):
        validate_config(base)
    assert RunSettings.from_config(
        {**base, "runs": {"ant_quick": {**run, "critic": {"backend": "human"}}}}, "ant_quick"
    ).critic == CriticConfig(backend="human", evidence="measured")


def test_clip_config_round_trips():
    config = validate_config(yaml.safe_load(QUICK.read_text()))
    clip = ClipConfig.from_config(config, "cmu_jumps_short")
    assert clip.to_dict() == config["clips"]["cmu_jumps_short"]


def test_dvc_stage_tracks_the_layout_directories():
    """dvc.yaml cannot import the layout; this keeps its paths equal to the layout's."""
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["workflow"]
    assert layout.SHIPPED_DIR in stage["deps"]
    outs = {next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"]}
    assert {layout.RAW_DIR, layout.CLIPS_DIR, layout.RESULTS_DIR} <= outs
    schema = load_schema()
    assert layout.SHIPPED_DIR in schema["$defs"]["clip"]["properties"]["source"]["description"]


def test_candidate_and_screening_paths_and_the_iteration_index():
    it = IterationPaths("r", 2)
    assert it.cand(1).path("score") == Path("results/r/iter_2/cand_1/score.json")
    assert it.cand(1, layout.SCREEN_DIR).path("policy") == Path("results/r/iter_2/cand_1/screen/policy.pth")
    assert IterationPaths.pattern("policy", candidate="{k}", rung=layout.SCREEN_DIR) == \
        "results/{run}/iter_{i}/cand_{k}/screen/policy.pth"
    assert IterationPaths.log_pattern("train_policy", candidate="{k}") == \
        "results/{run}/logs/iter_{i}/cand_{k}/train_policy.log"
    assert layout.iteration_index("results/r/iter_2/cand_1/screen") == 2
    with_screen = it.candidate_recorded(0, halving=True)
    assert "results/r/iter_2/cand_0/screen/score.json" in with_screen
    assert len(with_screen) == len(layout.CANDIDATE_RECORDED) + len(layout.SCREEN_RECORDED)
