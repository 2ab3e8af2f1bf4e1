"""The workflow with model-backed and human critics: a real local OpenAI-compatible server driven
through the real `openai` client, the LM cache on rerun, and a person's feedback files."""

import json
import shutil

import pytest

from lm_server import FAKE_KEY, FAKE_KEY_ENV, Reply, scan_for_secret
from vidreward.critic.base import Critique

from workflow_helpers import copy_repo, jobs_run, snakemake

TINY_TRAIN = (
    "    train: {total_env_steps: 4096, num_envs: 32, horizon: 32, minibatch_size: 512,"
    " mini_epochs: 1, max_episode_steps: 100}\n"
    "    rollout: {seconds: 2, render_size: 64}\n"
)

INITIAL_CODE = '''import torch


def compute_reward(root_linvel: torch.Tensor, up_proj: torch.Tensor, body_length: float):
    r_fwd = torch.clamp(root_linvel[:, 0] / body_length, -1.0, 2.0)
    r_up = 0.5 * up_proj
    return r_fwd + r_up, {"forward_velocity": r_fwd, "upright": r_up}
'''

REWRITTEN_CODE = '''import torch


def compute_reward(root_linvel: torch.Tensor, root_pos: torch.Tensor, up_proj: torch.Tensor,
                   episode_time: torch.Tensor, standing_height: float, body_length: float):
    r_fwd = torch.exp(-torch.square(root_linvel[:, 0] / body_length - 0.35) / 0.1)
    z_ref = standing_height + 0.1 * torch.sin(2.0 * 3.14159 * 0.7 * episode_time)
    r_hop = 0.5 * torch.exp(-torch.square((root_pos[:, 2] - z_ref) / 0.1))
    r_up = 0.5 * up_proj
    return r_fwd + r_hop + r_up, {"forward_velocity": r_fwd, "hop": r_hop, "upright": r_up}
'''

CRITIQUE_TEXT = """Problems
1. forward_velocity: The ant shuffles forward far slower than the person jumps.
2. The ant never leaves the ground, the person does four jumps.

Rewrite component
1. forward_velocity: track about 0.35 body lengths per second.

Remove component
None

New component
1. hop: reward a torso height that oscillates like the jumps, about 0.7 Hz.
"""


def code_answer(code):
    return f"Here is the reward.\n\n```python\n{code}```\n"


def lm_config(path, url, iterations=2):
    lm = (
        f"{{backend: openai, base_url: '{url}', model: test-model, api_key_env: {FAKE_KEY_ENV},"
        " frames: 3, timeout_s: 30, max_retries: 1, max_tries: 2}"
    )
    path.write_text(
        "default_runs: [ant_lm]\nruns:\n  ant_lm:\n    clip: cmu_jumps_short\n    robot: ant\n"
        "    task: Move forward with repeated jumps like the person in the clip.\n"
        f"    iterations: {iterations}\n" + TINY_TRAIN + f"    critic: {lm}\n    rewriter: {lm}\n"
    )
    return path


@pytest.fixture(scope="module")
def server():
    from lm_server import LMServer

    srv = LMServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def openai_run(tmp_path_factory, server):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    config = lm_config(repo / "lm.yaml", server.url)
    server.push(
        Reply.text(code_answer(INITIAL_CODE)),
        Reply.text(CRITIQUE_TEXT),
        Reply.text(code_answer(REWRITTEN_CODE)),
        Reply.text(CRITIQUE_TEXT),
    )
    import os

    os.environ[FAKE_KEY_ENV] = FAKE_KEY
    proc = snakemake(repo, "--configfile", "config/quick.yaml", str(config))
    return repo, config, proc


def test_openai_backends_drive_the_loop(openai_run, server):
    repo, _, _ = openai_run
    run = repo / "results" / "ant_lm"
    kept = json.loads((run / "iter_1" / "selection.json").read_text())["incumbent_kept"]
    # initial code, critique 0, rewritten code, critique 1; when iteration 1 keeps the incumbent
    # its critique is of iteration 0's very rollout and reward: the same request, answered by the cache
    assert server.count == (3 if kept else 4)
    assert (run / "iter_0" / "reward.py").read_text() == INITIAL_CODE
    critique = Critique.load(run / "iter_0" / "critique.json")
    assert critique.backend == "openai" and critique.gap is not None  # measured analytically
    assert [i.component for i in critique.rewrite] == ["forward_velocity"]
    assert [i.component for i in critique.new] == ["hop"]
    assert "hop" in (run / "iter_1" / "cand_0" / "train_log.csv").read_text().splitlines()[0]
    assert (run / "iter_1" / "cand_0" / "reward.py").read_text() == REWRITTEN_CODE
    assert list((run / "iter_0" / "critic" / "lm").glob("*.json")), "raw LM records kept"
    assert list((run / "iter_0" / "critic" / "storyboard").glob("*.png"))
    assert list((repo / "data" / "lm_cache").glob("*.json"))


def test_rerun_from_scratch_is_answered_by_the_cache(openai_run, server):
    repo, config, _ = openai_run
    before = server.count
    shutil.rmtree(repo / "results")
    snakemake(repo, "--configfile", "config/quick.yaml", str(config))
    assert server.count == before  # 0 requests reached the server
    assert (repo / "results/ant_lm/iter_1/cand_0/reward.py").read_text() == REWRITTEN_CODE


def test_api_key_is_in_no_artifact_or_log(openai_run):
    repo, _, _ = openai_run
    leaks = []
    for root in ("results", "data", "logs", ".snakemake"):
        if (repo / root).exists():
            leaks += scan_for_secret(repo / root)
    assert leaks == []


def test_human_critic_waits_for_feedback_then_continues(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    config = repo / "human.yaml"
    config.write_text(
        "default_runs: [ant_human]\nruns:\n  ant_human:\n    clip: cmu_jumps_short\n"
        "    robot: ant\n    task: Jump forward like the person.\n    iterations: 2\n"
        + TINY_TRAIN + "    critic: {backend: human}\n    rewriter: {backend: analytic}\n"
    )
    args = ("--configfile", "config/quick.yaml", str(config))
    first = snakemake(repo, *args, check=False)
    feedback = repo / "feedback" / "ant_human" / "iter_0.md"
    assert first.returncode != 0
    assert str(feedback.relative_to(repo)) in first.stdout + first.stderr
    assert (repo / "results/ant_human/iter_0/rollout.mp4").exists()  # nothing produced is lost
    template = repo / "feedback" / "ant_human" / "iter_0.template.md"
    assert template.exists()
    feedback.write_text(
        "## Problems\n1. forward_velocity: far too slow.\n\n## Rewrite component\n"
        "1. forward_velocity: move faster.\n\n## Remove component\nNone\n\n## New component\nNone\n"
    )
    second = snakemake(repo, *args, check=False)
    counts = jobs_run(second)
    assert counts.get("train_candidate") == 1 and "initial_rewards" not in counts  # loop continued
    critique = Critique.load(repo / "results/ant_human/iter_0/critique.json")
    assert critique.backend == "human" and critique.problems[0].component == "forward_velocity"
    assert second.returncode != 0  # now it waits for iteration 1's feedback
    assert "feedback/ant_human/iter_1.md" in second.stdout + second.stderr
