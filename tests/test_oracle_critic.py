"""Oracle critic (vidreward.critic.oracle): expert from a truth file, robot from its trajectory;
its registration (vidreward.backends) and its config (clips.<clip>.truth)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from vidreward.backends import CRITIC_BACKENDS, make_critic
from vidreward.config import ClipConfig, CriticConfig, load_config, validate_config
from vidreward.critic.base import Critique, CritiqueInput
from vidreward.critic.motion import descriptors_from_trajectory, robot_dims
from vidreward.critic.oracle import TRUTH_FIELDS, OracleCritic, read_truth
from vidreward.errors import ConfigError, CritiqueError
from vidreward.imitation import imitation_score

ROOT = Path(__file__).resolve().parents[1]
CLIP = "quad_trot_fixed_cluttered"


@pytest.fixture(scope="module")
def suite_clip(tmp_path_factory) -> tuple[Path, Path]:
    """A real suite clip and its truth file, written small by the suite's own renderer."""
    from vidreward.perception import suite

    out = tmp_path_factory.mktemp("suite")
    suite.write_clip(CLIP, out, size=(64, 48), fps=30.0, seconds=2.0)
    return out / f"{CLIP}.mp4", out / f"{CLIP}.truth.json"


@pytest.fixture(scope="module")
def ant_trajectory(tmp_path_factory) -> Path:
    """A short real Ant trajectory (trajectory contract) from the simulator, rhythmic actions."""
    import torch

    from vidreward.sim import make_sim
    from vidreward.train.rollout import TRAJECTORY_FIELDS

    sim = make_sim("ant", 1, seed=0)
    try:
        sim.reset(0)
        records: dict[str, list] = {k: [] for k in TRAJECTORY_FIELDS}
        steps = 120
        for i in range(steps):
            phase = 2 * np.pi * 2.0 * i * sim.robot.dt
            action = torch.full((1, sim.robot.action_dim), 0.8 * float(np.sin(phase)))
            state = sim.step(action).state
            for k in TRAJECTORY_FIELDS:
                records[k].append(np.asarray(state[k][0].detach().cpu().numpy(), np.float32))
        dt = float(sim.robot.dt)
    finally:
        sim.close()
    path = tmp_path_factory.mktemp("rollout") / "trajectory.npz"
    np.savez(path, dt=dt, robot="ant", t=np.arange(1, steps + 1) * dt,
             **{k: np.stack(v) for k, v in records.items()})
    return path


def _input(tmp_path: Path, clip: Path, traj: Path, code: str = "") -> CritiqueInput:
    return CritiqueInput(expert_clip=clip, rollout_video=tmp_path / "rollout.mp4", trajectory=traj,
                         reward_code=code, train_log=None, out_dir=tmp_path / "critic", robot="ant")


def test_oracle_critique_from_suite_truth_and_real_trajectory(tmp_path, suite_clip, ant_trajectory):
    clip, truth_path = suite_clip
    truth = json.loads(truth_path.read_text())["truth"]
    crit = OracleCritic(truth_path).critique(_input(tmp_path, clip, ant_trajectory))
    assert crit.backend == "oracle"
    # the expert's descriptors are exactly the truth's
    expected = {k: float(truth[f]) for k, f in TRUTH_FIELDS.items()}
    assert crit.descriptors["expert"] == expected
    assert crit.descriptors["truth"] == expected
    # the robot's are the trajectory's, no video (there is no rollout.mp4 at all), its flight by
    # the truth's clearance
    clearance = json.loads(truth_path.read_text())["airborne_clearance_bl"]
    robot = descriptors_from_trajectory(ant_trajectory, *robot_dims("ant"), clearance)
    assert crit.descriptors["robot"] == robot
    assert "robot_video" not in crit.descriptors and not crit.crosscheck
    assert not (tmp_path / "rollout.mp4").exists() and not (tmp_path / "critic" / "storyboard").exists()
    # the score travels with the critique
    score = crit.descriptors["imitation"]["score"]
    assert score == pytest.approx(imitation_score(expected, robot)) and 0.0 < score < 1.0
    assert crit.gap is not None and crit.gap > 0
    # four-part items the analytic rewriter can act on (this rollout does not trot like the clip)
    assert crit.problems and (crit.rewrite or crit.new)
    assert any(item.params for section in ("rewrite", "new") for item in getattr(crit, section))
    # the markdown says first that this is an oracle reading a truth file, not the video
    md = crit.to_markdown()
    opening = md.split("\n\n")[1]
    assert md.startswith("# Critique (oracle)")
    assert "Oracle critic" in opening and str(truth_path) in opening
    assert "not measured from the video" in opening
    assert f"Imitation score {score:.3f}" in opening
    assert crit.raw_text == md


def test_analytic_rewriter_acts_on_the_oracle_items(tmp_path, suite_clip, ant_trajectory):
    from vidreward.rewriter.analytic import AnalyticRewriter
    from vidreward.rewriter.base import TaskSpec

    clip, truth_path = suite_clip
    task = TaskSpec(robot="ant", description="Trot forward like the quadruped in the clip.")
    rewriter = AnalyticRewriter()
    code = rewriter.initial(task)
    crit = OracleCritic(truth_path).critique(_input(tmp_path, clip, ant_trajectory, code))
    new = rewriter.rewrite(task, code, crit)
    assert new != code
    target = next(i.params["target_speed"] for s in ("rewrite", "new") for i in getattr(crit, s)
                  if i.component == "forward_velocity")
    assert repr(target) in new or f"{target}" in new


def test_oracle_critique_saves_and_reloads(tmp_path, suite_clip, ant_trajectory):
    clip, truth_path = suite_clip
    crit = OracleCritic(truth_path).critique(_input(tmp_path, clip, ant_trajectory))
    crit.save(tmp_path / "critique.json", tmp_path / "critique.md")
    assert "Oracle critic" in (tmp_path / "critique.md").read_text().split("\n\n")[1]
    back = Critique.load(tmp_path / "critique.json")
    assert back.backend == "oracle" and back.descriptors == crit.descriptors
    assert back.problems == crit.problems and back.rewrite == crit.rewrite
    # old critique JSON (no imitation entry) still loads
    old = crit.to_dict()
    del old["descriptors"]["imitation"]
    assert Critique.from_dict(old).descriptors.get("imitation") is None


def test_oracle_matches_itself_when_truth_is_the_robot(tmp_path, ant_trajectory):
    robot = descriptors_from_trajectory(ant_trajectory, *robot_dims("ant"))
    truth_path = tmp_path / "self.truth.json"
    truth_path.write_text(json.dumps({"truth": {f: robot[k] for k, f in TRUTH_FIELDS.items()}}))
    crit = OracleCritic(truth_path).critique(_input(tmp_path, tmp_path / "clip.mp4", ant_trajectory))
    assert crit.descriptors["imitation"]["score"] == pytest.approx(1.0)
    assert crit.gap == pytest.approx(0.0, abs=1e-12)
    assert not crit.problems and "no change needed" in crit.to_markdown()


def test_descriptors_the_truth_lacks_are_not_compared(tmp_path, ant_trajectory):
    """Real footage truth (hand-marked) gives only speed and airborne fraction."""
    truth_path = ROOT / "data" / "motion" / "real" / "vtest_walk_left.truth.json"
    truth = read_truth(truth_path)
    assert set(truth.known) == {"speed", "airborne_fraction"}
    assert set(truth.unknown) == {"bounce_amplitude", "bounce_frequency", "height_ratio"}
    crit = OracleCritic(truth_path).critique(_input(tmp_path, tmp_path / "clip.mp4", ant_trajectory))
    robot = crit.descriptors["robot"]
    for key in truth.unknown:  # the robot's own value stands in: no difference, no item
        assert crit.descriptors["expert"][key] == robot[key]
    assert set(crit.descriptors["imitation"]) == {"score", "speed", "airborne_fraction"}
    assert "height ratio is not compared" in crit.to_markdown()


@pytest.mark.parametrize("clip", ["quad_hop_fixed_checkered", "quad_pronk_tracking_cluttered",
                                  "quad_walk_fixed_plain"])
def test_robot_flight_rule_reads_the_suites_own_motion_as_its_truth(tmp_path, clip):
    """The oracle measures a robot's flight by the truth file's own rule: applied to the suite's
    exact feet (the lowest foot point of each frame), it gives the truth's airborne fraction. The
    video rule's clearance (0.05 body lengths) misses a fifth of the hop's flight frames."""
    from vidreward.critic.motion import AIRBORNE_CLEARANCE, airborne_of_lowest
    from vidreward.perception import suite

    suite.write_clip(clip, tmp_path, size=(64, 48), fps=30.0, seconds=3.0)
    doc = json.loads((tmp_path / f"{clip}.truth.json").read_text())
    truth = read_truth(tmp_path / f"{clip}.truth.json")
    assert truth.airborne_clearance == pytest.approx(0.02 / doc["body_length_m"], abs=1e-4)
    with np.load(tmp_path / f"{clip}.truth.npz") as arrays:
        lowest = arrays["foot_heights"].min(axis=1)
    bl = doc["body_length_m"]
    measured = airborne_of_lowest(lowest, truth.airborne_clearance * bl)
    assert measured == pytest.approx(doc["truth"]["airborne_fraction"], abs=0.012)
    if doc["truth"]["airborne_fraction"] > 0.3:  # a hop or a pronk
        assert airborne_of_lowest(lowest, AIRBORNE_CLEARANCE * bl) < measured - 0.05


def test_oracle_measures_flight_by_the_truths_clearance(tmp_path, ant_trajectory):
    """The same rollout, lifted 0.04 m (0.027 Ant body lengths) for its last third: airborne for
    a truth whose rule clears 0.0207 body lengths, not for one without a rule (the video's 0.05)."""
    from vidreward.critic.motion import AIRBORNE_CLEARANCE

    with np.load(ant_trajectory) as data:
        arrays = {k: data[k] for k in data.files}
    n = len(arrays["t"])
    arrays["root_pos"] = arrays["root_pos"].copy()
    arrays["root_pos"][2 * n // 3:, 2] += 0.04
    lifted = tmp_path / "lifted.npz"
    np.savez(lifted, **arrays)
    base = {"speed_bl_s": 0.0, "airborne_fraction": 0.33}
    with_rule, without = tmp_path / "rule.truth.json", tmp_path / "plain.truth.json"
    with_rule.write_text(json.dumps({"airborne_clearance_bl": 0.0207, "truth": base}))
    without.write_text(json.dumps({"truth": base}))
    assert read_truth(without).airborne_clearance == AIRBORNE_CLEARANCE
    plain = descriptors_from_trajectory(ant_trajectory, *robot_dims("ant"))["airborne_fraction"]
    crits = {name: OracleCritic(path).critique(_input(tmp_path / name, tmp_path / "clip.mp4", lifted))
             for name, path in (("rule", with_rule), ("plain", without))}
    air = {name: c.descriptors["robot"]["airborne_fraction"] for name, c in crits.items()}
    assert air["rule"] >= plain + 0.25  # the lifted third (less what already flew)
    assert air["plain"] <= plain + 0.02
    assert "clears its ground by more than 0.0207 body lengths" in crits["rule"].to_markdown()
    assert f"by more than {AIRBORNE_CLEARANCE:g} body lengths" in crits["plain"].to_markdown()


@pytest.mark.parametrize("content, message", [
    (None, "truth file not found"),
    ('{"airborne_clearance_bl": -1, "truth": {"speed_bl_s": 0.5}}', "airborne_clearance_bl must be a positive number"),
    ("{not json", "cannot read truth file"),
    ('{"name": "x"}', "no 'truth' object"),
    ('{"truth": {"airborne_fraction": 0.0}}', "truth.speed_bl_s is missing"),
    ('{"truth": {"speed_bl_s": null}}', "truth.speed_bl_s is missing"),
    ('{"truth": {"speed_bl_s": 0.5, "height_ratio": "tall"}}', "truth.height_ratio must be a finite number"),
])
def test_truth_file_errors_name_the_file_and_field(tmp_path, content, message):
    path = tmp_path / "clip.truth.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CritiqueError) as info:
        OracleCritic(path)
    assert message in str(info.value) and str(path) in str(info.value)


# ------------------------------------------------------------------------ registration, config


def test_registered_and_built_by_make_critic(tmp_path, suite_clip):
    assert "oracle" in CRITIC_BACKENDS
    cfg = CriticConfig(backend="oracle")
    critic = make_critic(cfg, tmp_path / "feedback.md", truth_path=suite_clip[1])
    assert isinstance(critic, OracleCritic) and critic.name == "oracle"
    with pytest.raises(ConfigError, match="clips.<clip>.truth"):
        make_critic(cfg, tmp_path / "feedback.md")
    assert make_critic(CriticConfig(), tmp_path / "feedback.md").name == "analytic"  # never a default


def _config(**clip_extra) -> dict:
    return {
        "clips": {"c": {"source": {"file": "data/motion_suite/x.mp4"}, "start": 0, "end": 2, **clip_extra}},
        "runs": {"r": {"clip": "c", "robot": "ant", "task": "Walk.", "iterations": 1,
                       "critic": {"backend": "oracle"}}},
    }


def test_config_clip_truth_validates_and_reaches_clip_config():
    config = validate_config(_config(truth="data/motion_suite/x.truth.json"))
    clip = ClipConfig.from_config(config, "c")
    assert clip.truth == "data/motion_suite/x.truth.json"
    assert clip.to_dict()["truth"] == "data/motion_suite/x.truth.json"
    # a clip without truth records no truth key (provenance and sidecars unchanged)
    plain = _config()
    plain["runs"]["r"]["critic"] = {"backend": "analytic"}
    assert "truth" not in ClipConfig.from_config(validate_config(plain), "c").to_dict()


def test_config_unknown_clip_key_fails():
    with pytest.raises(ConfigError, match="truht"):
        validate_config(_config(truht="x.truth.json"))


def test_config_oracle_without_truth_names_run_and_clip():
    with pytest.raises(ConfigError) as info:
        validate_config(_config())
    text = str(info.value)
    assert "runs.r.critic.backend" in text and "clips.c.truth" in text


def test_oracle_suite_config():
    config = load_config(ROOT / "config" / "oracle_suite.yaml")
    runs = config["runs"]
    assert runs and all(r["critic"]["backend"] == "oracle" and r["robot"] == "ant" and r["iterations"] == 5
                        for r in runs.values())
    clips = {config["runs"][r]["clip"] for r in runs}
    assert all(config["clips"][c]["truth"].endswith(".truth.json") for c in clips)
    from vidreward.perception.suite import SPECS

    assert {c for c in clips} == {s.name for s in SPECS if s.subject == "quadruped"}
    base = copy.deepcopy(config)
    assert validate_config(base)


def test_oracle_suite_search_overlay_merges_into_the_suite():
    """config/oracle_suite_search.yaml, given after the suite's config file, turns every suite run
    into a 4-candidate search selected on the imitation score, leaving the rest of each run."""
    import yaml
    from snakemake.utils import update_config

    from vidreward.config import RunSettings

    suite = yaml.safe_load((ROOT / "config" / "oracle_suite.yaml").read_text())
    merged = copy.deepcopy(suite)
    update_config(merged, yaml.safe_load((ROOT / "config" / "oracle_suite_search.yaml").read_text()))
    validate_config(merged)
    validate_config(suite)  # the same defaults filled in on both sides
    assert set(merged["runs"]) == set(suite["runs"])
    for name, run in merged["runs"].items():
        settings = RunSettings.from_config(merged, name)
        assert (settings.search.candidates, settings.search.selection) == (4, "imitation")
        assert settings.search.halving.survivors(4) == 1
        assert ({k: v for k, v in run.items() if k != "search"}
                == {k: v for k, v in suite["runs"][name].items() if k != "search"})


def test_oracle_takes_the_median_over_further_episodes(tmp_path, suite_clip, ant_trajectory):
    """search.episodes: the same rollout twice more, drifting forward at 1.0 and 0.5 m/s more; the
    robot's speed is the median rollout's (+0.5 m/s), the other descriptors the unchanged ones, and
    the gap and imitation score follow the median, not the first rollout."""
    import dataclasses

    from vidreward.critic.motion import gap

    data = dict(np.load(ant_trajectory))
    more = []
    for drift in (1.0, 0.5):
        pos = data["root_pos"].copy()
        pos[:, 0] += (drift * data["t"]).astype(np.float32)
        moved = dict(data, root_pos=pos)
        path = tmp_path / f"trajectory_{drift:g}.npz"
        np.savez(path, **moved)
        more.append((tmp_path / "unused.mp4", path))
    clip, truth = suite_clip
    oracle = OracleCritic(truth)
    single = oracle.critique(_input(tmp_path, clip, ant_trajectory))
    inp = dataclasses.replace(_input(tmp_path, clip, ant_trajectory), episodes=tuple(more))
    crit = oracle.critique(inp)
    first = descriptors_from_trajectory(ant_trajectory, *robot_dims("ant"), oracle.truth.airborne_clearance)
    bl = robot_dims("ant")[0]
    robot = crit.descriptors["robot"]
    assert robot["speed"] == pytest.approx(first["speed"] + 0.5 / bl, abs=1e-4)
    for key in ("bounce_amplitude", "bounce_frequency", "airborne_fraction", "height_ratio"):
        assert robot[key] == pytest.approx(first[key])
    assert crit.gap == pytest.approx(gap(crit.descriptors["expert"], robot))
    assert crit.gap != pytest.approx(single.gap)
    assert oracle.imitation(inp) == pytest.approx(crit.descriptors["imitation"]["score"])
    assert oracle.imitation(inp) != pytest.approx(oracle.imitation(_input(tmp_path, clip, ant_trajectory)))
    assert "2 more rollouts" in crit.to_markdown()
