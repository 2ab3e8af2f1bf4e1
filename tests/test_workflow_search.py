"""The search through Snakemake: K=2 candidates per iteration with successive halving, each its own
chain of jobs, each scored over 3 rollouts; the selection copies the winner; the next rewrite proposes nothing tried before;
forcing one candidate reruns only that candidate and what depends on it."""

import json

import pandas as pd
import pytest

from vidreward.fsutil import hash_path

from workflow_helpers import copy_repo, jobs_run, snakemake

RUN = "search"
K = 2
EPISODES = 3
CONFIG = f"""\
default_runs: [{RUN}]
clips:
  jumps_1s:
    source: {{shipped: cmu_01_01_forward_jumps.mp4}}
    start: 0.0
    end: 1.5
    fps: 10
    height: 96
    licence: "CMU Graphics Lab Motion Capture Database: free for research and commercial use"
runs:
  {RUN}:
    clip: jumps_1s
    robot: ant
    task: Move forward with repeated jumps like the person in the clip.
    iterations: 2
    seed: 0
    search: {{candidates: {K}, runner_up_share: 0.5, episodes: {EPISODES},
             halving: {{screen_fraction: 0.5, keep: 0.5}}}}
    train:
      total_env_steps: 2048
      num_envs: 32
      horizon: 16
      minibatch_size: 512
      mini_epochs: 1
      max_episode_steps: 100
      units: [32, 32]
    rollout:
      seconds: 1
      render_size: 64
    critic: {{backend: analytic}}
    rewriter: {{backend: analytic}}
"""


@pytest.fixture(scope="module")
def search_run(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    config = repo.parent / "search.yaml"
    config.write_text(CONFIG)
    proc = snakemake(repo, "--configfile", str(config))
    return repo, config, proc


def _json(path):
    return json.loads(path.read_text())


def test_every_candidate_is_its_own_chain_of_jobs(search_run):
    repo, _, proc = search_run
    counts = jobs_run(proc)
    assert counts["screen_candidate"] == 2 * K and counts["train_candidate"] == 2 * K
    assert counts["score_screen"] == 2 * K and counts["score_candidate"] == 2 * K
    assert counts["initial_rewards"] == 1 and counts["rewrite_rewards"] == 1
    run = repo / "results" / RUN
    for i in range(2):
        for k in range(K):
            cand = run / f"iter_{i}" / f"cand_{k}"
            for name in ("reward.py", "policy.pth", "rollout.mp4", "trajectory.npz", "score.json"):
                assert (cand / name).stat().st_size > 0, cand / name
            assert (cand / "screen" / "policy.pth").stat().st_size > 0


def test_each_candidate_is_scored_over_its_episodes(search_run):
    """search.episodes: every scored candidate (screening and full) was rolled out again from the
    next reset seeds, and its critique's robot descriptors, gap and score are the median's."""
    import numpy as np

    from vidreward.critic.base import Critique
    from vidreward.critic.motion import gap, median_descriptors

    repo, _, _ = search_run
    run = repo / "results" / RUN
    for i in range(2):
        for k in range(K):
            for rung in ("screen", "."):
                d = run / f"iter_{i}" / f"cand_{k}" / rung
                crit = Critique.load(d / "critique.json")
                episodes = crit.descriptors["episodes"]
                assert len(episodes) == EPISODES
                assert episodes[0]["rollout"].endswith("rollout.mp4")
                seeds = [f"seed_{s}" for s in range(1, EPISODES)]
                assert [e["rollout"].split("/")[-2] for e in episodes[1:]] == seeds
                starts = {tuple(np.round(np.load(d / "critic" / "episodes" / s / "trajectory.npz")
                                         ["root_pos"][0], 6)) for s in seeds}
                assert len(starts) == EPISODES - 1  # other reset states
                robot = crit.descriptors["robot"]
                assert robot == pytest.approx(median_descriptors([e["robot"] for e in episodes]))
                assert crit.gap == pytest.approx(gap(crit.descriptors["expert"], robot))
                assert _json(d / "score.json")["gap"] == pytest.approx(crit.gap)
                md = (d / "critique.md").read_text()
                assert f"## Rollouts measured ({EPISODES})" in md and "seed_2/rollout.mp4" in md


def test_halving_continues_the_best_and_stops_the_rest(search_run):
    repo, _, _ = search_run
    it = repo / "results" / RUN / "iter_0"
    cut = _json(it / "survivors.json")
    screen = {s["candidate"]: s["value"] for s in cut["screen"]}
    assert len(cut["keep"]) == 1 and len(cut["stopped"]) == 1
    assert max(screen[k] for k in cut["keep"]) <= min(screen[k] for k in cut["stopped"])
    for k in cut["stopped"]:  # its screening run, rollout and score are its result, not redone
        cand = it / f"cand_{k}"
        for name in ("policy.pth", "rollout.mp4", "trajectory.npz", "score.json", "critique.json"):
            assert hash_path(cand / name) == hash_path(cand / "screen" / name), name
        assert _json(cand / "score.json")["rung"] == "screen"
        for log in ("render_rollout", "score"):
            text = (repo / "results" / RUN / "logs" / "iter_0" / f"cand_{k}" / f"{log}.log").read_text()
            assert f"candidate {k} stopped after screening" in text, log
    for k in cut["keep"]:  # measured on its own rollout after the full budget
        assert _json(it / f"cand_{k}" / "score.json")["rung"] == "full"
    for k in cut["keep"]:  # trained on from the screening checkpoint to the full budget
        log = pd.read_csv(it / f"cand_{k}" / "train_log.csv")
        screen_log = pd.read_csv(it / f"cand_{k}" / "screen" / "train_log.csv")
        assert log["env_steps"].iloc[-1] == 2048 and screen_log["env_steps"].iloc[-1] == 1024
        assert list(log["env_steps"].iloc[: len(screen_log)]) == list(screen_log["env_steps"])


def test_selection_copies_the_winner_and_the_best_gap_never_rises(search_run):
    repo, _, _ = search_run
    run = repo / "results" / RUN
    table = pd.read_csv(run / "summary.csv")
    assert list(table["candidates"]) == [K, K]
    assert table["gap"].iloc[1] <= table["gap"].iloc[0]
    for i in range(2):
        record = _json(run / f"iter_{i}" / "selection.json")
        values = [c["value"] for c in record["candidates"]]
        assert [table[f"cand_{k}/gap"].iloc[i] for k in range(K)] == pytest.approx(values)
        winner = record["winner"]
        assert record["best_value"] == pytest.approx(min(values + ([record["incumbent"]["value"]]
                                                                    if record["incumbent"] else [])))
        source = repo / winner["dir"]
        for name in ("policy.pth", "rollout.mp4", "trajectory.npz"):
            assert hash_path(run / f"iter_{i}" / name) == hash_path(source / name), name
        # a winning screening checkpoint (its screen/ directory) has its candidate's reward
        reward_dir = source.parent if source.name == "screen" else source
        assert hash_path(run / f"iter_{i}" / "reward.py") == hash_path(reward_dir / "reward.py")
        cut = _json(run / f"iter_{i}" / "survivors.json")
        screened = {s["candidate"]: s["value"] for s in cut["screen"]}
        for row in record["candidates"]:  # each candidate competes with its better measured policy
            if "full_value" in row:  # a survivor whose screening measured better than its full run
                assert row["candidate"] in cut["keep"] and row["rung"] == "screen"
                assert row["value"] == pytest.approx(screened[row["candidate"]])
                assert row["value"] < row["full_value"]
            elif row["candidate"] in cut["keep"]:
                assert row["rung"] == "full" and row["value"] <= screened[row["candidate"]]
        critique = _json(run / f"iter_{i}" / "critique.json")
        assert critique["search"]["winner"] == winner
        assert critique["gap"] == pytest.approx(record["best_value"])


def test_the_next_iteration_proposes_nothing_tried_before(search_run):
    repo, _, _ = search_run
    run = repo / "results" / RUN
    first = _json(run / "iter_0" / "proposals.json")["candidates"]
    second = _json(run / "iter_1" / "proposals.json")["candidates"]
    digests = [c["digest"] for c in first + second]
    assert len(set(digests)) == 2 * K
    history = _json(run / "iter_1" / "selection.json")["history"]
    assert [(h["iteration"], h["candidate"]) for h in history] == [(i, k) for i in range(2)
                                                                  for k in range(K)]


def test_provenance_records_every_candidate_and_the_review_page_shows_them(search_run):
    repo, _, _ = search_run
    run = repo / "results" / RUN
    record = _json(run / "iter_1" / "provenance.json")
    for k in range(K):
        assert f"results/{RUN}/iter_1/cand_{k}/policy.pth" in record["outputs"]
        assert f"cand_{k}/train_policy" in record["wall_time_s"]
    assert record["seeds"]["train_candidates"] == [1, 1001]
    page = (run / "report" / "iter_1" / "index.html").read_text()
    assert all(f'id="cand_{k}"' in page for k in range(K)) and "selection-why" in page
    for i in range(2):  # a screening checkpoint that won its candidate is labelled as one
        rows = _json(run / f"iter_{i}" / "selection.json")["candidates"]
        page = (run / "report" / f"iter_{i}" / "index.html").read_text()
        assert page.count("(checkpoint; full training ") == sum("full_value" in r for r in rows)


def test_forcing_one_candidate_reruns_only_it_and_what_depends_on_it(search_run):
    repo, config, _ = search_run
    other = repo / "results" / RUN / "iter_1" / "cand_0" / "policy.pth"
    before = other.stat().st_mtime_ns
    proc = snakemake(repo, "--configfile", str(config), "-R",
                     f"results/{RUN}/iter_1/cand_1/policy.pth")
    counts = jobs_run(proc)
    assert counts.get("train_candidate") == 1 and counts.get("render_candidate") == 1
    assert counts.get("score_candidate") == 1 and counts.get("select_candidate") == 1
    for rule in ("screen_candidate", "score_screen", "initial_rewards", "rewrite_rewards",
                 "candidate_reward"):
        assert rule not in counts, counts
    assert other.stat().st_mtime_ns == before
    assert jobs_run(snakemake(repo, "--configfile", str(config))) == {}
