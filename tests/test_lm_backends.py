"""Critic and rewriter backends end to end against a real local OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest

from lm_server import FAKE_KEY, FAKE_KEY_ENV, Reply, lm_server, make_clip, scan_for_secret  # noqa: F401
from vidreward.critic.base import Critique, CritiqueInput, Item
from vidreward.critic.openai_critic import OpenAICritic
from vidreward.errors import ConfigError, CritiqueError, RewardCodeError
from vidreward.lm.config import LMConfig
from vidreward.reward.env_context import environment_context
from vidreward.rewriter.base import RewriteVideos, TaskSpec
from vidreward.rewriter.openai_rewriter import OpenAIRewriter
from vidreward.rewriter.single_model import SingleModelRewriter

FRAMES = 4

GOOD_CODE = '''import torch


def compute_reward(root_linvel: torch.Tensor, up_proj: torch.Tensor, body_length: float):
    speed = root_linvel[:, 0] / body_length
    r_fwd = torch.exp(-torch.abs(speed - 1.0))
    r_up = 0.5 * up_proj
    return r_fwd + r_up, {"forward_velocity": r_fwd, "upright": r_up}
'''

GOOD_ANSWER = f"I reward speed near one body length per second and uprightness.\n\n```python\n{GOOD_CODE}```\n"

PREVIOUS_CODE = '''import torch


def compute_reward(root_linvel: torch.Tensor):
    r = root_linvel[:, 0]
    return r, {"forward_velocity": r}
'''


def _answer(code: str) -> str:
    return f"Here is the reward.\n```python\n{code}```"


def _replace_body(line: str) -> str:
    return GOOD_CODE.replace("    speed = root_linvel[:, 0] / body_length", line + "\n    speed = root_linvel[:, 0] / body_length")


BAD_ANSWERS = {
    "no_code_block": ("I would reward forward speed and staying upright.", "extract", "no reward code found"),
    "syntax_error": (_answer(GOOD_CODE.replace("def compute_reward(", "def compute_reward(:")), "parse", "syntax error"),
    "wrong_signature": (
        _answer(GOOD_CODE.replace("root_linvel: torch.Tensor, up_proj", "obs: torch.Tensor, up_proj").replace("root_linvel[", "obs[")),
        "signature",
        "unknown parameter(s) ['obs']",
    ),
    "nan_output": (_answer(GOOD_CODE.replace("r_fwd + r_up,", "r_fwd * float('nan'),")), "finite", "NaN"),
    "infinite_loop": (_answer(_replace_body("    while True:\n        pass")), "timeout", "did not finish"),
    "import_os": (_answer("import os\n" + GOOD_CODE), "allowlist", "'import os' is not allowed"),
    "file_access": (_answer(_replace_body("    secret = open('/etc/passwd').read()")), "allowlist", "'open' is not allowed"),
    "network_access": (
        _answer("import socket\n" + _replace_body("    socket.create_connection(('example.com', 80))")),
        "allowlist",
        "'import socket' is not allowed",
    ),
    "huge_allocation": (_answer(_replace_body("    big = torch.ones(40000, 40000, 8)")), "memory", "out of memory"),
}

CRITIC_ANSWER = """Problems
1. The robot barely moves forward while the spider walks steadily to the right.
2. The robot's torso tilts and bounces; the spider's body stays level.

Rewrite component
1. forward_velocity: reward speeds near 1 body length per second rather than raw velocity.

Remove component
None

New component
1. torso_level: reward up_proj close to 1.
2. gait_rhythm: reward alternating foot contacts at about 2 Hz.
"""


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, FAKE_KEY)
    return FAKE_KEY


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return make_clip(d / "expert.mp4", burst=(14, 18)), make_clip(d / "rollout.mp4", frames=20, burst=(3, 6))


@pytest.fixture(scope="module")
def env_context():
    return environment_context("ant")


def make_cfg(server, tmp_path, **kw) -> LMConfig:
    base = dict(
        base_url=server.url,
        model="test-vlm",
        api_key_env=FAKE_KEY_ENV,
        timeout_s=5.0,
        max_retries=2,
        retry_wait_s=0.01,
        retry_wait_max_s=0.05,
        cache_dir=str(tmp_path / "cache"),
        frames=FRAMES,
        max_tries=3,
    )
    base.update(kw)
    return LMConfig(**base)


def critique_input(clips, out_dir) -> CritiqueInput:
    expert, rollout = clips
    return CritiqueInput(
        expert_clip=expert,
        rollout_video=rollout,
        trajectory=out_dir / "trajectory.npz",
        reward_code=PREVIOUS_CODE,
        train_log=None,
        out_dir=out_dir,
        robot="ant",
        task="Walk forward like the spider.",
    )


# -- critic -----------------------------------------------------------------------------------------


def test_openai_critic_parses_four_parts_and_writes_storyboards(lm_server, tmp_path, key, clips):
    lm_server.push(CRITIC_ANSWER)
    out = tmp_path / "iter_0"
    critique = OpenAICritic(make_cfg(lm_server, tmp_path)).critique(critique_input(clips, out))

    assert critique.backend == "openai" and critique.gap is None
    assert critique.raw_text == CRITIC_ANSWER
    assert len(critique.problems) == 2 and critique.remove == []
    assert critique.rewrite[0].component == "forward_velocity"
    assert [i.component for i in critique.new] == ["torso_level", "gait_rhythm"]

    req = lm_server.requests[0]
    assert req.auth_ok and req.body["model"] == "test-vlm"
    assert len(req.image_urls()) == 2 * FRAMES
    text = req.all_text()
    assert "Walk forward like the spider." in text and "Expert frame 1 at t=" in text and "Robot frame 4 at t=" in text
    assert "def compute_reward(root_linvel: torch.Tensor)" in text
    assert "Problems" in req.messages[0]["content"]

    sb = out / "storyboard"
    for role in ("expert", "robot"):
        assert sorted(p.name for p in sb.glob(f"{role}_[0-9][0-9].png")) == [f"{role}_{k:02d}.png" for k in range(FRAMES)]
        assert (sb / f"{role}_contact_sheet.png").is_file()
    records = list((out / "lm").glob("critic_try1-*.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["response"]["text"] == CRITIC_ANSWER


def test_openai_critic_asks_again_when_format_is_wrong(lm_server, tmp_path, key, clips):
    lm_server.push("The robot is slow and wobbly.", CRITIC_ANSWER)
    critique = OpenAICritic(make_cfg(lm_server, tmp_path)).critique(critique_input(clips, tmp_path / "it"))
    assert len(critique.problems) == 2
    assert lm_server.count == 2
    retry = lm_server.requests[1]
    assert retry.messages[-2] == {"role": "assistant", "content": "The robot is slow and wobbly."}
    assert "no feedback sections found" in retry.messages[-1]["content"]


def test_openai_critic_gives_up_naming_the_model(lm_server, tmp_path, key, clips):
    lm_server.push("meh", "still meh")
    cfg = make_cfg(lm_server, tmp_path, max_tries=2)
    with pytest.raises(CritiqueError, match="test-vlm"):
        OpenAICritic(cfg).critique(critique_input(clips, tmp_path / "it"))


# -- rewriter ---------------------------------------------------------------------------------------


def _rewriter(server, tmp_path, **kw) -> OpenAIRewriter:
    return OpenAIRewriter(make_cfg(server, tmp_path, **kw), record_dir=tmp_path / "lm", validate_timeout_s=2.0)


TASK = TaskSpec(robot="ant", description="Walk forward like a spider.")


def _critique() -> Critique:
    return Critique(
        problems=[Item("The robot drags its rear legs.")],
        rewrite=[Item("target 1 body length per second", component="forward_velocity")],
        new=[Item("reward an upright torso", component="upright")],
        backend="openai",
    )


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_rewriter_rejects_bad_code_and_feeds_the_error_back(case, lm_server, tmp_path, key, env_context):
    answer, check, snippet = BAD_ANSWERS[case]
    lm_server.push(answer, GOOD_ANSWER)
    rewriter = _rewriter(lm_server, tmp_path)
    code = rewriter.rewrite(TASK, PREVIOUS_CODE, _critique(), env_context, "forward_velocity: mean 0.01, flat")

    assert code == GOOD_CODE
    assert [t.check for t in rewriter.tries] == [check, None]
    assert snippet in rewriter.tries[0].error
    assert rewriter.last_report.components == ["forward_velocity", "upright"]
    assert lm_server.count == 2
    second = lm_server.requests[1].messages
    assert second[-2] == {"role": "assistant", "content": answer}
    assert f"'{check}' check" in second[-1]["content"] and snippet in second[-1]["content"]
    assert lm_server.requests[0].messages == second[:-2]


def test_rewriter_all_tries_fail_lists_each_error(lm_server, tmp_path, key, env_context):
    lm_server.push(BAD_ANSWERS["syntax_error"][0], BAD_ANSWERS["import_os"][0])
    rewriter = _rewriter(lm_server, tmp_path, max_tries=2)
    with pytest.raises(RewardCodeError) as exc:
        rewriter.rewrite(TASK, PREVIOUS_CODE, _critique(), env_context, "")
    msg = str(exc.value)
    assert "try 1 [parse]" in msg and "try 2 [allowlist]" in msg and "test-vlm" in msg
    assert exc.value.check == "allowlist"
    assert lm_server.count == 2


def test_rewriter_rewrite_prompt_carries_all_context(lm_server, tmp_path, key, env_context):
    lm_server.push(GOOD_ANSWER)
    stats = "forward_velocity: mean 0.012 (first epoch 0.010, last 0.013), share of |reward| 100%"
    code = _rewriter(lm_server, tmp_path).rewrite(TASK, PREVIOUS_CODE, _critique(), env_context, stats)
    assert code == GOOD_CODE
    system, user = lm_server.requests[0].messages
    assert "def compute_reward" in system["content"] and "foot_contact_forces" in system["content"]
    text = user["content"]
    for piece in (stats, TASK.description, "return r, {\"forward_velocity\": r}", "The robot drags its rear legs.",
                  "`forward_velocity`: target 1 body length per second", "## New component",
                  env_context.strip().splitlines()[0]):
        assert piece in text, piece


def test_rewriter_initial_and_cached_rerun(lm_server, tmp_path, key, env_context):
    lm_server.push(BAD_ANSWERS["no_code_block"][0], GOOD_ANSWER)
    task = TASK
    assert _rewriter(lm_server, tmp_path).initial(task, env_context) == GOOD_CODE
    assert lm_server.count == 2
    assert "Walk forward like a spider." in lm_server.requests[0].messages[1]["content"]
    # Rerun of the same step: the whole conversation (bad answer, fix request, good answer) replays
    # from the cache with zero requests.
    rerun = _rewriter(lm_server, tmp_path, cache_mode="replay")
    assert rerun.initial(task, env_context) == GOOD_CODE
    assert lm_server.count == 2
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "lm").glob("*.json")) == [
        "rewriter_initial_sample1_try1", "rewriter_initial_sample1_try2"]


# -- single-model ablation --------------------------------------------------------------------------


def test_single_model_rewriter_sees_both_videos(lm_server, tmp_path, key, clips, env_context):
    lm_server.push(BAD_ANSWERS["nan_output"][0], GOOD_ANSWER)
    expert, rollout = clips
    out = tmp_path / "iter_1"
    rewriter = SingleModelRewriter(make_cfg(lm_server, tmp_path), validate_timeout_s=2.0)
    code = rewriter.rewrite(TaskSpec("ant", "Walk like the spider."), PREVIOUS_CODE, Critique(), env_context,
                            "forward_velocity: flat", videos=RewriteVideos(expert, rollout, out))
    assert code == GOOD_CODE
    assert [t.check for t in rewriter.tries] == ["finite", None]
    first = lm_server.requests[0]
    assert len(first.image_urls()) == 2 * FRAMES
    text = first.all_text()
    assert "Expert frame 1" in text and "Robot frame 1" in text and "return r, {\"forward_velocity\": r}" in text
    assert "Walk like the spider." in text and "forward_velocity: flat" in text
    assert "'finite' check" in lm_server.requests[1].all_text()
    assert (out / "storyboard" / "expert_00.png").is_file() and (out / "storyboard" / "robot_contact_sheet.png").is_file()
    assert len(list((out / "lm").glob("rewriter_single_rewrite_sample1_try*.json"))) == 2


def test_single_model_initial_with_expert_clip_and_missing_videos(lm_server, tmp_path, key, clips, env_context):
    lm_server.push(GOOD_ANSWER)
    rewriter = SingleModelRewriter(make_cfg(lm_server, tmp_path), record_dir=tmp_path / "it0" / "lm",
                                   validate_timeout_s=2.0)
    task = TaskSpec("ant", "Walk like the spider.")
    code = rewriter.initial(task, env_context, expert_clip=clips[0])
    assert code == GOOD_CODE
    assert len(lm_server.requests[0].image_urls()) == FRAMES
    assert (tmp_path / "it0" / "storyboard" / "expert_00.png").is_file()
    with pytest.raises(ConfigError, match="videos"):
        rewriter.rewrite(task, PREVIOUS_CODE, Critique(), env_context, "")


# -- secrets ----------------------------------------------------------------------------------------


def test_api_key_never_written(lm_server, tmp_path, key, clips, env_context):
    lm_server.push(Reply.error(429), CRITIC_ANSWER, BAD_ANSWERS["import_os"][0], GOOD_ANSWER)
    out = tmp_path / "iter_2"
    critique = OpenAICritic(make_cfg(lm_server, tmp_path)).critique(critique_input(clips, out))
    OpenAIRewriter(make_cfg(lm_server, tmp_path), record_dir=out / "lm").rewrite(
        TASK, PREVIOUS_CODE, critique, env_context, "")
    assert all(r.auth_ok for r in lm_server.requests)
    assert lm_server.count == 4
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == "cache" for p in written)
    assert any(p.parent.name == "lm" for p in written)
    assert any(p.parent.name == "storyboard" for p in written)
    assert scan_for_secret(tmp_path) == []
