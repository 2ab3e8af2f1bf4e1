"""Reward-term library, environment context and the analytic rewriter."""

from __future__ import annotations

import pytest
import torch

from vidreward.critic.base import Critique, Item
from vidreward.errors import ConfigError, RewardCodeError
from vidreward.reward.env_context import environment_context
from vidreward.reward.loader import load_reward_source
from vidreward.reward.sample_state import sample_state
from vidreward.reward.terms import TERM_LIBRARY, read_terms, render_reward_code
from vidreward.reward.validate import static_checks, validate_reward_code
from vidreward.rewriter import AnalyticRewriter
from vidreward.rewriter.base import TaskSpec
from vidreward.sim.fields import STATE_FIELDS
from vidreward.sim.robots import get_robot

ROBOTS = ["ant", "humanoid", "anymal"]
VOCABULARY = {
    "forward_velocity": {"scale", "target_speed", "sigma", "max_speed"},
    "vertical_bounce": {"scale", "amplitude", "frequency", "sigma"},
    "airborne": {"scale", "target_fraction", "contact_threshold"},
    "ground_contact": {"scale", "contact_threshold"},
    "height": {"scale", "target_height", "sigma"},
    "upright": {"scale"},
    "alive": {"scale"},
    "action_cost": {"scale"},
    "lateral_drift": {"scale"},
    "takeoff": {"scale", "target_vz", "contact_threshold"},
    "flight": {"scale", "flight_time", "contact_threshold"},
    "gait_schedule": {"scale", "frequency", "duty", "contact_threshold"},
    "bounce_clock": {"scale", "amplitude", "frequency", "sigma_v", "sigma_z"},
    "heading_velocity": {"scale", "heading", "target_speed", "sigma"},
    "lateral_velocity": {"scale", "heading", "target_speed", "sigma"},
    "yaw_rate": {"scale", "target_rate", "sigma"},
    "posture": {"scale", "target_pitch", "target_roll", "sigma"},
}


def _critique() -> Critique:
    return Critique(
        problems=[Item("The robot walks at 0.3 m/s; the expert at 1.2 m/s.", "forward_velocity")],
        rewrite=[Item("Track 1.2 m/s.", "forward_velocity", {"target_speed": 1.2})],
        new=[Item("Bounce like the expert.", "vertical_bounce", {"amplitude": 0.08, "frequency": 2.5})],
        remove=[Item("The alive bonus pays for standing still.", "alive", {})],
        backend="analytic",
        gap=0.42,
    )


# ------------------------------------------------------------------ term library


def test_vocabulary_is_the_shared_one():
    assert {k: set(v.defaults) for k, v in TERM_LIBRARY.items()} == VOCABULARY


def test_render_read_round_trip():
    terms = {
        "forward_velocity": {"scale": 2.0, "target_speed": None, "sigma": 0.3},
        "airborne": {"target_fraction": 0.4},
        "height": {"target_height": 0.5, "sigma": 0.05},
        "lateral_drift": {"scale": 0.1},
    }
    code = render_reward_code(terms, header_comment="line one\nline two\u2028evil = 1")
    read = read_terms(code)
    assert list(read) == list(terms)
    assert read["forward_velocity"] == {"scale": 2.0, "target_speed": None, "sigma": 0.3, "max_speed": None}
    assert read["airborne"] == {"scale": 0.2, "target_fraction": 0.4, "contact_threshold": 1.0}
    assert read_terms(render_reward_code(read)) == read
    assert code.startswith("# line one\n# line two\n# evil = 1\n\nTERMS = {")
    assert code.index("TERMS = {") < code.index("import torch")
    assert static_checks(code).params == ["root_pos", "root_linvel", "foot_contact_forces", "standing_height", "body_length"]


def test_read_terms_none_when_absent_or_malformed():
    assert read_terms("import torch\n") is None
    assert read_terms("TERMS = {'a': {'scale': open('x')}}\n") is None
    assert read_terms("TERMS = [1, 2]\n") is None
    assert read_terms("TERMS = {'a': {'scale': 'big'}}\n") is None
    assert read_terms("def broken(:\n") is None


def test_render_rejects_bad_terms():
    with pytest.raises(RewardCodeError, match="unknown reward term 'dance'"):
        render_reward_code({"dance": {}})
    with pytest.raises(RewardCodeError, match="sigma must be > 0"):
        render_reward_code({"height": {"sigma": 0.0}})
    with pytest.raises(RewardCodeError, match="non-empty"):
        render_reward_code({})


def test_every_term_runs_and_reports_its_scaled_component():
    terms = {name: {} for name in TERM_LIBRARY}
    fn = load_reward_source(render_reward_code(terms), origin="all_terms.py")
    state = sample_state("ant", num_envs=6, seed=1)
    reward, components = fn(state)
    assert list(components) == list(TERM_LIBRARY)
    assert reward.shape == (6,)
    assert torch.allclose(reward, torch.stack(list(components.values())).sum(0))
    assert torch.allclose(components["alive"], torch.full((6,), 0.2))
    assert (components["action_cost"] <= 0).all() and (components["lateral_drift"] <= 0).all()
    # airborne: env 1 of the sample batch has no foot contact -> +(1 - 0.3) * 0.2
    assert components["airborne"][1].item() == pytest.approx(0.2 * 0.7)


def test_linear_forward_velocity_pays_no_more_above_max_speed():
    bl = get_robot("ant").body_length
    vx = [-2.0 * bl, 0.3, 0.5, 1.0, 5.0 * bl]
    pays = {}
    for max_speed in (None, 0.5):
        fn = load_reward_source(render_reward_code({"forward_velocity": {
            "scale": 2.0, "target_speed": None, "max_speed": max_speed}}), origin="fv.py")
        state = sample_state("ant", num_envs=5, seed=4)
        state["root_linvel"] = torch.tensor([[v, 0.0, 0.0] for v in vx])
        pays[max_speed] = fn(state)[1]["forward_velocity"].tolist()
    assert pays[None] == pytest.approx([-2.0 * bl, 0.6, 1.0, 2.0, 8.0 * bl], rel=1e-5)
    assert pays[0.5] == pytest.approx([-2.0 * bl, 0.6, 1.0, 1.0, 1.0], rel=1e-5)
    with pytest.raises(RewardCodeError, match="max_speed"):
        render_reward_code({"forward_velocity": {"target_speed": None, "max_speed": 0.0}})


def test_bounce_clock_pays_for_the_clocked_height_and_speed_only():
    import math

    from vidreward.reward.terms import clock_frequency

    terms = {"bounce_clock": {"scale": 1.0, "amplitude": 0.1, "frequency": 2.0, "sigma_v": 0.5,
                              "sigma_z": 0.05}}
    code = render_reward_code(terms)
    validate_reward_code(code, "ant")
    assert clock_frequency(code) == 2.0  # the policy observes this term's clock
    fn = load_reward_source(code, origin="bounce_clock.py")
    state = sample_state("ant", num_envs=4, seed=3)
    h = float(state["standing_height"])
    w = 2.0 * math.pi * 2.0
    # t = 0.125 s is the top of the reference (sin = 1, vz_ref = 0); t = 0 its rising middle
    state["episode_time"] = torch.tensor([0.125, 0.125, 0.0, 0.0])
    state["root_pos"] = torch.tensor([[0.0, 0.0, h + 0.1], [0.0, 0.0, h], [0.0, 0.0, h], [0.0, 0.0, h]])
    state["root_linvel"] = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.1 * w],
                                         [0.0, 0.0, -0.1 * w]])
    _, c = fn(state)
    got = c["bounce_clock"].tolist()
    assert got[0] == pytest.approx(1.0, abs=1e-5)  # on the reference: full pay
    assert got[1] == pytest.approx(0.5 + 0.5 * math.exp(-4.0), abs=1e-5)  # right speed, 0.1 m low
    assert got[2] == pytest.approx(1.0, abs=1e-5)  # rising through standing height on time
    assert got[3] == pytest.approx(0.5 + 0.5 * math.exp(-((2 * 0.1 * w / 0.5) ** 2)), abs=1e-5)  # falling


def test_jump_direction_and_posture_terms_reward_what_they_name():
    import math

    terms = {"takeoff": {"target_vz": 1.0}, "flight": {"flight_time": 0.3},
             "gait_schedule": {"frequency": 0.5, "duty": 0.75},
             "heading_velocity": {"heading": math.pi / 2, "target_speed": 1.0, "sigma": 0.5},
             "lateral_velocity": {"heading": math.pi / 2}, "yaw_rate": {"target_rate": 1.0},
             "posture": {"target_pitch": 0.2}}
    code = render_reward_code(terms)
    validate_reward_code(code, "ant")
    fn = load_reward_source(code, origin="new_terms.py")
    state = sample_state("ant", num_envs=4, seed=2)
    state["root_linvel"] = torch.tensor([[0.0, 1.0, 0.5]] * 4)  # along +y, rising
    state["root_angvel"] = torch.tensor([[0.0, 0.0, 1.0]] * 4)
    state["foot_contact_forces"] = torch.tensor([[20.0] * 4, [20.0, 0, 0, 0], [0.0] * 4, [0.0] * 4])
    apex = 9.81 * 0.09 / 8  # of a 0.3 s flight
    # feet unloaded in rows 2 and 3: row 2's lowest foot at the apex, row 3's at half of it
    state["foot_heights"] = torch.tensor([[0.0] * 4, [0.0, 0.1, 0.1, 0.1], [apex, 0.3, 0.3, 0.3],
                                          [0.3, apex / 2, 0.3, 0.3]])
    state["episode_time"] = torch.tensor([0.2, 0.2, 0.2, 1.8])  # phases 0.1 (stance) and 0.9 (flight)
    half = 0.1  # nose up 0.2 rad: rotation of -0.2 rad about +y
    state["root_quat"] = torch.tensor([[math.cos(half), 0.0, -math.sin(half), 0.0]] * 4)
    _, c = fn(state)
    s = {name: TERM_LIBRARY[name].defaults["scale"] for name in terms}
    # takeoff: half the take-off speed, scaled by the share of loaded feet
    assert c["takeoff"].tolist() == pytest.approx([s["takeoff"] * 0.5, s["takeoff"] * 0.125, 0.0, 0.0])
    # flight: only with every foot off, by the lowest foot's height, full at the apex of a flight_time flight
    assert c["flight"].tolist() == pytest.approx([0.0, 0.0, s["flight"], s["flight"] / 2], rel=1e-4)
    # gait_schedule: feet down in stance pays 0.5 / duty, flight in the flight window 0.5 / (1 - duty)
    g = s["gait_schedule"]
    assert c["gait_schedule"].tolist() == pytest.approx([g * 0.5 / 0.75, g * 0.5 / 0.75, 0.0, g * 2.0])
    assert c["heading_velocity"].tolist() == pytest.approx([s["heading_velocity"]] * 4, rel=1e-5)
    # across a +y heading, +x motion is to its right: v_perp = -vx = 0, the target: full pay
    assert c["lateral_velocity"].tolist() == pytest.approx([s["lateral_velocity"]] * 4, rel=1e-5)
    assert c["yaw_rate"].tolist() == pytest.approx([s["yaw_rate"]] * 4)
    assert c["posture"].tolist() == pytest.approx([s["posture"]] * 4, rel=1e-4)
    state["root_linvel"] = torch.tensor([[1.0, 0.0, 0.0]] * 4)
    state["root_angvel"] = torch.tensor([[0.0, 0.0, -1.0]] * 4)
    _, c = fn(state)
    # 1 m/s to the heading's right, 4 sigma off the straight target: next to nothing
    assert c["lateral_velocity"].tolist() == pytest.approx([s["lateral_velocity"] * math.exp(-16.0)] * 4)
    assert (c["heading_velocity"] < 0.02 * s["heading_velocity"]).all() and (c["yaw_rate"] < 0.01).all()


# ------------------------------------------------------------------ environment context


@pytest.mark.parametrize("robot", ROBOTS)
def test_env_context_mentions_every_field_with_robot_shapes(robot):
    spec = get_robot(robot)
    text = environment_context(robot)
    sizes = {"D": spec.num_dofs, "A": spec.action_dim, "F": spec.num_feet}
    for f in STATE_FIELDS:
        assert f"`{f.name}`" in text
        if f.shape != "float":
            shape = f.shape
            for sym, n in sizes.items():
                shape = shape.replace(sym, str(n))
            assert f"| `{f.name}` | {shape} |" in text
    for name in spec.dof_names + spec.foot_names:
        assert name in text
    assert f"{spec.dt:g} s" in text and f"{spec.standing_height:g} m" in text
    assert f"{spec.body_length:g} m" in text
    assert spec.describe().splitlines()[0] in text
    assert "compute_reward" in text and "import torch" in text


# ------------------------------------------------------------------ analytic rewriter


def test_initial_walk_forward():
    rw = AnalyticRewriter()
    code = rw.initial(TaskSpec("ant", "Spider walking forward"), environment_context("ant"))
    terms = read_terms(code)
    assert set(terms) == {"forward_velocity", "upright", "alive", "action_cost"}
    assert terms["forward_velocity"]["target_speed"] > 0
    report = validate_reward_code(code, "ant", origin="initial_walk.py")
    assert report.components == list(terms)


def test_initial_jump_forward():
    rw = AnalyticRewriter()
    code = rw.initial(TaskSpec("anymal", "jump forward like a hopping dog"), "")
    terms = read_terms(code)
    assert {"forward_velocity", "vertical_bounce", "upright", "alive", "action_cost"} <= set(terms)
    assert 0 < terms["vertical_bounce"]["amplitude"] < get_robot("anymal").standing_height / 2
    assert "'jump" in code  # the header says which keyword chose the term
    report = validate_reward_code(code, "anymal", origin="initial_jump.py")
    assert set(report.components) == set(terms)


def test_initial_rejects_an_unknown_robot():
    with pytest.raises(ConfigError, match="spider"):
        AnalyticRewriter().initial(TaskSpec("spider", "run"), "")


@pytest.mark.parametrize("robot", ROBOTS)
def test_rewrite_applies_exactly_the_critique_edits(robot):
    rw, task = AnalyticRewriter(), TaskSpec(robot, "walk forward")
    before_code = rw.initial(task, "")
    before = read_terms(before_code)
    after_code = rw.rewrite(task, before_code, _critique(), environment_context(robot), "epoch 10: return 12.0")
    after = read_terms(after_code)

    expected = {k: dict(v) for k, v in before.items() if k != "alive"}
    expected["forward_velocity"]["target_speed"] = 1.2
    expected["vertical_bounce"] = dict(TERM_LIBRARY["vertical_bounce"].defaults, amplitude=0.08, frequency=2.5)
    assert after == expected
    assert "target_speed" in after_code.split("TERMS")[0] and "remove alive" in after_code
    assert "alive bonus pays for standing still" in after_code  # why, from the item text

    report = validate_reward_code(after_code, robot, origin=f"{robot}_iter1.py")
    assert report.components == list(after)

    fn = load_reward_source(after_code, origin=f"{robot}_iter1.py")
    reward, components = fn(sample_state(robot, num_envs=8, seed=2))
    assert list(components) == list(after)
    assert reward.shape == (8,) and torch.isfinite(reward).all()


def test_rewrite_lists_model_text_and_bad_values_as_not_applied():
    rw, task = AnalyticRewriter(), TaskSpec("humanoid", "human running")
    code = rw.initial(task, "")
    crit = Critique(
        rewrite=[
            Item("Make the gait more natural.", "forward_velocity", {}),
            Item("Odd sigma.", "forward_velocity", {"sigma": -1.0, "scale": 1.5}),
        ],
        new=[Item("Reward arm swing.", "arm_swing", {"amplitude": 0.3}), Item("Free text only.")],
        remove=[Item("Drop the cost.", "nonexistent", {})],
        backend="openai",
    )
    after_code = rw.rewrite(task, code, crit, "", "")
    after = read_terms(after_code)
    assert after["forward_velocity"]["scale"] == 1.5
    assert after["forward_velocity"]["sigma"] == read_terms(code)["forward_velocity"]["sigma"]
    assert set(after) == set(read_terms(code))
    header = after_code.split("TERMS = {")[0]
    for text in ("Make the gait more natural.", "sigma must be > 0", "arm_swing", "Free text only.", "nonexistent"):
        assert text in header
    static_checks(after_code)


def test_rewrite_never_removes_the_last_term():
    rw = AnalyticRewriter()
    code = render_reward_code({"alive": {}})
    after = read_terms(rw.rewrite(TaskSpec("ant", "walk"), code, Critique(remove=[Item("no alive", "alive")]), "", ""))
    assert after == {"alive": {"scale": 0.2}}


def test_rewrite_of_foreign_code_starts_from_the_critique():
    rw, task = AnalyticRewriter(), TaskSpec("ant", "walk")
    foreign = "import torch\n\ndef compute_reward(up_proj):\n    return up_proj, {'up': up_proj}\n"
    after_code = rw.rewrite(task, foreign, _critique(), "", "")
    after = read_terms(after_code)
    assert set(after) == {"forward_velocity", "vertical_bounce"}
    assert after["forward_velocity"]["target_speed"] == 1.2
    assert "no TERMS literal" in after_code
    static_checks(after_code)
    # nothing applicable at all: baseline terms, said so
    empty = read_terms(rw.rewrite(task, foreign, Critique(new=[Item("model text")]), "", ""))
    assert set(empty) == {"forward_velocity", "upright", "alive", "action_cost"}
