"""K reward candidates from the model rewriters (issue 12), against a real local OpenAI-compatible
server that answers per sampling seed."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from lm_server import FAKE_KEY, FAKE_KEY_ENV, Reply, lm_server, make_clip, scan_for_secret  # noqa: F401
from vidreward.critic.base import Critique, Item
from vidreward.errors import ConfigError, LMError, RewardCodeError
from vidreward.lm.client import LMClient
from vidreward.lm.config import LMConfig
from vidreward.reward.env_context import environment_context
from vidreward.rewriter.base import CandidateRecord, RewriteVideos, SearchHistory, TaskSpec, code_digest
from vidreward.rewriter.openai_rewriter import NO_HISTORY, OpenAIRewriter, returned_components, sample_label
from vidreward.rewriter.single_model import SingleModelRewriter

FRAMES = 3
TASK = TaskSpec(robot="ant", description="Walk forward like a spider.")

PREVIOUS_CODE = '''import torch


def compute_reward(root_linvel: torch.Tensor):
    r = root_linvel[:, 0]
    return r, {"forward_velocity": r}
'''


def reward_code(scale: float, extra: str = "upright", comment: str = "") -> str:
    """Valid reward code; different ``scale``/``extra`` give different candidates, ``comment``
    changes the text but not the candidate."""
    return f'''import torch
{comment}

def compute_reward(root_linvel: torch.Tensor, up_proj: torch.Tensor, body_length: float):
    speed = root_linvel[:, 0] / body_length
    r_fwd = torch.exp(-torch.abs(speed - {scale}))
    r_extra = 0.5 * up_proj
    return r_fwd + r_extra, {{"forward_velocity": r_fwd, "{extra}": r_extra}}
'''


def answer(code: str) -> str:
    return f"My design.\n\n```python\n{code}```\n"


BAD_ANSWER = answer(reward_code(1.0).replace("def compute_reward(", "def compute_reward(:"))


class PerSeed:
    """Stands in for ``LMServer.replies``: answers each request from its ``seed`` (and whether it
    is a fix-up request, i.e. carries more than system + user)."""

    def __init__(self, server, fn: Callable[[int | None, bool], str]):
        self.server = server
        self.fn = fn

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return 1

    def popleft(self) -> Reply:
        body = self.server.requests[-1].body  # logged under the server's lock just before
        return Reply.text(self.fn(body.get("seed"), len(body.get("messages", [])) > 2))


def answer_by_seed(server, table: dict[int, str], fixup: dict[int, str] | None = None) -> None:
    fixup = fixup or {}

    def fn(seed: int | None, is_fixup: bool) -> str:
        if is_fixup and seed in fixup:
            return fixup[seed]
        return table.get(seed, answer(reward_code(9.0 + (seed or 0), extra=f"extra_{seed}")))

    server.replies = PerSeed(server, fn)


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, FAKE_KEY)
    return FAKE_KEY


@pytest.fixture(scope="module")
def env_context():
    return environment_context("ant")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return make_clip(d / "expert.mp4"), make_clip(d / "rollout.mp4", frames=16, burst=(3, 6))


def make_cfg(server, tmp_path, **kw) -> LMConfig:
    base = dict(
        base_url=server.url, model="test-vlm", api_key_env=FAKE_KEY_ENV, timeout_s=5.0, max_retries=1,
        retry_wait_s=0.01, retry_wait_max_s=0.05, cache_dir=str(tmp_path / "cache"), frames=FRAMES,
        max_tries=2, temperature=0.8,
    )
    base.update(kw)
    return LMConfig(**base)


def rewriter(server, tmp_path, **kw) -> OpenAIRewriter:
    return OpenAIRewriter(make_cfg(server, tmp_path, **kw), record_dir=tmp_path / "lm", validate_timeout_s=3.0)


def critique() -> Critique:
    return Critique(problems=[Item("The robot drags its rear legs.")],
                    rewrite=[Item("target 1 body length per second", component="forward_velocity")],
                    backend="openai")


def seeds(server) -> list[Any]:
    return [r.body.get("seed") for r in server.requests]


def test_k_distinct_proposals_each_its_own_seeded_request(lm_server, tmp_path, key, env_context):
    codes = {1000: reward_code(1.0), 1001: reward_code(1.5, "torso_up"), 1002: reward_code(2.0, "level")}
    answer_by_seed(lm_server, {s: answer(c) for s, c in codes.items()})
    rw = rewriter(lm_server, tmp_path)
    props = rw.propose_initial(TASK, env_context, None, k=3)

    assert [p.code for p in props] == list(codes.values())
    assert len({p.digest for p in props}) == 3
    assert seeds(lm_server) == [1000, 1001, 1002]
    assert all(r.body["temperature"] == 0.8 for r in lm_server.requests)
    assert props[0].label == "sample 1 (seed 1000): forward_velocity, upright"
    assert props[1].label == "sample 2 (seed 1001): forward_velocity, torso_up"
    assert [p.report.components for p in props] == [["forward_velocity", e] for e in ("upright", "torso_up", "level")]
    assert rw.last_report is props[0].report
    # one raw record per sample, distinct names, each carrying its seed
    records = sorted((tmp_path / "lm").glob("*.json"))
    assert [r.name.split("-")[0] for r in records] == [
        f"rewriter_initial_sample{n}_try1" for n in (1, 2, 3)]
    assert [json.loads(r.read_text())["request"]["seed"] for r in records] == [1000, 1001, 1002]
    # and one cache entry per seed: the same prompt, three requests
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3
    assert scan_for_secret(tmp_path) == []


def test_duplicates_dropped_and_replaced_by_another_seed(lm_server, tmp_path, key, env_context):
    same = reward_code(1.0)
    answer_by_seed(lm_server, {
        1000: answer(same),
        1001: answer(same.replace("import torch\n", "import torch\n# the same reward, commented\n", 1)),
        1002: answer(reward_code(3.0, "level")),
    })
    rw = rewriter(lm_server, tmp_path)
    props = rw.propose_initial(TASK, env_context, None, k=2)

    assert [p.code for p in props] == [same, reward_code(3.0, "level")]
    assert props[1].label.startswith("sample 3 (seed 1002)")
    assert seeds(lm_server) == [1000, 1001, 1002]
    assert [s.outcome for s in rw.samples] == ["accepted", "duplicate", "accepted"]
    assert "earlier sample" in rw.samples[1].tries[0].error


def test_history_candidates_excluded_and_shown_in_prompt(lm_server, tmp_path, key, env_context):
    tried = reward_code(1.0)
    history = SearchHistory(
        candidates=[
            CandidateRecord(1, 0, "sample 1 (seed 1000): forward_velocity, upright", code_digest(tried),
                            gap=0.412, fitness=0.5, won=True),
            CandidateRecord(1, 1, "sample 2 (seed 1001): forward_velocity, hop_height", "0" * 64, gap=0.733),
        ],
        incumbent_kept=True,
    )
    answer_by_seed(lm_server, {1000: answer(tried), 1001: answer(reward_code(1.2, "upright"))})
    rw = rewriter(lm_server, tmp_path)
    props = rw.propose_rewrites(TASK, PREVIOUS_CODE, critique(), env_context, "forward_velocity: flat", None,
                                k=2, history=history)

    assert tried not in [p.code for p in props]
    assert seeds(lm_server) == [1000, 1001, 1002]
    assert rw.samples[0].outcome == "duplicate" and "search history" in rw.samples[0].tries[0].error
    # labels say what changed against the previous reward
    assert props[0].label == "sample 2 (seed 1001): forward_velocity, upright; +upright"
    assert props[1].label == "sample 3 (seed 1002): forward_velocity, extra_1002; +extra_1002"
    text = lm_server.requests[0].messages[1]["content"]
    assert history.to_markdown() in text
    assert "| 1 | 1 | sample 2 (seed 1001): forward_velocity, hop_height | 0.733 |" in text
    assert "No candidate of the last iteration beat the incumbent" in text
    assert NO_HISTORY not in text
    assert "The robot drags its rear legs." in text and "forward_velocity: flat" in text


def test_empty_history_is_rendered_as_none(lm_server, tmp_path, key, env_context):
    answer_by_seed(lm_server, {})
    code = rewriter(lm_server, tmp_path).rewrite(TASK, PREVIOUS_CODE, critique(), env_context, "")
    assert code == reward_code(1009.0, "extra_1000")
    text = lm_server.requests[0].messages[1]["content"]
    assert f"which candidate each iteration kept):\n{NO_HISTORY}\n" in text
    assert "$history" not in text


def test_invalid_sample_is_fixed_up_under_its_own_seed(lm_server, tmp_path, key, env_context):
    good = reward_code(1.0)
    answer_by_seed(lm_server, {1000: BAD_ANSWER, 1001: answer(reward_code(2.0, "level"))},
                   fixup={1000: answer(good)})
    rw = rewriter(lm_server, tmp_path)
    props = rw.propose_initial(TASK, env_context, None, k=2)

    assert [p.code for p in props] == [good, reward_code(2.0, "level")]
    assert seeds(lm_server) == [1000, 1000, 1001]
    fix = lm_server.requests[1].messages
    assert fix[-2] == {"role": "assistant", "content": BAD_ANSWER} and "'parse' check" in fix[-1]["content"]
    assert [(t.sample, t.seed, t.check) for t in rw.tries] == [(1, 1000, "parse"), (1, 1000, None), (2, 1001, None)]
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "lm").glob("*.json")) == [
        "rewriter_initial_sample1_try1", "rewriter_initial_sample1_try2", "rewriter_initial_sample2_try1"]


def test_invalid_sample_dropped_after_its_tries_and_replaced(lm_server, tmp_path, key, env_context):
    answer_by_seed(lm_server, {1000: BAD_ANSWER, 1001: answer(reward_code(2.0, "level"))},
                   fixup={1000: BAD_ANSWER})
    rw = rewriter(lm_server, tmp_path)
    props = rw.propose_initial(TASK, env_context, None, k=1)
    assert [p.code for p in props] == [reward_code(2.0, "level")]
    assert seeds(lm_server) == [1000, 1000, 1001]
    assert [s.outcome for s in rw.samples] == ["invalid", "accepted"]


def test_too_few_distinct_candidates_is_an_error_naming_model_endpoint_and_k(lm_server, tmp_path, key, env_context):
    answer_by_seed(lm_server, {s: answer(reward_code(1.0)) for s in range(1000, 1010)}, fixup={})
    rw = rewriter(lm_server, tmp_path)
    with pytest.raises(RewardCodeError) as exc:
        rw.propose_initial(TASK, env_context, None, k=2)
    msg = str(exc.value)
    assert "'test-vlm'" in msg and lm_server.url in msg
    assert "only 1 distinct valid reward candidate(s) of K=2" in msg and "6 samples" in msg
    assert "5 duplicate(s)" in msg
    assert exc.value.check == "duplicate"
    assert seeds(lm_server) == list(range(1000, 1006))  # 2K + 2 draws, then stop
    assert FAKE_KEY not in msg


def test_temperature_zero_with_several_candidates_is_a_config_error(lm_server, tmp_path, key, env_context):
    answer_by_seed(lm_server, {})
    rw = rewriter(lm_server, tmp_path, temperature=0.0)
    with pytest.raises(ConfigError, match="temperature 0"):
        rw.propose_initial(TASK, env_context, None, k=2)
    with pytest.raises(ConfigError, match="temperature"):
        rw.propose_rewrites(TASK, PREVIOUS_CODE, critique(), env_context, "", None, k=3, history=SearchHistory())
    assert lm_server.count == 0
    with pytest.raises(ConfigError, match="k must be"):
        rw.propose_initial(TASK, env_context, None, k=0)
    assert len(rw.propose_initial(TASK, env_context, None, k=1)) == 1  # one candidate is fine at 0
    assert seeds(lm_server) == [1000]


def test_cache_replay_returns_the_same_k_without_network(lm_server, tmp_path, key, env_context):
    answer_by_seed(lm_server, {1000: answer(reward_code(1.0)), 1001: answer(reward_code(1.0)),
                               1002: BAD_ANSWER}, fixup={1002: answer(reward_code(4.0, "level"))})
    history = SearchHistory([CandidateRecord(0, 0, "sample 1 (seed 1000)", code_digest(PREVIOUS_CODE),
                                             gap=0.9, won=True)])
    args = (TASK, PREVIOUS_CODE, critique(), env_context, "stats")
    recorder = rewriter(lm_server, tmp_path)
    first = recorder.propose_rewrites(*args, None, k=2, history=history)
    sent = lm_server.count
    assert sent == 4

    replay = rewriter(lm_server, tmp_path, cache_mode="replay")
    again = replay.propose_rewrites(*args, None, k=2, history=history)
    assert lm_server.count == sent
    assert [(p.code, p.label) for p in again] == [(p.code, p.label) for p in first]
    assert [t.request_hash for t in replay.tries] == [t.request_hash for t in recorder.tries]
    # the replayed conversation is the recorded one, seed by seed
    assert [(t.sample, t.seed) for t in replay.tries] == [(1, 1000), (2, 1001), (3, 1002), (3, 1002)]

    # another K needs a sample the cache does not hold: replay says so and sends nothing
    with pytest.raises(LMError, match="seed 1003"):
        replay.propose_rewrites(*args, None, k=3, history=history)
    assert lm_server.count == sent


def test_seed_is_part_of_the_request_hash(lm_server, tmp_path, key):
    answer_by_seed(lm_server, {})
    cfg = make_cfg(lm_server, tmp_path)
    msgs = [{"role": "user", "content": "hi"}]
    with LMClient(cfg) as client:
        plain = client.chat(msgs)
        a = client.chat(msgs, seed=1)
        b = client.chat(msgs, seed=2)
        a2 = client.chat(msgs, seed=1)
    assert len({plain.request_hash, a.request_hash, b.request_hash}) == 3
    assert a2.cached and a2.request_hash == a.request_hash and a2.text == a.text
    assert seeds(lm_server) == [None, 1, 2]
    assert "seed" not in lm_server.requests[0].body
    with pytest.raises(LMError, match="seed"):
        LMClient(cfg).chat(msgs, seed="1")  # type: ignore[arg-type]


def test_single_model_rewriter_proposes_k_with_history(lm_server, tmp_path, key, clips, env_context):
    answer_by_seed(lm_server, {1000: answer(reward_code(1.0)), 1001: answer(reward_code(1.0))})
    history = SearchHistory([CandidateRecord(1, 0, "sample 1 (seed 1000): forward_velocity", "f" * 64, gap=0.5)])
    out = tmp_path / "iter_2"
    rw = SingleModelRewriter(make_cfg(lm_server, tmp_path), validate_timeout_s=3.0)
    props = rw.propose_rewrites(TASK, PREVIOUS_CODE, Critique(), env_context, "flat",
                                RewriteVideos(clips[0], clips[1], out), k=2, history=history)
    assert len({p.digest for p in props}) == 2
    assert seeds(lm_server) == [1000, 1001, 1002]
    first = lm_server.requests[0]
    assert len(first.image_urls()) == 2 * FRAMES
    assert history.to_markdown() in first.all_text()
    # every sample saw the same storyboards and prompt
    assert all(r.messages == first.messages for r in lm_server.requests)
    assert sorted(p.name.split("-")[0] for p in (out / "lm").glob("*.json")) == [
        f"rewriter_single_rewrite_sample{n}_try1" for n in (1, 2, 3)]

    answer_by_seed(lm_server, {})
    initial = rw.propose_initial(TASK, env_context, None, k=2)
    assert NO_HISTORY not in lm_server.requests[-1].all_text()  # the initial prompt has no history
    assert len(initial) == 2


def test_label_is_one_short_sanitised_line():
    label = sample_label(4, 1003, ["ok_name", "bad name; DROP\n|x|", "y" * 200], ["ok_name", "gone"])
    assert "\n" not in label and "|" not in label and len(label) <= 120
    assert label.startswith("sample 4 (seed 1003): ok_name, badnameDROPx, yyy")
    assert sample_label(1, 1000, None) == "sample 1 (seed 1000)"
    assert returned_components(PREVIOUS_CODE) == ["forward_velocity"]
    named = 'def compute_reward(x):\n    c = {"a": x}\n    c["b"] = x\n    return x, c\n'
    assert returned_components(named) == ["a", "b"]
    assert returned_components("def compute_reward(x):\n    return x, dict(a=x)\n") is None
