"""The comparison: method presets, the matrix's expansion into runs, Eureka's statistics critic, the
imitation objective, the single-level rewriter stand-in and the comparison table."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from vidreward.compare.matrix import MatrixConfig, cell_run_name, expand_matrix
from vidreward.compare.methods import METHODS
from vidreward.compare.stats import mean_ci95
from vidreward.config import RunSettings, validate_config
from vidreward.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def paper_config(**matrix) -> dict:
    """config.yaml + tasks.yaml + quick_matrix.yaml, merged as Snakemake merges --configfile."""
    from snakemake.utils import update_config

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for name in ("tasks.yaml", "quick_matrix.yaml"):
        update_config(config, yaml.safe_load((REPO / "config" / name).read_text()))
    config["matrix"].update(matrix)
    return config


def test_mean_ci95_is_students_t_interval():
    mean, low, high, n = mean_ci95([3, 4, 5])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t_{0.975, 2} * sd / sqrt(n)
    assert (mean, n) == (4.0, 3)
    assert low == pytest.approx(4 - half) and high == pytest.approx(4 + half)
    assert mean_ci95([0.5]) == (0.5, 0.5, 0.5, 1)
    assert mean_ci95([None, float("nan")])[3] == 0


def test_the_quick_matrix_expands_into_one_valid_run_per_cell():
    config = validate_config(expand_matrix(paper_config()))
    matrix = MatrixConfig.from_config(config)
    cells = matrix.cells()
    assert len(cells) == 1 * 5 * 2
    assert config["default_runs"] == [c.run for c in cells]
    assert cell_run_name("dog_hopping", "eureka", 1) == "dog_hopping-eureka-s1"
    for cell in cells:
        s = RunSettings.from_config(config, cell.run)
        assert s.seed == cell.seed and s.iterations == 2 and s.search.candidates == 1
        assert s.robot == config["tasks"][cell.task]["robot"]
        assert s.clip == config["tasks"][cell.task]["clip"]
        assert s.train.total_env_steps == 8192
        assert s.critic.lm is None and s.rewriter.lm is None  # offline: no model anywhere


@pytest.mark.parametrize("method,critic,evidence,rewriter,selection", [
    ("bilevel", "analytic", "measured", "analytic", "gap"),
    ("eureka", "statistics", "none", "analytic", "mean_return"),
    ("eureka_gt", "statistics", "none", "analytic", "imitation"),
    ("human_vlm", "oracle", "measured", "analytic", "gap"),
    ("single_vlm", "analytic", "measured", "analytic_single", "gap"),
])
def test_each_method_preset_sets_its_critic_rewriter_and_selection(method, critic, evidence, rewriter, selection):
    config = validate_config(expand_matrix(paper_config(methods=[method], seeds=[0], tasks=["dog_hopping"])))
    s = RunSettings.from_config(config, cell_run_name("dog_hopping", method, 0))
    assert (s.critic.backend, s.critic.evidence, s.rewriter.backend, s.search.selection) == (
        critic, evidence, rewriter, selection)


def test_online_methods_call_the_configured_endpoint_and_eureka_sees_no_video():
    lm = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "temperature": 0.7}
    config = validate_config(expand_matrix(paper_config(mode="online", lm=lm, seeds=[0])))
    bilevel = RunSettings.from_config(config, "spider_jumping-bilevel-s0")
    assert bilevel.critic.backend == "openai" and bilevel.critic.lm.base_url == lm["base_url"]
    assert bilevel.rewriter.backend == "openai" and bilevel.rewriter.lm.model == "m"
    eureka = RunSettings.from_config(config, "spider_jumping-eureka-s0")
    assert eureka.critic.backend == "statistics" and eureka.critic.lm is None
    assert eureka.critic.evidence == "none" and eureka.rewriter.backend == "openai"
    assert RunSettings.from_config(config, "spider_jumping-single_vlm-s0").rewriter.backend == "single_model"
    assert RunSettings.from_config(config, "spider_jumping-human_vlm-s0").critic.backend == "human"


@pytest.mark.parametrize("change,message", [
    ({"methods": ["bilevel", "dreamer"]}, "matrix.methods.1: 'dreamer' is not one of \\['bilevel'"),
    ({"tasks": ["moonwalk"]}, "no task named 'moonwalk'"),
    ({"seeds": [0, 0]}, "matrix.seeds: .*non-unique"),
    ({"seeds": ["zero"]}, "matrix.seeds.0: 'zero' is not of type 'integer'"),
    ({"methods": []}, "matrix.methods: .*should be non-empty"),
    ({"budget": 3}, "matrix: unknown key.*'budget'.*allowed keys: lm, methods"),
    ({"mode": "cloud"}, "matrix.mode"),
    ({"mode": "online"}, "matrix.lm"),
])
def test_bad_matrix_settings_fail_naming_the_key(change, message):
    with pytest.raises(ConfigError, match=message):
        expand_matrix(paper_config(**change))


def test_human_vlm_offline_needs_a_clip_with_truth():
    config = paper_config(methods=["human_vlm"], tasks=["dog_hopping"])
    del config["clips"]["suite_quad_hop_fixed_checkered"]["truth"]
    with pytest.raises(ConfigError, match="human_vlm.*declares none"):
        expand_matrix(config)


def test_a_run_name_taken_by_another_run_is_an_error():
    config = paper_config(seeds=[0], tasks=["dog_hopping"])
    config["runs"]["dog_hopping-eureka-s0"] = copy.deepcopy(config["runs"]["ant_cmu_jumps"])
    with pytest.raises(ConfigError, match="runs.dog_hopping-eureka-s0"):
        expand_matrix(config)


def test_every_task_has_a_clip_with_a_truth_file_and_a_plain_statement_of_what_it_is():
    tasks = yaml.safe_load((REPO / "config/tasks.yaml").read_text())
    assert set(tasks["tasks"]) == {"spider_walking", "spider_jumping", "human_running", "split_landing",
                                   "dog_hopping"}
    robots = {t["robot"] for t in tasks["tasks"].values()}
    assert robots == {"ant", "humanoid", "anymal"}
    for name, task in tasks["tasks"].items():
        clip = tasks["clips"][task["clip"]]
        assert clip["truth"].endswith(".truth.json"), name
        assert "Offline clip:" in task["about"] and ("generated" in task["about"] or "real" in task["about"])
    # Suite clips exist as specs, and the running task's clip is a person running (motion capture).
    from vidreward.perception.suite import get_spec

    specs = {name: get_spec(Path(clip["source"]["file"]).stem) for name, clip in tasks["clips"].items()}
    run = specs[tasks["tasks"]["human_running"]["clip"]]
    assert (run.subject, run.motion, run.mocap) == ("human", "run", "deepmimic_run")


def _train_log(path: Path, columns: dict[str, list[float]], returns: list[float]) -> Path:
    n = len(returns)
    table = {"epoch": list(range(n)), "env_steps": [1000 * (i + 1) for i in range(n)], "mean_return": returns,
             "mean_episode_length": [100.0] * n}
    table.update({f"reward/{k}": v for k, v in columns.items()})
    pd.DataFrame(table).to_csv(path, index=False)
    return path


def test_the_statistics_critic_follows_eurekas_reflection_without_looking_at_video(tmp_path):
    from vidreward.critic.base import CritiqueInput
    from vidreward.critic.statistics import StatisticsCritic
    from vidreward.reward.terms import render_reward_code

    code = render_reward_code({"forward_velocity": {"scale": 1.0}, "height": {"scale": 2.0},
                               "upright": {"scale": 0.5}, "alive": {"scale": 0.1}}, "test")
    log = _train_log(tmp_path / "train_log.csv", {
        "forward_velocity": [0.1, 0.4, 0.9, 1.5],    # learns: untouched
        "height": [2.0, 2.0, 2.001, 2.0],           # flat: doubled
        "upright": [0.0001, 0.0001, 0.0001, 0.0001],  # flat and negligible: dropped
        "alive": [0.1, 0.1, 0.1, 0.1]}, [5.0, 4.0, 4.5, 3.0])
    missing_video = tmp_path / "no_such_video.mp4"
    inp = CritiqueInput(expert_clip=missing_video, rollout_video=missing_video, trajectory=tmp_path / "none.npz",
                        reward_code=code, train_log=log, out_dir=tmp_path / "critic", robot="ant")
    crit = StatisticsCritic().critique(inp)
    assert crit.backend == "statistics" and crit.gap is None and crit.descriptors == {}
    rewrite = {i.component: i.params for i in crit.rewrite}
    assert rewrite["height"] == {"scale": 4.0}
    assert "alive" not in rewrite and "alive" not in [i.component for i in crit.remove]  # flat by design
    assert [i.component for i in crit.remove] == ["upright"]
    assert "forward_velocity" not in rewrite
    assert any("did not grow" in i.text for i in crit.problems)
    assert "reward/height" in crit.raw_text  # the statistics themselves


def test_the_statistics_critic_halves_a_dominant_term(tmp_path):
    from vidreward.critic.base import CritiqueInput
    from vidreward.critic.statistics import StatisticsCritic
    from vidreward.reward.terms import render_reward_code

    code = render_reward_code({"forward_velocity": {"scale": 1.0}, "alive": {"scale": 3.0}}, "test")
    log = _train_log(tmp_path / "train_log.csv", {"forward_velocity": [0.1, 0.3, 0.5], "alive": [1.0, 5.0, 9.0]},
                     [1.0, 2.0, 3.0])
    inp = CritiqueInput(expert_clip=tmp_path, rollout_video=tmp_path, trajectory=tmp_path, reward_code=code,
                        train_log=log, out_dir=tmp_path, robot="ant")
    crit = StatisticsCritic().critique(inp)
    assert {i.component: i.params for i in crit.rewrite} == {"alive": {"scale": 1.5}}
    assert not any("did not grow" in i.text for i in crit.problems)


def test_the_imitation_objective_prefers_the_higher_score_and_keeps_a_better_incumbent():
    from vidreward.search import SearchConfig
    from vidreward.search import selection as sel

    search = SearchConfig(candidates=2, selection="imitation")
    scores = [sel.score_record(search, k, gap=g, mean_return=r, backend="analytic", imitation=im,
                               imitation_source="truth")
              for k, (g, r, im) in enumerate([(0.2, 90.0, 0.4), (0.9, 10.0, 0.7)])]
    assert [s["candidate"] for s in sel.rank(search, scores)] == [1, 0]
    cands = [{"candidate": s["candidate"], "label": f"c{s['candidate']}", "digest": str(s["candidate"]),
              "dir": f"cand_{s['candidate']}", "score": s} for s in scores]
    first = sel.select(search, 0, cands, None)
    assert first["winner"]["candidate"] == 1 and first["best_value"] == 0.7
    worse = [dict(c, score=dict(c["score"], value=0.5, imitation=0.5)) for c in cands]
    second = sel.select(search, 1, worse, {"selection": first, "dir": "iter_0"})
    assert second["incumbent_kept"]
    text = sel.search_markdown(first)
    assert "| imitation |" in text and "gap" not in text.split("Why:")[0].lower().replace("imitation", "")
    assert all(h["gap"] is None and h["fitness"] in (0.4, 0.7) for h in first["history"])


def test_the_single_level_stand_in_ignores_the_critics_edits(tmp_path):
    from vidreward.critic.base import Critique, Item
    from vidreward.reward.terms import read_terms, render_reward_code
    from vidreward.rewriter.analytic import AnalyticRewriter
    from vidreward.rewriter.base import TaskSpec
    from vidreward.rewriter.single_analytic import SingleAnalyticRewriter

    code = render_reward_code({"forward_velocity": {"scale": 1.0}, "vertical_bounce": {"scale": 1.0},
                               "upright": {"scale": 0.5}}, "test")
    critique = Critique(backend="analytic", gap=0.9,
                        descriptors={"expert": {"speed": 0.4, "bounce_amplitude": 0.1, "bounce_frequency": 0.7,
                                                "airborne_fraction": 0.2, "height_ratio": 0.9},
                                     "robot": {"speed": 0.4, "bounce_amplitude": 0.0, "bounce_frequency": 0.0,
                                               "airborne_fraction": 0.0, "height_ratio": 1.0}},
                        rewrite=[Item("set the speed target", "forward_velocity", {"scale": 7.0})],
                        new=[Item("add flight", "flight", {"scale": 2.0})])
    task = TaskSpec(robot="ant", description="Jump forward.")
    asked = AnalyticRewriter().propose_rewrites(task, code, critique, k=1)[0]
    assert read_terms(asked.code)["forward_velocity"]["scale"] == 7.0 and "flight" in read_terms(asked.code)
    single = SingleAnalyticRewriter().propose_rewrites(task, code, critique, k=2)
    for proposal in single:
        terms = read_terms(proposal.code)
        assert "flight" not in terms and terms["forward_velocity"]["scale"] != 7.0
    assert read_terms(single[0].code) != read_terms(code)  # a search move, not the unchanged code


def test_the_comparison_table_gives_mean_and_interval_per_task_and_method(tmp_path):
    from vidreward.compare.table import compare_stage

    config = expand_matrix(paper_config(tasks=["dog_hopping"], methods=["bilevel", "eureka"], seeds=[0, 1, 2]))
    matrix = MatrixConfig.from_config(config)
    finals = {"bilevel": [0.6, 0.7, 0.8], "eureka": [0.3, 0.3, 0.3]}
    summaries = []
    for cell in matrix.cells():
        path = tmp_path / f"{cell.run}.csv"
        pd.DataFrame({"iteration": [0, 1], "gap": [1.0, 0.5],
                      "imitation_score": [0.1, finals[cell.method][cell.seed]],
                      "imitation_source": ["truth", "truth"]}).to_csv(path, index=False)
        summaries.append(str(path))
    ratings = tmp_path / "ratings.csv"
    pd.DataFrame([{"task": "dog_hopping", "method": "bilevel", "n_ratings": 2, "rating_mean": 4.5,
                   "rating_ci_low": 3.0, "rating_ci_high": 6.0},
                  {"task": "dog_hopping", "method": "eureka", "n_ratings": 0, "rating_mean": float("nan"),
                   "rating_ci_low": float("nan"), "rating_ci_high": float("nan")}]).to_csv(ratings, index=False)
    out = {k: str(tmp_path / f"out.{k}") for k in ("scores", "table", "md", "bars", "curves")}
    table = compare_stage(matrix, summaries, str(ratings), out["scores"], out["table"], out["md"],
                          out["bars"], out["curves"]).set_index("method")
    assert table.loc["bilevel", "imitation_mean"] == pytest.approx(0.7)
    assert table.loc["bilevel", "imitation_ci_high"] - 0.7 == pytest.approx(4.302652729911275 * 0.1 / math.sqrt(3))
    assert table.loc["eureka", "imitation_ci_low"] == pytest.approx(0.3)
    assert table.loc["bilevel", "rating_mean"] == 4.5 and table.loc["eureka", "n_ratings"] == 0
    md = Path(out["md"]).read_text()
    assert "| dog_hopping | bilevel | 0.700 [" in md and "4.50 [3.00, 6.00] (n=2)" in md
    assert "Offline stand-in: analytic critic" in md
    for key in ("bars", "curves"):
        assert Path(out[key]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(pd.read_csv(out["scores"])) == 12
