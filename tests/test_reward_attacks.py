"""Hostile reward code through validation, the real rewriter path and the training stage.

Every attack in :mod:`reward_attacks` must be rejected with a clear message that is fed back to the
model; no attack may create its canary file; the secrets planted in environment variables and in
a file may reach no artifact.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lm_server import FAKE_KEY, FAKE_KEY_ENV, lm_server  # noqa: F401 - fixture
from reward_attacks import ALL_ATTACKS, SECRET_ENV, SECRET_TOKEN_ENV, materialise
from vidreward.errors import RewardCodeError
from vidreward.lm.config import LMConfig
from vidreward.reward.env_context import environment_context
from vidreward.reward.validate import validate_reward_code
from vidreward.rewriter.base import TaskSpec
from vidreward.rewriter.openai_rewriter import OpenAIRewriter
from vidreward.critic.base import Critique, Item

ROOT = Path(__file__).resolve().parents[1]
TOKEN_VALUE = "tok-5f1e0c9a-planted-in-the-environment"
FILE_SECRET = "file-secret-93b1d7-planted-in-a-file"
GOOD_CODE = '''import torch


def compute_reward(root_linvel: torch.Tensor, up_proj: torch.Tensor):
    r_fwd = torch.exp(-torch.abs(root_linvel[:, 0] - 1.0))
    r_up = 0.5 * up_proj
    return r_fwd + r_up, {"forward_velocity": r_fwd, "upright": r_up}
'''
# attacks that only stop by the sandbox's limits: in training they would hang or exhaust memory
LIMIT_ATTACKS = {"infinite_loop", "huge_allocation"}

assert SECRET_ENV == FAKE_KEY_ENV


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """Secrets in two environment variables and in a file; a canary path that must stay absent."""
    monkeypatch.setenv(FAKE_KEY_ENV, FAKE_KEY)
    monkeypatch.setenv(SECRET_TOKEN_ENV, TOKEN_VALUE)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(FILE_SECRET)
    canary = tmp_path / "canary" / "pwned"
    canary.parent.mkdir()
    return canary, secret_file


def _code(name: str, canary: Path, secret_file: Path) -> str:
    return materialise(ALL_ATTACKS[name][0], str(canary), str(secret_file))


def _assert_no_secret_under(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file() and path.name != "secret.txt":
            data = path.read_bytes()
            for secret in (FAKE_KEY, TOKEN_VALUE, FILE_SECRET):
                assert secret.encode() not in data, f"{secret} leaked into {path}"


def test_the_attack_list_is_complete():
    from reward_attacks import CLASSIC, DESIGNED, REPORTED

    assert len(CLASSIC) >= 21 and len(REPORTED) == 6 and len(DESIGNED) >= 5


@pytest.mark.parametrize("name", sorted(ALL_ATTACKS))
def test_validation_rejects_the_attack(name, planted, tmp_path):
    canary, secret_file = planted
    _, check, snippet = ALL_ATTACKS[name]
    with pytest.raises(RewardCodeError) as info:
        validate_reward_code(_code(name, canary, secret_file), "ant", origin="attack.py", timeout_s=3)
    assert info.value.check == check, str(info.value)
    assert snippet in str(info.value) and "attack.py" in str(info.value)
    assert not canary.exists()


# -- the real rewriter path: a loopback OpenAI-compatible server answers with the attack ----------


def _critique() -> Critique:
    return Critique(problems=[Item("The robot does not move.")],
                    rewrite=[Item("reward forward speed", component="forward_velocity")],
                    backend="openai")


@pytest.mark.parametrize("name", sorted(ALL_ATTACKS))
def test_rewriter_feeds_the_rejection_back_to_the_model(name, planted, lm_server, tmp_path):
    canary, secret_file = planted
    attack = _code(name, canary, secret_file)
    _, check, snippet = ALL_ATTACKS[name]
    lm_server.push(f"Here is the reward.\n```python\n{attack}```",
                   f"Fixed.\n```python\n{GOOD_CODE}```")
    cfg = LMConfig(base_url=lm_server.url, model="test-llm", api_key_env=FAKE_KEY_ENV, timeout_s=5.0,
                   max_retries=1, retry_wait_s=0.01, retry_wait_max_s=0.05,
                   cache_dir=str(tmp_path / "cache"), max_tries=2)
    rewriter = OpenAIRewriter(cfg, record_dir=tmp_path / "lm", validate_timeout_s=3.0)
    task = TaskSpec("ant", "Walk forward.")
    code = rewriter.rewrite(task, GOOD_CODE, _critique(), environment_context("ant"), "")
    assert code == GOOD_CODE
    assert [t.check for t in rewriter.tries] == [check, None]
    feedback = lm_server.requests[1].messages[-1]["content"]
    assert f"'{check}' check" in feedback and snippet in feedback
    assert not canary.exists()
    _assert_no_secret_under(tmp_path)


# -- the training stage: the reward file is replaced behind the validation's back -----------------


@pytest.fixture(scope="module")
def trained_attacks(tmp_path_factory):
    """Run every attack through train_stage in one confined process (with a forged validation
    record), plus a hand edit without one, then a good reward."""
    root = tmp_path_factory.mktemp("train_attacks")
    canary = root / "canary" / "pwned"
    canary.parent.mkdir()
    secret_file = root / "secret.txt"
    secret_file.write_text(FILE_SECRET)
    cases = [
        {"name": name, "code": _code(name, canary, secret_file), "forge_record": True}
        for name in sorted(ALL_ATTACKS) if name not in LIMIT_ATTACKS
    ]
    cases.append({"name": "hand_edit_import_os", "forge_record": False,
                  "code": f"import os\nos.system('touch {canary}')\n" + GOOD_CODE})
    cases.append({"name": "good", "code": GOOD_CODE, "forge_record": True})
    spec = root / "cases.json"
    out_dir = root / "iter"
    spec.write_text(json.dumps({"out_dir": str(out_dir), "cases": cases}))
    env = {**os.environ, FAKE_KEY_ENV: FAKE_KEY, SECRET_TOKEN_ENV: TOKEN_VALUE,
           "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "attack_trainer.py"), str(spec)],
                          cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    return results, root, canary, out_dir, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", sorted(set(ALL_ATTACKS) - LIMIT_ATTACKS))
def test_training_refuses_the_attack(name, trained_attacks):
    results, _, canary, out_dir, _ = trained_attacks
    result = results[name]
    assert result["outcome"] == "rejected" and result["type"] == "RewardCodeError", result
    assert str(out_dir / "reward.py") in result["message"]
    assert not canary.exists()


def test_training_rejects_a_hand_edited_reward_without_running_it(trained_attacks):
    results, _, canary, _, _ = trained_attacks
    result = results["hand_edit_import_os"]
    assert result["outcome"] == "rejected" and result["check"] == "allowlist", result
    assert "changed since it was validated" in result["message"]
    assert "'import os' is not allowed" in result["message"]
    assert not canary.exists()


def test_training_still_works_and_no_secret_reaches_an_artifact(trained_attacks):
    results, root, _, out_dir, output = trained_attacks
    assert results["good"] == {"outcome": "trained"}
    assert (out_dir / "policy.pth").is_file() and (out_dir / "train_log.csv").is_file()
    header = (out_dir / "train_log.csv").read_text().splitlines()[0]
    assert "reward/upright" in header and "reward/forward_velocity" in header
    assert FAKE_KEY_ENV not in results["_environment"] and SECRET_TOKEN_ENV not in results["_environment"]
    _assert_no_secret_under(root)
    for secret in (FAKE_KEY, TOKEN_VALUE, FILE_SECRET):
        assert secret not in output


# -- the process layer underneath the execution model ----------------------------------------------


def _require_confinement_support():
    from vidreward.reward.confine import landlock_abi

    if landlock_abi() < 1:
        if os.environ.get("CI") == "true":
            pytest.fail("CI: this kernel has no Landlock; the confinement test cannot run")
        pytest.skip("this kernel has no Landlock (confinement is reported as not applied)")


PROBE = r'''
import json, os, socket, sys
from vidreward.reward.confine import confine_process
applied = confine_process([sys.argv[1]])
out = {"applied": {k: v for k, v in applied.items() if k != "environment"},
       "env_has_secret": any(k in os.environ for k in ("VIDREWARD_TEST_LM_KEY", "MY_SERVICE_TOKEN"))}
open(os.path.join(sys.argv[1], "inside.txt"), "w").write("ok")
for name, target in (("outside", sys.argv[2]), ("repo", sys.argv[3])):
    try:
        open(target, "w").write("x")
        out[name] = "written"
    except OSError as exc:
        out[name] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[4])), timeout=2).close()
    out["connect"] = "connected"
except OSError as exc:
    out["connect"] = type(exc).__name__
print(json.dumps(out))
'''


def test_confined_process_has_no_secrets_network_or_writes_outside(tmp_path):
    _require_confinement_support()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    threading.Thread(target=lambda: listener.accept(), daemon=True).start()
    port = listener.getsockname()[1]
    inside = tmp_path / "out"
    outside = tmp_path / "outside.txt"
    repo_file = ROOT / "confine_probe_should_not_exist.txt"
    env = {**os.environ, FAKE_KEY_ENV: FAKE_KEY, SECRET_TOKEN_ENV: TOKEN_VALUE}
    proc = subprocess.run([sys.executable, "-c", PROBE, str(inside), str(outside), str(repo_file), str(port)],
                          env=env, capture_output=True, text=True, timeout=60)
    listener.close()
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["applied"] == {"network": True, "landlock": True}
    assert out["env_has_secret"] is False
    assert (inside / "inside.txt").read_text() == "ok"
    assert out["outside"] == "PermissionError" and not outside.exists()
    assert out["repo"] == "PermissionError" and not repo_file.exists()
    assert out["connect"] != "connected"
