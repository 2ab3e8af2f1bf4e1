"""The search within an iteration, unit by unit: settings, the analytic rewriter's K distinct
candidates, successive halving, the selection with its best-so-far incumbent, and the history the
next rewrite sees."""

import json
from pathlib import Path

import pytest

from vidreward.config import load_config, RunSettings, validate_config
from vidreward.critic.base import Critique, Item
from vidreward.errors import ConfigError, RewardCodeError
from vidreward.reward.terms import read_terms
from vidreward.rewriter.analytic import AnalyticRewriter
from vidreward.rewriter.base import CandidateRecord, SearchHistory, TaskSpec, code_digest
from vidreward.search import HalvingConfig, SearchConfig
from vidreward.search.selection import (history_of, score_record, search_markdown, select,
                                        stopped_after_screening, survivors)
from vidreward.search.stages import reuse_screening
from vidreward.sim.robots import get_robot

TASK = TaskSpec("ant", "Move forward with repeated jumps like the person in the clip.")


def _critique() -> Critique:
    """A measured critique: the robot too slow and never airborne; the reward lacks airborne."""
    expert = {"speed": 0.37, "bounce_amplitude": 0.11, "bounce_frequency": 0.67,
              "airborne_fraction": 0.25, "height_ratio": 0.9}
    robot = {"speed": 0.30, "bounce_amplitude": 0.05, "bounce_frequency": 2.3,
             "airborne_fraction": 0.0, "height_ratio": 0.95}
    return Critique(
        rewrite=[Item("match the expert's speed", "forward_velocity", {"target_speed": 0.35})],
        new=[Item("fly like the expert", "airborne", {"target_fraction": 0.25})],
        backend="analytic", gap=1.0, descriptors={"expert": expert, "robot": robot})


def test_search_settings_validate_and_name_the_bad_key():
    base = load_config("config/quick.yaml")
    assert RunSettings.from_config(base, "ant_quick").search == SearchConfig()
    base["runs"]["ant_quick"]["search"] = {"candidates": 3, "halving": {"screen_fraction": 0.5}}
    validate_config(base)
    search = RunSettings.from_config(base, "ant_quick").search
    assert search.candidates == 3 and search.halving == HalvingConfig(screen_fraction=0.5, keep=0.5)
    assert search.halving.survivors(3) == 2 and HalvingConfig(keep=0.1).survivors(4) == 1
    for bad, key in (({"candidates": 0}, "candidates"), ({"selection": "luck"}, "selection"),
                     ({"halving": {"screen_fraction": 1.0}}, "screen_fraction"),
                     ({"colour": 1}, "colour")):
        cfg = load_config("config/quick.yaml")
        cfg["runs"]["ant_quick"]["search"] = bad
        with pytest.raises(ConfigError, match=key):
            validate_config(cfg)
            RunSettings.from_config(cfg, "ant_quick")


def test_initial_candidates_are_distinct_and_the_first_is_the_single_reward():
    rewriter = AnalyticRewriter()
    proposals = rewriter.propose_initial(TASK, k=5)
    assert len({p.digest for p in proposals}) == 5
    assert proposals[0].code == rewriter.initial(TASK) and proposals[0].label == "as asked"
    first = read_terms(proposals[0].code)
    terms = [read_terms(p.code) for p in proposals[1:]]
    # breadth first over the task's motion terms, the travel term opening with its linear move
    assert terms[0]["forward_velocity"]["target_speed"] is None
    assert terms[0]["forward_velocity"]["scale"] == pytest.approx(2 * first["forward_velocity"]["scale"])
    assert terms[0]["vertical_bounce"] == first["vertical_bounce"]
    assert terms[1]["vertical_bounce"]["scale"] == pytest.approx(2 * first["vertical_bounce"]["scale"])
    assert terms[2]["forward_velocity"] == {**first["forward_velocity"],
                                            "scale": 2 * first["forward_velocity"]["scale"]}
    assert terms[3]["vertical_bounce"]["scale"] == pytest.approx(0.5 * first["vertical_bounce"]["scale"])
    for t in terms[1:]:
        assert t["forward_velocity"]["target_speed"] == first["forward_velocity"]["target_speed"]


def test_no_linear_move_for_a_backward_target():
    backward = TaskSpec("ant", "Walk backward slowly.")
    proposals = AnalyticRewriter().propose_initial(backward, k=4)
    targets = [read_terms(p.code)["forward_velocity"]["target_speed"] for p in proposals]
    assert all(t is not None and t < 0 for t in targets)
    assert not any("linear" in p.label for p in proposals)


def test_rewrite_candidates_search_around_the_term_behind_the_largest_gap():
    rewriter = AnalyticRewriter()
    previous = rewriter.initial(TASK)
    proposals = rewriter.propose_rewrites(TASK, previous, _critique(), k=4)
    as_asked = read_terms(proposals[0].code)
    assert as_asked["airborne"]["target_fraction"] == 0.25  # the critique's edit itself
    assert as_asked["forward_velocity"]["target_speed"] == 0.35
    # airborne_fraction has the largest normalised gap: its term leads the line search
    assert [p.label for p in proposals[1:]] == ["airborne scale x2", "airborne scale x0.5",
                                                "airborne scale x4"]
    assert read_terms(proposals[1].code)["airborne"]["scale"] == pytest.approx(
        2 * as_asked["airborne"]["scale"])


def test_rewrite_candidates_skip_everything_tried_before():
    rewriter = AnalyticRewriter()
    previous = rewriter.initial(TASK)
    first = rewriter.propose_rewrites(TASK, previous, _critique(), k=3)
    history = SearchHistory([CandidateRecord(1, k, p.label, p.digest) for k, p in enumerate(first)],
                            incumbent_kept=True)
    again = rewriter.propose_rewrites(TASK, previous, _critique(), k=3, history=history)
    assert not {p.digest for p in again} & {p.digest for p in first}
    assert [p.label for p in again] == ["airborne scale x4", "airborne scale x0.25",
                                        "airborne scale x8"]
    assert "beat the incumbent" in again[0].code


def test_a_new_key_term_pairs_each_move_with_the_speed_capped_at_the_clips():
    """An incumbent paid for speed itself (linear); the critique adds airborne, the term behind
    the largest gap: each move comes as it is and with the speed reward capped at the clip's speed."""
    rewriter = AnalyticRewriter()
    previous = rewriter.propose_initial(TASK, k=2)[1].code  # the linear speed move
    assert read_terms(previous)["forward_velocity"]["target_speed"] is None
    critique = _critique()
    critique.rewrite = []  # speed left as it is: still linear
    proposals = rewriter.propose_rewrites(TASK, previous, critique, k=6)
    terms = [read_terms(p.code) for p in proposals]
    clip_mps = 0.37 * get_robot("ant").body_length
    assert [p.label.split(",")[0] for p in proposals] == [
        "as asked", "as asked", "airborne scale x2", "airborne scale x2",
        "airborne scale x0.5", "airborne scale x0.5"]
    for plain, capped in zip(terms[0::2], terms[1::2]):
        assert plain["forward_velocity"]["max_speed"] is None
        assert capped["forward_velocity"]["max_speed"] == pytest.approx(clip_mps, abs=1e-4)
        capped["forward_velocity"]["max_speed"] = None
        assert capped == plain  # nothing else differs
    assert terms[2]["airborne"]["scale"] == pytest.approx(2 * terms[0]["airborne"]["scale"])
    # the key term already in the reward (airborne now in the previous code): no capped moves
    again = rewriter.propose_rewrites(TASK, proposals[0].code, critique, k=4)
    assert not any("capped" in p.label for p in again)
    assert all(read_terms(p.code)["forward_velocity"]["max_speed"] is None for p in again)


def test_too_many_candidates_is_a_clear_error():
    with pytest.raises(RewardCodeError, match="distinct candidates"):
        AnalyticRewriter().propose_initial(TASK, k=200)


def test_code_digest_ignores_comments_and_layout_only():
    a = "x = {'a': 1}  # note\n\n\ndef f():\n    return x\n"
    b = "# header\nx = {'a':1}\ndef f():\n    return x"
    assert code_digest(a) == code_digest(b)
    assert code_digest(a) != code_digest(a.replace("1", "2"))


def _cand(k, gap, label="c", ret=1.0, search=SearchConfig(candidates=3)):
    return {"candidate": k, "label": f"{label}{k}", "digest": f"d{k}", "dir": f"iter/cand_{k}",
            "score": score_record(search, k, gap, ret, "analytic")}


def test_selection_picks_the_lowest_gap_and_says_why():
    search = SearchConfig(candidates=3)
    record = select(search, 0, [_cand(0, 0.9), _cand(1, 0.7), _cand(2, 0.8)], None)
    assert record["winner"]["candidate"] == 1 and record["best_value"] == 0.7
    assert "cand_1" in record["why"] and not record["incumbent_kept"]
    assert [h["won"] for h in record["history"]] == [False, True, False]


def test_incumbent_stays_when_no_candidate_beats_it_and_best_never_rises():
    search = SearchConfig(candidates=2)
    first = select(search, 0, [_cand(0, 0.9), _cand(1, 0.7)], None)
    second = select(search, 1, [_cand(0, 0.75), _cand(1, 0.8)],
                    {"selection": first, "dir": "iter_0"})
    assert second["winner"]["kind"] == "incumbent" and second["winner"]["dir"] == "iter_0"
    assert second["best_value"] == 0.7 and second["incumbent_kept"]
    assert "no candidate beats the incumbent" in second["why"]
    history = history_of(second)
    assert len(history.candidates) == 4 and history.incumbent_kept
    assert "kept" in search_markdown(second)
    third = select(search, 2, [_cand(0, 0.5), _cand(1, 0.6)], {"selection": second, "dir": "iter_1"})
    assert third["winner"]["candidate"] == 0 and third["best_value"] == 0.5
    assert [r["best_value"] for r in (first, second, third)] == [0.7, 0.7, 0.5]


def test_without_best_so_far_the_best_candidate_always_wins():
    search = SearchConfig(candidates=2, keep_best=False)
    first = select(search, 0, [_cand(0, 0.5, search=search), _cand(1, 0.7, search=search)], None)
    second = select(search, 1, [_cand(0, 0.9, search=search), _cand(1, 0.8, search=search)],
                    {"selection": first, "dir": "iter_0"})
    assert second["winner"]["candidate"] == 1 and second["best_value"] == 0.8


def test_mean_return_selects_the_highest_and_never_keeps_an_incumbent():
    search = SearchConfig(candidates=2, selection="mean_return")
    first = select(search, 0, [_cand(0, 0.5, ret=10.0, search=search),
                               _cand(1, 0.9, ret=20.0, search=search)], None)
    assert first["winner"]["candidate"] == 1
    second = select(search, 1, [_cand(0, 0.5, ret=1.0, search=search),
                                _cand(1, 0.9, ret=2.0, search=search)],
                    {"selection": first, "dir": "iter_0"})
    assert second["winner"]["kind"] == "candidate"  # returns of different rewards do not compare


def test_halving_keeps_the_best_share():
    search = SearchConfig(candidates=4, halving=HalvingConfig(keep=0.5))
    scores = [score_record(search, k, g, 0.0, "analytic", rung="screen")
              for k, g in enumerate([0.9, 0.4, None, 0.6])]
    record = survivors(search, scores)
    assert record["keep"] == [1, 3] and record["stopped"] == [0, 2]


def test_a_stopped_candidate_reuses_its_screening_artifacts_and_a_kept_one_does_not(tmp_path):
    cut = tmp_path / "survivors.json"
    cut.write_text(json.dumps({"keep": [1], "stopped": [0]}))
    final = tmp_path / "cand_0" / "rollout.mp4"
    (final.parent / "screen").mkdir(parents=True)
    (final.parent / "screen" / "rollout.mp4").write_bytes(b"screening rollout")
    assert not reuse_screening(str(cut), 1, "screening rollout", {"rollout": final})
    assert not final.exists()
    assert not reuse_screening(None, 0, "screening rollout", {"rollout": final})
    assert reuse_screening(str(cut), 0, "screening rollout", {"rollout": final})
    assert final.read_bytes() == b"screening rollout"
    with pytest.raises(ConfigError, match="candidate 2 is neither kept nor stopped"):
        stopped_after_screening(cut, 2)
    cut.write_text("{not json")
    with pytest.raises(ConfigError, match="survivors.json: cannot read successive-halving cut"):
        stopped_after_screening(cut, 0)


def test_k_model_samples_at_temperature_zero_fail_at_config_time():
    cfg = load_config("config/quick.yaml")
    run = cfg["runs"]["ant_quick"]
    run["search"] = {"candidates": 2}
    run["rewriter"] = {"backend": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                       "temperature": 0}
    with pytest.raises(ConfigError, match="rewriter.temperature 0"):
        validate_config(cfg)
        RunSettings.from_config(cfg, "ant_quick")
    run["rewriter"]["temperature"] = 0.8
    validate_config(cfg)
    assert RunSettings.from_config(cfg, "ant_quick").search.candidates == 2


def test_a_survivors_better_screening_checkpoint_is_the_candidate():
    """Successive halving trains a survivor on from its screening checkpoint; when the longer run
    measures worse, the screening checkpoint (the same reward) is what the selection takes, and the
    record says so. A stopped candidate, or a full run that measured better, is left as it is."""
    search = SearchConfig(candidates=3, halving=HalvingConfig(keep=0.67))
    screened = {0: 0.4, 1: 0.6, 2: 0.9}
    cands = [dict(_cand(k, g, search=search), screen_score=score_record(search, k, screened[k], 0.0,
                                                                        "analytic", rung="screen"))
             for k, g in ((0, 1.2), (1, 0.5), (2, 0.9))]
    cands[2]["score"] = dict(cands[2]["screen_score"])  # stopped after screening: its screening score
    record = select(search, 0, cands, None)
    assert record["winner"]["candidate"] == 0 and record["winner"]["dir"] == "iter/cand_0/screen"
    assert record["best_value"] == 0.4
    rows = {r["candidate"]: r for r in record["candidates"]}
    assert rows[0]["rung"] == "screen" and rows[0]["full_value"] == 1.2 and rows[0]["value"] == 0.4
    assert "full_value" not in rows[1] and rows[1]["value"] == 0.5  # its full run was better
    assert "full_value" not in rows[2]
    assert "cand_0's screening checkpoint (0.400) measured better than its full training (1.200)" in record["why"]
    assert "screen checkpoint (full training 1.200)" in search_markdown(record)
    off = SearchConfig(candidates=3, halving=HalvingConfig(keep=0.67, best_checkpoint=False))
    plain = select(off, 0, cands, None)
    assert plain["winner"]["candidate"] == 1 and plain["winner"]["dir"] == "iter/cand_1"


def test_select_stage_takes_a_screening_checkpoints_run_and_the_candidates_reward(tmp_path, monkeypatch):
    """The iteration's files come from the winner: its screening run's policy, log, rollout and
    trajectory, and the reward and validation of the candidate itself (the screening run has none)."""
    from types import SimpleNamespace

    from vidreward.layout import SCREEN_DIR, SELECTED, IterationPaths
    from vidreward.search.stages import select_stage

    monkeypatch.chdir(tmp_path)
    search = SearchConfig(candidates=2, halving=HalvingConfig(keep=1.0))
    it = IterationPaths("run", 0)
    it.dir.mkdir(parents=True)
    it.path("proposals").write_text(json.dumps({"candidates": [
        {"candidate": k, "label": f"edit {k}", "digest": f"d{k}"} for k in (0, 1)]}))
    scores, screens = [], []
    for k, (full, screen) in enumerate(((0.9, 0.3), (0.5, 0.6))):
        for rung, value in ((None, full), (SCREEN_DIR, screen)):
            paths = it.cand(k, rung) if rung else it.cand(k)
            paths.dir.mkdir(parents=True, exist_ok=True)
            for name in SELECTED:
                paths.path(name).write_text(f"{name} of cand_{k} {rung or 'full'}")
            paths.path("score").write_text(json.dumps(score_record(search, k, value, 0.0, "analytic", rung=rung)))
        scores.append(str(it.cand(k).path("score")))
        screens.append(str(it.cand(k, SCREEN_DIR).path("score")))
    outputs = {name: str(tmp_path / "out" / it.path(name).name) for name in SELECTED}
    (tmp_path / "out").mkdir()
    record = select_stage(SimpleNamespace(search=search), "run", 0, str(it.path("proposals")), scores,
                          str(tmp_path / "out" / "selection.json"), outputs, screen_scores=screens)
    assert record["winner"]["candidate"] == 0 and record["best_value"] == 0.3
    got = {name: Path(p).read_text() for name, p in outputs.items()}
    assert got["policy"] == "policy of cand_0 screen" and got["rollout"] == "rollout of cand_0 screen"
    assert got["train_log"] == "train_log of cand_0 screen"
    assert got["reward"] == "reward of cand_0 full" and got["validation"] == "validation of cand_0 full"


def test_a_kept_incumbent_names_the_runner_up_and_a_winning_candidate_none():
    search = SearchConfig(candidates=2, runner_up_share=0.5)
    assert SearchConfig(candidates=8, runner_up_share=0.5).runner_up_candidates() == 4
    assert SearchConfig(candidates=1, runner_up_share=0.5).runner_up_candidates() == 0
    assert SearchConfig(candidates=8).runner_up_candidates() == 0  # off unless asked for
    first = select(search, 0, [_cand(0, 0.9), _cand(1, 0.7)], None)
    assert first["runner_up"] is None
    second = select(search, 1, [_cand(0, 0.75), _cand(1, 0.8)], {"selection": first, "dir": "iter_0"})
    assert second["incumbent_kept"]
    assert second["runner_up"] == {"candidate": 0, "label": "c0", "digest": "d0", "dir": "iter/cand_0",
                                   "value": 0.75, "iteration": 1}
    assert "cand_0 is the runner-up: the next iteration proposes 1 of its candidates" in second["why"]
    third = select(search, 2, [_cand(0, 0.5), _cand(1, 0.6)], {"selection": second, "dir": "iter_1"})
    assert third["runner_up"] is None
    kept = select(SearchConfig(candidates=2), 1, [_cand(0, 0.75), _cand(1, 0.8)],
                  {"selection": first, "dir": "iter_0"})
    assert kept["incumbent_kept"] and kept["runner_up"] is None and "runner-up" not in kept["why"]
    with pytest.raises(ConfigError, match="runner_up_share"):
        SearchConfig.from_dict({"candidates": 2, "runner_up_share": 1.0})


def test_after_a_kept_incumbent_the_runner_up_is_revised_by_its_own_critique(tmp_path, monkeypatch):
    """Half the candidates revise the runner-up: its reward (the candidate's), edited by the critique
    measured on its screening checkpoint; the rest move on from the incumbent. All are new."""
    import dataclasses

    from vidreward.layout import SCREEN_DIR, IterationPaths
    from vidreward.rewriter.base import Proposal
    from vidreward.search.proposals import read_proposals
    from vidreward.search.stages import PreviousIteration, propose_rewards_stage

    monkeypatch.chdir(tmp_path)
    base = load_config(str(Path(__file__).parents[1] / "config/quick.yaml"))
    settings = RunSettings.from_config(base, "ant_quick")
    settings = dataclasses.replace(settings, search=SearchConfig(candidates=4, runner_up_share=0.5))
    prev = IterationPaths("run", 0)
    runner, measured = prev.cand(1), prev.cand(1, SCREEN_DIR)
    measured.dir.mkdir(parents=True)
    incumbent_code = AnalyticRewriter().initial(TASK)
    runner_code = AnalyticRewriter().propose_rewrites(TASK, incumbent_code, Critique(
        new=[Item("hold the torso lower", "height", {"target_height": 0.5})], backend="analytic"), k=1)[0].code
    log = "env_steps,mean_return\n1024,1.0\n2048,2.0\n"
    for paths, code, critique in ((prev, incumbent_code, _critique()), (measured, None, Critique(
            rewrite=[Item("bounce higher", "vertical_bounce", {"amplitude": 0.2})], backend="analytic",
            gap=0.75, descriptors=_critique().descriptors))):
        if code is not None:
            paths.path("reward").write_text(code)
        critique.save(paths.path("critique"), paths.path("critique_md"))
        paths.path("train_log").write_text(log)
        paths.path("rollout").write_bytes(b"")
    runner.path("reward").write_text(runner_code)
    first = select(SearchConfig(candidates=2, runner_up_share=0.5), 0, [_cand(0, 0.5)], None)
    runner_entry = dict(_cand(1, 0.75), digest=Proposal(runner_code, "").digest, dir=str(measured.dir))
    kept = select(SearchConfig(candidates=2, runner_up_share=0.5), 1, [runner_entry],
                  {"selection": first, "dir": "iter_0"})
    prev.path("selection").write_text(json.dumps(kept))
    out = tmp_path / "proposals.json"
    propose_rewards_stage(settings, 2, "clip.mp4", str(tmp_path / "lm"), str(out), previous=PreviousIteration(
        str(prev.path("reward")), str(prev.path("critique")), str(prev.path("train_log")),
        str(prev.path("rollout")), str(prev.path("selection"))))
    cands = read_proposals(out)["candidates"]
    assert len(cands) == 4 and len({c["digest"] for c in cands}) == 4
    assert not {c["digest"] for c in cands} & history_of(kept).tried()
    from_runner = [c for c in cands if c["label"].startswith("from the runner-up (iteration 1's cand_1, gap 0.750): ")]
    assert [c["candidate"] for c in from_runner] == [2, 3]
    for c in cands:
        terms = read_terms(c["code"])
        assert ("height" in terms) == (c in from_runner)  # only the runner-up had added height
    assert read_terms(from_runner[0]["code"])["vertical_bounce"]["amplitude"] == 0.2  # its critique, as asked
    assert "moves on from the incumbent's reward" not in from_runner[0]["code"]
    assert "moves on from the incumbent's reward" in cands[0]["code"]
    from vidreward.search.stages import runner_up_of

    elsewhere = dict(kept, runner_up=dict(kept["runner_up"], dir=str(tmp_path / "other" / "cand_1")))
    with pytest.raises(ConfigError, match="runner_up.dir .* is not a candidate directory of"):
        runner_up_of(elsewhere, str(prev.path("selection")))


def test_a_revision_of_the_runner_up_warm_starts_from_the_runner_ups_policy(tmp_path):
    from vidreward.reward.validate import validate_reward_code
    from vidreward.rewriter.base import Proposal
    from vidreward.search.proposals import warm_start_of, write_proposals

    code = AnalyticRewriter().initial(TASK)
    report = validate_reward_code(code, "ant", origin="test")
    path = tmp_path / "proposals.json"
    parent = {"kind": "runner_up", "iteration": 1, "candidate": 3, "policy": "iter_1/cand_3/screen/policy.pth"}
    write_proposals(path, [Proposal(code, "as asked", report), Proposal(code, "from the runner-up", report)],
                    "analytic", 2, [None, parent])
    entries = json.loads(path.read_text())["candidates"]
    assert "parent" not in entries[0] and entries[1]["parent"] == parent
    assert warm_start_of(path, 0, "iter_1/policy.pth") == "iter_1/policy.pth"
    assert warm_start_of(path, 1, "iter_1/policy.pth") == "iter_1/cand_3/screen/policy.pth"
    assert warm_start_of(path, 1, None) is None  # a run without warm start starts from scratch


def test_robustness_replays_the_run_seed_first_and_rejects_no_episodes():
    from vidreward.search.robustness import episode_seeds

    assert episode_seeds(7, 3) == [7, 8, 9]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="robustness_episodes"):
            episode_seeds(7, bad)


def test_robustness_replays_a_kept_incumbent_once_and_copies_its_episodes(tmp_path, monkeypatch):
    """Iteration 1 kept iteration 0's policy and reward (same bytes): its episodes are iteration
    0's, copied; iteration 2's own policy is replayed. The summary is per iteration."""
    import pandas as pd

    from vidreward.search import robustness

    calls = []

    critics = set()

    def fake_replay(settings, selected, seed, out_dir, camera, expert_clip, critic, truth,
                    expert_measurement):
        calls.append((selected.iteration, seed))
        critics.add(id(critic))
        assert expert_measurement == tmp_path / "measured"
        out_dir.mkdir(parents=True)
        (out_dir / "rollout.mp4").write_bytes(b"episode %d %d" % (selected.iteration, seed))
        gap = 0.1 * seed + (1.0 if selected.iteration == 2 else 0.0)
        return {"iteration": selected.iteration, "seed": seed, "steps": 10, "seconds": 0.5,
                "fell": seed == 1, "gap": gap, "imitation_score": None, "imitation_source": None,
                "critic": "analytic"}

    monkeypatch.setattr(robustness, "replay_episode", fake_replay)
    files = {}
    for i, policy in enumerate((b"policy A", b"policy A", b"policy B")):
        d = tmp_path / f"iter_{i}"
        d.mkdir()
        (d / "policy.pth").write_bytes(policy)
        (d / "reward.py").write_text("reward")
        Critique(backend="analytic", gap=0.5 + i).save(d / "critique.json")
        files[i] = robustness.SelectedPolicy(i, d / "policy.pth", d / "reward.py",
                                             d / "train_log.csv", d / "critique.json")
    settings = load_config("config/quick.yaml")
    settings = RunSettings.from_config(settings, "ant_quick")
    out = tmp_path / "robustness"
    summary = robustness.evaluate_robustness(settings, list(files.values()), 3, "clip.mp4", "fixed",
                                             out / "episodes", out / "episodes.csv", out / "summary.json",
                                             expert_measurement=tmp_path / "measured")
    assert calls == [(0, 0), (0, 1), (0, 2), (2, 0), (2, 1), (2, 2)]
    assert len(critics) == 1  # one critic measures every episode
    assert (out / "episodes/iter_1/seed_2/rollout.mp4").read_bytes() == b"episode 0 2"
    table = pd.read_csv(out / "episodes.csv")
    assert list(table["iteration"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert summary["iterations"]["1"]["median_gap"] == pytest.approx(0.1)
    assert summary["iterations"]["2"]["worst_gap"] == pytest.approx(1.2)
    assert summary["iterations"]["1"]["fell_share"] == pytest.approx(1 / 3)
    assert summary["iterations"]["1"]["run_gap"] == pytest.approx(1.5)
    assert json.loads((out / "summary.json").read_text()) == summary
