"""LMClient, cache, config, frames and parsing against a real local HTTP server (real openai client)."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest

from lm_server import FAKE_KEY, FAKE_KEY_ENV, Reply, lm_server, make_clip, scan_for_secret  # noqa: F401
from vidreward.critic.parse import count_items, parse_critique
from vidreward.errors import ClipError, ConfigError, CritiqueError, LMError, RewardCodeError
from vidreward.lm import load_prompt, render_prompt
from vidreward.lm.client import LMClient, public_endpoint
from vidreward.lm.config import LMConfig
from vidreward.lm.frames import make_storyboard, png_bytes, select_indices
from vidreward.rewriter.extract import extract_code


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, FAKE_KEY)
    return FAKE_KEY


def make_cfg(server, tmp_path, **kw) -> LMConfig:
    base = dict(
        base_url=server.url,
        model="test-model",
        api_key_env=FAKE_KEY_ENV,
        timeout_s=5.0,
        max_retries=3,
        retry_wait_s=0.01,
        retry_wait_max_s=0.05,
        cache_dir=str(tmp_path / "cache"),
    )
    base.update(kw)
    return LMConfig(**base)


MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello."},
]


# -- config ---------------------------------------------------------------------------------------


def test_config_from_dict_rejects_unknown_keys():
    with pytest.raises(ConfigError) as exc:
        LMConfig.from_dict({"model": "m", "temprature": 0.1, "api_key": "x"}, source="run.critic")
    msg = str(exc.value)
    assert "run.critic" in msg and "temprature" in msg and "api_key" in msg


def test_config_from_dict_ignores_backend_and_validates_values():
    cfg = LMConfig.from_dict({"backend": "openai", "model": "m", "frames": 4, "cache_mode": "replay"})
    assert cfg.model == "m" and cfg.frames == 4 and cfg.cache_mode == "replay"
    with pytest.raises(ConfigError, match="cache_mode"):
        LMConfig.from_dict({"cache_mode": "sometimes"})
    with pytest.raises(ConfigError, match="max_tries"):
        LMConfig.from_dict({"max_tries": 0})
    with pytest.raises(ConfigError, match="api_key_env"):
        LMConfig(api_key_env="sk-not a variable name")


def test_prompts_load_and_render():
    assert "compute_reward" in load_prompt("rewriter_system")
    text = render_prompt("rewriter_fix", try_number=1, max_tries=3, check="parse", error="boom {x} $y")
    assert "boom {x} $y" in text and "'parse'" in text
    with pytest.raises(ConfigError, match="no_such_prompt"):
        load_prompt("no_such_prompt")
    with pytest.raises(ConfigError, match="error"):
        render_prompt("rewriter_fix", try_number=1, max_tries=3, check="parse")


# -- client: requests, records, cache ---------------------------------------------------------------


def test_chat_sends_request_and_records(lm_server, tmp_path, key):
    lm_server.push(Reply.text("hello there", model="served-model-v2"))
    cfg = make_cfg(lm_server, tmp_path, temperature=0.3, max_tokens=77)
    with LMClient(cfg, record_dir=tmp_path / "iter_0" / "lm") as client:
        resp = client.chat(MESSAGES, purpose="greeting")
    assert resp.text == "hello there"
    assert resp.model == "served-model-v2"
    assert resp.cached is False
    assert resp.usage["prompt_tokens"] == 11
    assert len(resp.request_hash) == 64
    assert lm_server.count == 1
    req = lm_server.requests[0]
    assert req.auth_ok, "the key from the env var must go out as the bearer token"
    assert req.body["model"] == "test-model"
    assert req.body["temperature"] == 0.3 and req.body["max_tokens"] == 77
    assert req.messages == MESSAGES

    record = json.loads((tmp_path / "cache" / f"{resp.request_hash}.json").read_text())
    assert record["response"]["text"] == "hello there"
    assert record["response"]["model"] == "served-model-v2"
    assert record["request"]["model"] == "test-model"
    assert record["request"]["messages"] == MESSAGES
    assert record["latency_s"] >= 0 and record["timestamp"]
    copy = tmp_path / "iter_0" / "lm" / f"greeting-{resp.request_hash[:16]}.json"
    assert resp.record_path == copy and json.loads(copy.read_text())["cached"] is False
    assert not list((tmp_path / "cache").glob(".*.tmp")), "atomic write leaves no temporary files"


def test_cache_hit_on_rerun_makes_no_request(lm_server, tmp_path, key, monkeypatch):
    lm_server.push("first answer")
    cfg = make_cfg(lm_server, tmp_path)
    first = LMClient(cfg).chat(MESSAGES)
    assert lm_server.count == 1
    # A rerun (new client, key no longer even set) answers from the cache: zero network calls.
    monkeypatch.delenv(FAKE_KEY_ENV)
    client = LMClient(cfg, record_dir=tmp_path / "rerun_lm")
    again = client.chat(MESSAGES)
    assert lm_server.count == 1
    assert client.network_calls == 0
    assert again.cached is True and again.text == "first answer"
    assert again.request_hash == first.request_hash
    assert json.loads(again.record_path.read_text())["cached"] is True


def test_request_hash_depends_on_model_parameters_and_messages(lm_server, tmp_path, key):
    lm_server.push("a", "b", "c")
    h1 = LMClient(make_cfg(lm_server, tmp_path)).chat(MESSAGES).request_hash
    h2 = LMClient(make_cfg(lm_server, tmp_path, temperature=0.9)).chat(MESSAGES).request_hash
    h3 = LMClient(make_cfg(lm_server, tmp_path)).chat(MESSAGES + [{"role": "user", "content": "more"}]).request_hash
    assert len({h1, h2, h3}) == 3
    assert lm_server.count == 3


def test_replay_miss_is_a_clear_error_and_sends_nothing(lm_server, tmp_path, key):
    cfg = make_cfg(lm_server, tmp_path, cache_mode="replay")
    with pytest.raises(LMError) as exc:
        LMClient(cfg).chat(MESSAGES)
    msg = str(exc.value)
    assert "replay" in msg and str(tmp_path / "cache") in msg
    hashes = [w for w in msg.split() if len(w) == 64 and all(c in "0123456789abcdef" for c in w)]
    assert len(hashes) == 1, msg
    assert lm_server.count == 0


def test_replay_hit_answers_from_cache(lm_server, tmp_path, key):
    lm_server.push("recorded")
    LMClient(make_cfg(lm_server, tmp_path)).chat(MESSAGES)
    resp = LMClient(make_cfg(lm_server, tmp_path, cache_mode="replay")).chat(MESSAGES)
    assert resp.text == "recorded" and resp.cached
    assert lm_server.count == 1


def test_cache_off_always_calls_and_stores_nothing(lm_server, tmp_path, key):
    lm_server.push("one", "two")
    cfg = make_cfg(lm_server, tmp_path, cache_mode="off")
    client = LMClient(cfg, record_dir=tmp_path / "lm")
    assert client.chat(MESSAGES).text == "one"
    assert client.chat(MESSAGES).text == "two"
    assert lm_server.count == 2
    assert not (tmp_path / "cache").exists()
    assert len(list((tmp_path / "lm").glob("*.json"))) == 1  # same request -> same record name


def test_corrupt_cache_record_names_the_file(lm_server, tmp_path, key):
    lm_server.push("x")
    cfg = make_cfg(lm_server, tmp_path)
    h = LMClient(cfg).chat(MESSAGES).request_hash
    path = tmp_path / "cache" / f"{h}.json"
    path.write_text("{not json")
    with pytest.raises(LMError, match=str(path)):
        LMClient(cfg).chat(MESSAGES)


# -- client: retries and failures -------------------------------------------------------------------


def test_429_then_success_is_retried(lm_server, tmp_path, key):
    lm_server.push(Reply.error(429, "slow down"), Reply.error(503, "busy"), "finally")
    resp = LMClient(make_cfg(lm_server, tmp_path)).chat(MESSAGES)
    assert resp.text == "finally"
    assert lm_server.count == 3
    record = json.loads((tmp_path / "cache" / f"{resp.request_hash}.json").read_text())
    assert record["attempts"] == 3


def test_timeout_is_retried_then_succeeds(lm_server, tmp_path, key):
    lm_server.push(Reply.text("too late", delay_s=2.0), "in time")
    cfg = make_cfg(lm_server, tmp_path, timeout_s=0.5)
    start = time.monotonic()
    resp = LMClient(cfg).chat(MESSAGES)
    assert resp.text == "in time"
    assert lm_server.count == 2
    assert time.monotonic() - start < 5


def test_exhausted_timeouts_raise_lmerror(lm_server, tmp_path, key):
    lm_server.push(Reply.text("late", delay_s=1.5), Reply.text("late", delay_s=1.5))
    cfg = make_cfg(lm_server, tmp_path, timeout_s=0.5, max_retries=1)
    with pytest.raises(LMError) as exc:
        LMClient(cfg).chat(MESSAGES)
    msg = str(exc.value)
    assert "2 attempt" in msg and "test-model" in msg and lm_server.url in msg
    assert "timed out" in msg.lower()
    assert lm_server.count == 2
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_exhausted_5xx_raise_lmerror(lm_server, tmp_path, key):
    lm_server.push(*[Reply.error(500, "internal")] * 3)
    cfg = make_cfg(lm_server, tmp_path, max_retries=2)
    with pytest.raises(LMError, match="HTTP 500"):
        LMClient(cfg).chat(MESSAGES)
    assert lm_server.count == 3


def test_other_4xx_fail_at_once_naming_endpoint_model_and_status(lm_server, tmp_path, key):
    lm_server.push(Reply.error(400, "model does not support images"), "never used")
    with pytest.raises(LMError) as exc:
        LMClient(make_cfg(lm_server, tmp_path)).chat(MESSAGES)
    msg = str(exc.value)
    assert lm_server.url in msg and "test-model" in msg and "HTTP 400" in msg
    assert "does not support images" in msg
    assert lm_server.count == 1


def test_auth_failure_names_the_variable_not_the_key(lm_server, tmp_path, key):
    lm_server.push(Reply.error(401, f"Incorrect API key provided: {FAKE_KEY}"))
    with pytest.raises(LMError) as exc:
        LMClient(make_cfg(lm_server, tmp_path)).chat(MESSAGES)
    assert FAKE_KEY_ENV in str(exc.value) and "HTTP 401" in str(exc.value)
    assert FAKE_KEY not in str(exc.value)
    assert lm_server.count == 1


def test_missing_key_variable_is_named(lm_server, tmp_path, monkeypatch):
    monkeypatch.delenv(FAKE_KEY_ENV, raising=False)
    with pytest.raises(LMError) as exc:
        LMClient(make_cfg(lm_server, tmp_path)).chat(MESSAGES)
    assert FAKE_KEY_ENV in str(exc.value)
    assert lm_server.count == 0


def test_empty_answer_is_an_error_and_not_cached(lm_server, tmp_path, key):
    lm_server.push(Reply.text(""), "ok")
    cfg = make_cfg(lm_server, tmp_path)
    with pytest.raises(LMError, match="empty answer"):
        LMClient(cfg).chat(MESSAGES)
    assert LMClient(cfg).chat(MESSAGES).text == "ok"


def test_public_endpoint_drops_credentials_and_query():
    assert public_endpoint("https://user:pw@host.example:8443/v1?key=abc#x") == "https://host.example:8443/v1"


# -- images and frames ------------------------------------------------------------------------------


def test_images_are_sent_as_data_urls_and_hashed_in_records(lm_server, tmp_path, key):
    png = png_bytes(np.full((8, 8, 3), 200, dtype=np.uint8))
    lm_server.push("seen")
    resp = LMClient(make_cfg(lm_server, tmp_path)).chat(MESSAGES, images=[png])
    urls = lm_server.requests[0].image_urls()
    assert len(urls) == 1 and urls[0].startswith("data:image/png;base64,")
    assert base64.b64decode(urls[0].split(",", 1)[1]) == png
    record_text = (tmp_path / "cache" / f"{resp.request_hash}.json").read_text()
    assert "base64" not in record_text
    import hashlib

    assert f"sha256:{hashlib.sha256(png).hexdigest()}" in record_text


def test_select_indices_mixes_uniform_and_motion():
    frames = np.zeros((60, 16, 16, 3), dtype=np.uint8)
    for t in range(60):
        frames[t] = (t * 2) % 255 if not 40 <= t < 44 else (t * 60) % 255
    picked = select_indices(frames, 6)
    assert len(picked) == 6
    idx = [i for i, _ in picked]
    assert idx == sorted(idx) and idx[0] == 0 and idx[-1] == 59
    assert any(40 <= i <= 44 and r == "motion" for i, r in picked), picked
    assert select_indices(frames[:3], 6) == [(0, "uniform"), (1, "uniform"), (2, "uniform")]


def test_storyboard_saves_the_frames_sent(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4")
    sb = make_storyboard(clip, "expert", 6, tmp_path / "storyboard", label="Expert")
    assert len(sb.frames) == 6 == len(sb.paths)
    assert [p.name for p in sb.paths] == [f"expert_{k:02d}.png" for k in range(6)]
    assert all(p.read_bytes() == png for p, png in zip(sb.paths, sb.pngs))
    assert sb.contact_sheet is not None and sb.contact_sheet.stat().st_size > 0
    assert any(f.reason == "motion" for f in sb.frames)
    parts = sb.message_parts()
    assert parts[0] == {"type": "text", "text": f"Expert frame 1 at t={sb.frames[0].time_s:.2f} s"}
    assert parts[1]["type"] == "image_url"
    assert base64.b64decode(parts[1]["image_url"]["url"].split(",", 1)[1]) == sb.paths[0].read_bytes()
    meta = json.loads((tmp_path / "storyboard" / "expert_frames.json").read_text())
    assert len(meta["frames"]) == 6


def test_storyboard_of_missing_video_names_it(tmp_path):
    with pytest.raises(ClipError, match="nope.mp4"):
        make_storyboard(tmp_path / "nope.mp4", "expert", 4, tmp_path / "sb")


# -- parsing ----------------------------------------------------------------------------------------

FEEDBACK = """Sure! Here is my comparison.

**Problems:**
1. The robot moves much slower than the spider (about 0.2 vs 1 body length per second).
   It also drags its rear legs.
2. `up_proj`: the torso rolls from side to side.

## Rewrite component
- forward_velocity: target 1 body length per second instead of maximising speed
- **action_penalty**: halve the weight

### Remove component
None

4. New component:
1. gait_rhythm: reward alternating diagonal foot contacts at about 2 Hz
"""


def test_parse_critique_four_parts():
    c = parse_critique(FEEDBACK, source="answer-1")
    assert c.backend == "openai" and c.raw_text == FEEDBACK and c.gap is None
    assert [i.text for i in c.problems][0].endswith("It also drags its rear legs.")
    assert c.problems[1].component == "up_proj"
    assert [(i.component, i.text) for i in c.rewrite] == [
        ("forward_velocity", "target 1 body length per second instead of maximising speed"),
        ("action_penalty", "halve the weight"),
    ]
    assert c.remove == []
    assert c.new[0].component == "gait_rhythm"
    assert count_items(c) == 5


def test_parse_critique_plain_headings_and_inline_items():
    text = "Problems: robot falls over\nRewrite component: none\nRemove component\n- height: useless\nNew component: None"
    c = parse_critique(text, source="s")
    assert [i.text for i in c.problems] == ["robot falls over"]
    assert c.rewrite == [] and c.new == []
    assert c.remove[0].component == "height"


def test_parse_critique_bulleted_headings_and_bold_component_names():
    text = ("- **Problems:**\n  - **Gait:** the robot hops instead of walking\n"
            "- **New component:**\n  - **foot_air_time:** reward swing phases of about 0.3 s\n"
            "- Remove component: none\n")
    c = parse_critique(text, source="s")
    assert [(i.component, i.text) for i in c.problems] == [("Gait", "the robot hops instead of walking")]
    assert [(i.component, i.text) for i in c.new] == [("foot_air_time", "reward swing phases of about 0.3 s")]
    assert c.remove == []


def test_parse_critique_without_sections_names_source():
    with pytest.raises(CritiqueError, match="answer-7"):
        parse_critique("The robot looks fine to me. Problems with the gait are minor.", source="answer-7")


CODE = "import torch\n\ndef compute_reward(root_linvel):\n    r = root_linvel[:, 0]\n    return r, {'fwd': r}\n"


def test_extract_code_variants():
    fenced = f"Plan...\n```python\n# draft\nx = 1\n```\nFinal:\n```python\n{CODE}```\nDone."
    assert extract_code(fenced, "s") == CODE
    assert extract_code(f"```\n{CODE}```", "s") == CODE
    assert extract_code(CODE, "s") == CODE
    assert extract_code("```python\nimport torch\nx = 1\n```", "s") == "import torch\nx = 1\n"
    with pytest.raises(RewardCodeError) as exc:
        extract_code("I would reward forward speed and uprightness.", "answer-3")
    assert exc.value.check == "extract" and "answer-3" in str(exc.value)


def test_no_secret_in_any_written_file(lm_server, tmp_path, key):
    lm_server.push(Reply.error(429), "fine")
    LMClient(make_cfg(lm_server, tmp_path), record_dir=tmp_path / "lm").chat(MESSAGES)
    assert lm_server.requests[-1].auth_ok
    assert scan_for_secret(tmp_path) == []
