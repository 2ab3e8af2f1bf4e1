"""PPO training adapter, training artifacts, warm start and the deterministic rollout.

Budgets are tiny (a few thousand env steps): these check behaviour and file contracts, not
learning. Each robot runs a couple of epochs and a short rollout.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "egl")

from vidreward.errors import ConfigError, RewardCodeError  # noqa: E402
from vidreward.train import (  # noqa: E402
    TrainConfig,
    rollout_policy,
    train_policy,
)
from vidreward.sim.robots import ROBOTS  # noqa: E402
from vidreward.train.vecenv import SimVecEnv  # noqa: E402

CONTRACT_KEYS = {"dt", "robot", "t", "root_pos", "root_quat", "root_linvel", "root_angvel",
                 "dof_pos", "dof_vel", "actions", "foot_contact_forces"}
REQUIRED_COLUMNS = ["epoch", "env_steps", "wall_s", "mean_return", "mean_episode_length"]
COMPONENTS = ("forward_velocity", "upright", "action_cost", "constant")

REWARD_CODE = '''
import torch

def compute_reward(root_linvel: torch.Tensor, up_proj: torch.Tensor, actions: torch.Tensor,
                   dt: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    forward_velocity = root_linvel[:, 0]
    upright = up_proj.clamp(min=0.0)
    action_cost = -0.01 * (actions ** 2).sum(dim=-1)
    constant = torch.full_like(forward_velocity, 2.5)
    reward = forward_velocity + upright + action_cost + constant
    return reward, {"forward_velocity": forward_velocity, "upright": upright,
                    "action_cost": action_cost, "constant": constant}
'''


def tiny_cfg(**over) -> TrainConfig:
    base = dict(total_env_steps=512, num_envs=16, horizon=16, minibatch_size=128, mini_epochs=2,
                units=[32, 32], max_episode_steps=24, seed=3, progress=False, torch_threads=1)
    base.update(over)
    return TrainConfig.from_dict(base)


@pytest.fixture(scope="module")
def reward_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reward") / "reward.py"
    path.write_text(REWARD_CODE)
    return path


@pytest.fixture(scope="module")
def ant_run(tmp_path_factory, reward_file):
    out = tmp_path_factory.mktemp("ant_train")
    return train_policy(reward_file, "ant", tiny_cfg(), out), out


def read_log(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------- config
def test_config_rejects_unknown_key():
    with pytest.raises(ConfigError, match=r"train\.num_env\b"):
        TrainConfig.from_dict({"num_env": 8})


def test_config_type_and_consistency_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"train\.horizon"):
        TrainConfig.from_dict({"horizon": "long"})
    with pytest.raises(ConfigError, match="minibatch_size"):
        TrainConfig.from_dict({"num_envs": 10, "horizon": 10, "minibatch_size": 30})
    with pytest.raises(ConfigError, match=r"train\.units"):
        TrainConfig.from_dict({"units": [64, -1]})


def test_config_from_dict_coerces_and_derives():
    cfg = TrainConfig.from_dict({"total_env_steps": 1e4, "num_envs": 8, "horizon": 16,
                                 "minibatch_size": 64, "units": [16, 8], "learning_rate": 1})
    assert cfg.total_env_steps == 10_000 and isinstance(cfg.total_env_steps, int)
    assert cfg.units == (16, 8) and cfg.learning_rate == 1.0
    assert cfg.batch_size == 128 and cfg.epochs == 79  # ceil(10000 / 128)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


# ----------------------------------------------------------------------------- vec env
def test_vecenv_time_limit_is_reported_as_time_out(reward_file):
    from vidreward.reward.loader import load_reward_file
    from vidreward.sim import make_sim

    n, limit = 4, 5
    env = SimVecEnv(make_sim("ant", n, seed=1, max_episode_steps=limit),
                    load_reward_file(reward_file), str(reward_file))
    try:
        obs = env.reset()
        assert obs.shape == (n, env.obs_dim)
        zero = torch.zeros(n, env.action_dim)
        for i in range(limit):
            obs, rew, dones, infos = env.step(zero)
            assert rew.shape == (n,) and rew.dtype == torch.float32
            if i < limit - 1:
                assert not dones.any()
        # standing still on the ground for 5 steps does not terminate: every env timed out
        assert dones.bool().all() and infos["time_outs"].bool().all()
        assert torch.isfinite(obs).all()
        stats = env.pop_stats()
        assert stats.env_steps == n * limit and stats.episodes == n
        assert stats.mean_episode_length == limit
        assert stats.component_means["constant"] == pytest.approx(2.5)
        assert set(stats.component_means) == set(COMPONENTS)
        assert env.pop_stats().episodes == 0  # counters restart after each pop
    finally:
        env.close()


# ----------------------------------------------------------------------------- training
def test_training_writes_policy_log_and_tensorboard(ant_run):
    result, out = ant_run
    assert result.policy_path == out / "policy.pth" and result.policy_path.is_file()
    ckpt = torch.load(result.policy_path, map_location="cpu", weights_only=False)
    assert "model" in ckpt and ckpt["vidreward"]["robot"] == "ant"
    assert ckpt["vidreward"]["components"] == list(COMPONENTS)

    rows = read_log(out / "train_log.csv")
    cfg = tiny_cfg()
    assert len(rows) == cfg.epochs == result.epochs == 2
    header = list(rows[0])
    for col in REQUIRED_COLUMNS + [f"reward/{c}" for c in COMPONENTS]:
        assert col in header, col
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert [int(r["env_steps"]) for r in rows] == [256, 512]
    assert float(rows[-1]["reward/constant"]) == pytest.approx(2.5)
    # episodes of 24 steps complete within 32 steps per env: a finite mean return is logged
    assert np.isfinite(float(rows[-1]["mean_return"]))
    assert 1 <= float(rows[-1]["mean_episode_length"]) <= 24
    assert result.env_steps == 512 and result.components["constant"] == pytest.approx(2.5)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = list((out / "tb").glob("events.out.tfevents.*"))
    assert events, "no TensorBoard event file under tb/"
    acc = EventAccumulator(str(out / "tb"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    for tag in ["episode/return", "episode/length"] + [f"reward/{c}" for c in COMPONENTS]:
        assert tag in tags, tag
    # rl-games' own outputs stay under out_dir
    assert (out / "rl_games" / "run" / "nn").is_dir()


def test_training_is_deterministic_for_a_seed(ant_run, reward_file, tmp_path):
    result, out = ant_run
    again = train_policy(reward_file, "ant", tiny_cfg(), tmp_path)
    a = torch.load(result.policy_path, weights_only=False)["model"]
    b = torch.load(again.policy_path, weights_only=False)["model"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    cols = ["mean_step_reward", "reward/forward_velocity"]
    assert [[r[c] for c in cols] for r in read_log(out / "train_log.csv")] == \
           [[r[c] for c in cols] for r in read_log(tmp_path / "train_log.csv")]


def test_warm_start_loads_checkpoint(ant_run, reward_file, tmp_path):
    result, _ = ant_run
    init = torch.load(result.policy_path, weights_only=False)["model"]
    # a vanishing constant learning rate: the trained weights must stay those of the checkpoint
    cfg = tiny_cfg(total_env_steps=256, learning_rate=1e-12, lr_schedule="constant", seed=11)
    warm = train_policy(reward_file, "ant", cfg, tmp_path / "warm", init_checkpoint=result.policy_path)
    cold = train_policy(reward_file, "ant", cfg, tmp_path / "cold")
    w = torch.load(warm.policy_path, weights_only=False)
    c = torch.load(cold.policy_path, weights_only=False)["model"]
    assert w["vidreward"]["warm_started_from"] == str(result.policy_path)
    assert warm.warm_started_from == str(result.policy_path)
    net = [k for k in init if k.startswith("a2c_network.")]
    assert net
    for k in net:
        assert torch.allclose(w["model"][k], init[k], atol=1e-6), k
    assert any(not torch.allclose(c[k], init[k], atol=1e-3) for k in net)


def test_warm_start_rejects_other_robot(ant_run, reward_file, tmp_path):
    result, _ = ant_run
    with pytest.raises(ConfigError, match=r"policy\.pth.*'ant'"):
        train_policy(reward_file, "humanoid", tiny_cfg(), tmp_path, init_checkpoint=result.policy_path)
    with pytest.raises(ConfigError, match="nope.pth"):
        train_policy(reward_file, "ant", tiny_cfg(), tmp_path, init_checkpoint=tmp_path / "nope.pth")


def test_reward_with_unknown_field_fails_naming_the_file(tmp_path):
    bad = tmp_path / "bad_reward.py"
    bad.write_text("import torch\n\ndef compute_reward(root_linvel, foot_slip_speed):\n"
                   "    r = root_linvel[:, 0]\n    return r, {'fwd': r}\n")
    with pytest.raises(RewardCodeError) as info:
        train_policy(bad, "ant", tiny_cfg(), tmp_path / "out")
    assert str(bad) in str(info.value) and "foot_slip_speed" in str(info.value)
    assert not (tmp_path / "out" / "policy.pth").exists()


def test_reward_with_wrong_output_fails_naming_the_file(tmp_path):
    bad = tmp_path / "scalar_reward.py"
    bad.write_text("import torch\n\ndef compute_reward(root_linvel):\n"
                   "    r = root_linvel[:, 0].sum()\n    return r, {'fwd': r}\n")
    with pytest.raises(RewardCodeError, match="scalar_reward.py.*shape"):
        train_policy(bad, "ant", tiny_cfg(), tmp_path / "out")


def _forge_validation_record(reward: Path) -> None:
    """A validation record that matches the file: the checks at validation are bypassed."""
    from vidreward.reward.loader import reward_digest, validation_record_path

    validation_record_path(reward).write_text(json.dumps({"sha256": reward_digest(reward.read_text())}))


def test_nan_that_appears_only_during_training_stops_it_naming_the_term(tmp_path):
    reward = tmp_path / "reward.py"
    reward.write_text(
        "import torch\n\ndef compute_reward(up_proj, episode_time):\n"
        "    late = torch.where(episode_time > 0.3, up_proj * float('nan'), up_proj)\n"
        "    fine = 0.5 * up_proj\n"
        "    return late + fine, {'late': late, 'fine': fine}\n")
    _forge_validation_record(reward)
    with pytest.raises(RewardCodeError) as info:
        train_policy(reward, "ant", tiny_cfg(), tmp_path / "out")
    msg = str(info.value)
    assert info.value.check == "finite" and str(reward) in msg
    assert "non-finite term(s): late" in msg and "after 6 training steps" in msg  # t = 0.35 s on the 7th
    assert not (tmp_path / "out" / "policy.pth").exists()


def test_hand_edited_reward_is_validated_again_before_training_and_rollout(ant_run, tmp_path):
    from vidreward.reward.validate import validate_reward_code

    result, _ = ant_run
    reward = tmp_path / "reward.py"
    reward.write_text(REWARD_CODE)
    report = validate_reward_code(REWARD_CODE, "ant", origin=str(reward))
    (tmp_path / "reward_validation.json").write_text(json.dumps(report.to_dict()))
    canary = tmp_path / "pwned"
    reward.write_text(f"import os\nos.system('touch {canary}')\n" + REWARD_CODE)
    for run in (lambda: train_policy(reward, "ant", tiny_cfg(), tmp_path / "out"),
                lambda: rollout_policy(result.policy_path, reward, "ant", tmp_path / "r", steps=5, seed=0)):
        with pytest.raises(RewardCodeError) as info:
            run()
        assert "changed since it was validated" in str(info.value)
        assert "'import os' is not allowed" in str(info.value) and info.value.check == "allowlist"
    assert not canary.exists() and not (tmp_path / "out" / "policy.pth").exists()
    # an edit that still validates is accepted (validated again, not trusted from the record)
    reward.write_text(REWARD_CODE.replace("2.5", "1.5"))
    rollout_policy(result.policy_path, reward, "ant", tmp_path / "r", steps=5, seed=0)
    assert (tmp_path / "r" / "trajectory.npz").is_file()


# ----------------------------------------------------------------------------- rollout
def check_rollout(policy, reward_file, robot, out: Path, steps: int) -> dict:
    import imageio

    from vidreward.sim import get_robot

    spec = get_robot(robot)
    stats = rollout_policy(policy, reward_file, robot, out, steps=steps, seed=5, render_size=64)
    data = np.load(out / "trajectory.npz")
    assert set(data.files) == CONTRACT_KEYS | {f"reward_{c}" for c in COMPONENTS}
    T = stats["steps"]
    assert 1 <= T <= steps
    D, A, F = spec.num_dofs, spec.action_dim, spec.num_feet
    shapes = {"t": (T,), "root_pos": (T, 3), "root_quat": (T, 4), "root_linvel": (T, 3),
              "root_angvel": (T, 3), "dof_pos": (T, D), "dof_vel": (T, D), "actions": (T, A),
              "foot_contact_forces": (T, F)}
    for key, shape in shapes.items():
        assert data[key].shape == shape, key
    for c in COMPONENTS:
        assert data[f"reward_{c}"].shape == (T,)
    assert str(data["robot"]) == robot and float(data["dt"]) == pytest.approx(spec.dt)
    assert np.allclose(np.diff(data["t"]), spec.dt)
    assert np.all(np.abs(data["actions"]) <= 1.0 + 1e-6)
    assert stats["video_fps"] == pytest.approx(1.0 / spec.dt)
    total = sum(data[f"reward_{c}"].astype(np.float64).sum() for c in COMPONENTS)
    assert stats["total_reward"] == pytest.approx(total, rel=1e-4, abs=1e-3)
    reader = imageio.get_reader(str(out / "rollout.mp4"))
    try:
        assert sum(1 for _ in reader) == T
    finally:
        reader.close()
    return stats


def test_rollout_writes_contract_trajectory_and_video(ant_run, reward_file, tmp_path):
    result, _ = ant_run
    stats = check_rollout(result.policy_path, reward_file, "ant", tmp_path / "r1", steps=30)
    # deterministic: the same policy and seed give the same trajectory
    rollout_policy(result.policy_path, reward_file, "ant", tmp_path / "r2", steps=stats["steps"],
                   seed=5, render_size=64)
    a, b = np.load(tmp_path / "r1" / "trajectory.npz"), np.load(tmp_path / "r2" / "trajectory.npz")
    for key in ("root_pos", "actions", "dof_pos"):
        assert np.array_equal(a[key], b[key]), key


def test_the_policy_observes_the_gait_clock_of_its_reward_in_training_and_rollout(tmp_path, monkeypatch):
    """The clock runs at the reward's gait_schedule frequency while the policy trains; the
    checkpoint records it and the rollout replays the policy with the same clock."""
    import vidreward.sim as sim_module
    from vidreward.reward.terms import clock_frequency, render_reward_code
    from vidreward.reward.validate import static_checks

    terms = {"gait_schedule": {"scale": 1.0, "frequency": 1.25, "duty": 0.6}, "alive": {}}
    reward = tmp_path / "reward.py"
    reward.write_text(render_reward_code(terms))
    assert clock_frequency(reward.read_text()) == 1.25
    assert clock_frequency(REWARD_CODE) == 0.0  # no TERMS: the clock stands still
    with pytest.raises(RewardCodeError, match="hand.py: gait_schedule.frequency must be >= 0"):
        clock_frequency(render_reward_code(terms).replace("1.25", "-2.0"), "hand.py")
    both = {**terms, "bounce_clock": {"frequency": 1.25}}
    assert clock_frequency(render_reward_code(both)) == 1.25  # the clocked terms share the clock
    both["bounce_clock"]["frequency"] = 2.0
    with pytest.raises(RewardCodeError, match="two.py: the clocked terms disagree .*bounce_clock.frequency = 2 Hz"):
        clock_frequency(render_reward_code(both), "two.py")
    with pytest.raises(RewardCodeError, match="two.py: the clocked terms disagree"):  # validation refuses it too
        static_checks(render_reward_code(both), "two.py")
    made = []
    real = sim_module.make_sim

    def spy(*args, **kwargs):
        made.append(kwargs.get("clock_hz"))
        return real(*args, **kwargs)

    monkeypatch.setattr(sim_module, "make_sim", spy)
    result = train_policy(reward, "ant", tiny_cfg(), tmp_path / "train")
    ckpt = torch.load(result.policy_path, map_location="cpu", weights_only=False)
    assert ckpt["vidreward"]["clock_hz"] == 1.25
    made.clear()
    rollout_policy(result.policy_path, reward, "ant", tmp_path / "rollout", steps=5, seed=0, render_size=32)
    assert made == [1.25]


def test_rollout_rejects_missing_policy_and_robot_mismatch(ant_run, reward_file, tmp_path):
    result, _ = ant_run
    with pytest.raises(ConfigError, match="missing.pth"):
        rollout_policy(tmp_path / "missing.pth", reward_file, "ant", tmp_path, steps=5, seed=0)
    with pytest.raises(ConfigError, match="trained for robot 'ant'"):
        rollout_policy(result.policy_path, reward_file, "anymal", tmp_path, steps=5, seed=0)


@pytest.mark.parametrize("robot", list(ROBOTS))
def test_each_robot_trains_and_rolls_out(robot, reward_file, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # rl-games must not write ./runs or ./nn in the cwd
    cfg = tiny_cfg(num_envs=8, horizon=16, minibatch_size=64, total_env_steps=256,
                   progress=True, progress_interval_s=0.0)
    result = train_policy(reward_file, robot, cfg, tmp_path / "train")
    rows = read_log(result.train_log)
    assert len(rows) == 2 and f"reward/{COMPONENTS[0]}" in rows[0]
    check_rollout(result.policy_path, reward_file, robot, tmp_path / "rollout", steps=12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rollout", "train"]
    err = capsys.readouterr().err
    progress = [line for line in err.splitlines() if line.startswith(f"[train {robot}]")]
    assert len(progress) == 2 and "epoch 2/2" in progress[-1]
    assert all("steps/s" in line and "ETA" in line and "return" in line for line in progress)


def test_rollout_and_update_use_their_own_thread_counts():
    """Experience is collected with ``torch_threads`` and the PPO update runs with ``update_threads``."""
    from vidreward.train.ppo import _split_threads

    class FakeAgent:
        def __init__(self):
            self.seen = []

        def play_steps(self):
            self.seen.append(("rollout", torch.get_num_threads()))
            return "batch"

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        agent = FakeAgent()
        _split_threads(agent, update_threads=2)
        assert agent.play_steps() == "batch"
        assert torch.get_num_threads() == 2  # the update that follows
        assert agent.play_steps() == "batch"
        assert agent.seen == [("rollout", 1), ("rollout", 1)]
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------- declared paths
def test_train_and_rollout_write_exactly_the_paths_given(reward_file, ant_run, tmp_path):
    """Training and rollout write the outputs a rule declares, wherever those are."""
    out = train_policy(reward_file, "ant", tiny_cfg(total_env_steps=256), policy_out=tmp_path / "a" / "p.pth",
                       train_log_out=tmp_path / "b" / "log.csv", tb_out=tmp_path / "c" / "events",
                       threads=1)
    assert out.policy_path == tmp_path / "a" / "p.pth" and out.policy_path.is_file()
    assert (tmp_path / "b" / "log.csv").is_file() and (tmp_path / "c" / "events").is_dir()
    assert not (tmp_path / "a" / "train_log.csv").exists() and not (tmp_path / "a" / "tb").exists()
    video, traj = tmp_path / "v" / "film.mp4", tmp_path / "t" / "traj.npz"
    stats = rollout_policy(ant_run[0].policy_path, reward_file, "ant", steps=6, seed=0, render_size=32,
                           video_out=video, trajectory_out=traj)
    assert stats["video"] == str(video) and stats["trajectory"] == str(traj)
    assert video.is_file() and traj.is_file() and not (video.parent / "trajectory.npz").exists()


# ----------------------------------------------------------------------------- critic.evidence
FEEDBACK = """## Problems
1. The robot shuffles instead of jumping.

## Rewrite component
None

## Remove component
None

## New component
- jump_height: reward leaving the ground
"""


def _scored_selection(settings, tmp_path, expert, video, traj, reward_file, train_log):
    """Score one candidate as the workflow does (its measured critique in its directory) and write
    the selection record that names it the winner."""
    from vidreward.layout import IterationPaths
    from vidreward.search import selection as sel
    from vidreward.search.stages import score_stage

    cand = tmp_path / "cand_0"
    score = score_stage(settings, 0, str(expert), str(video), str(traj), str(reward_file), str(train_log),
                        str(cand / "score.json"), str(IterationPaths.in_dir(cand, "critique")),
                        str(IterationPaths.in_dir(cand, "critique_md")),
                        str(IterationPaths.in_dir(cand, "critic_dir")))
    record = sel.select(settings.search, 0, [{"candidate": 0, "label": "as written", "digest": "d0",
                                              "dir": str(cand), "score": score}], None)
    sel.write_record(tmp_path / "selection.json", record)
    return tmp_path / "selection.json"


@pytest.mark.parametrize("evidence", ["none", "measured"])
def test_critic_evidence_option_decides_what_reaches_the_rewriter(evidence, ant_run, reward_file, tmp_path):
    """With ``critic.evidence: none`` a human (or model) critique, and so the rewriter's prompt,
    holds no measured number; with ``measured`` it holds the analytic measurement; provenance
    records the choice."""
    from vidreward.config import ClipConfig, CriticConfig, RunSettings
    from vidreward.provenance import write_provenance
    from vidreward.rewriter.openai_rewriter import critique_text
    from vidreward.stages import critique_stage

    result, _ = ant_run
    video, traj = tmp_path / "rollout.mp4", tmp_path / "trajectory.npz"
    rollout_policy(result.policy_path, reward_file, "ant", steps=30, seed=0, render_size=64,
                   video_out=video, trajectory_out=traj)
    feedback = tmp_path / "feedback.md"
    feedback.write_text(FEEDBACK)
    settings = RunSettings(name="r", clip="c", robot="ant", task="Jump forward.", iterations=1,
                           train=tiny_cfg(), critic=CriticConfig(backend="human", evidence=evidence))
    expert = Path(__file__).resolve().parents[1] / "data" / "shipped" / "cmu_01_01_forward_jumps.mp4"
    selection = _scored_selection(settings, tmp_path, expert, video, traj, reward_file, result.train_log)
    critique = critique_stage(settings, str(feedback), str(expert), str(video), str(traj),
                              str(reward_file), str(result.train_log), str(selection),
                              str(tmp_path / "critique.json"), str(tmp_path / "critique.md"),
                              str(tmp_path / "critic"))
    prompt = critique_text(critique)
    markdown = (tmp_path / "critique.md").read_text()
    assert "shuffles" in prompt
    if evidence == "none":
        assert critique.gap is None and not critique.descriptors and not critique.crosscheck
        for text in (prompt, markdown):
            assert "Measured gap" not in text and "Motion descriptors" not in text
            assert "Cross-check" not in text and not any(ch.isdigit() for ch in text.replace("1.", ""))
    else:
        assert critique.gap is not None and critique.descriptors["expert"]
        assert f"{critique.gap:.3f}" in prompt and "Motion descriptors" in markdown
    clip = ClipConfig(name="c", source={"shipped": expert.name}, start=0.0, end=1.0)
    record = write_provenance(tmp_path / "provenance.json", {}, settings, clip, 0, tmp_path)
    assert record["critic_evidence"] == evidence
    assert record["settings"]["critic"]["evidence"] == evidence
