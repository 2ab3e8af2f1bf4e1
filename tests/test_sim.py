"""Batched simulator: MuJoCo agreement, determinism, termination/truncation/reset, fields, render."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vidreward.errors import ConfigError  # noqa: E402
from vidreward.sim.kinematics import _geom_bottom  # noqa: E402
from vidreward.sim.robots.ant import ANT_FEET  # noqa: E402
from vidreward.sim.robots.anymal import ANYMAL_LEGS  # noqa: E402
from vidreward.sim.robots.humanoid import HUMANOID_FEET  # noqa: E402
from vidreward.sim import (  # noqa: E402
    ROBOTS,
    RolloutSim,
    STATE_FIELD_NAMES,
    STATE_FIELDS,
    get_robot,
    make_sim,
)

ROBOT_NAMES = tuple(sorted(ROBOTS))
# (foot, geom) of each robot, in foot order, as its model module declares them
FOOT_GEOMS = {"ant": ANT_FEET, "humanoid": HUMANOID_FEET,
              "anymal": [(leg, f"{leg}_foot") for leg in ANYMAL_LEGS]}


def _random_actions(steps: int, n: int, dim: int, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(n, dim, generator=g) * 2 - 1 for _ in range(steps)]


def _foot_bottoms(sim, name: str) -> np.ndarray:
    """The lowest point of each foot geom of env 0's current pose, in foot order (MuJoCo's kinematics)."""
    data = mujoco.MjData(sim.model)
    data.qpos[:] = sim._state[0, sim._qpos_sl]
    mujoco.mj_kinematics(sim.model, data)
    return np.array([_geom_bottom(sim.model, data, sim.model.geom(geom).id) for _, geom in FOOT_GEOMS[name]])


def _zeros(sim) -> torch.Tensor:
    return torch.zeros(sim.num_envs, sim.robot.action_dim)


# ------------------------------------------------------------------------------------------- robots
def test_get_robot_unknown_name_lists_valid():
    with pytest.raises(ConfigError) as err:
        get_robot("spider")
    msg = str(err.value)
    assert "spider" in msg and all(name in msg for name in ROBOT_NAMES)


def test_make_sim_unknown_backend():
    with pytest.raises(ConfigError, match="warp"):
        make_sim("ant", 1, backend="warp")


@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_robot_spec_consistent_with_model(name):
    spec = get_robot(name)
    model = spec.model()
    assert model.nq == 7 + spec.num_dofs and model.nv == 6 + spec.num_dofs
    assert model.nu == spec.action_dim and spec.num_feet in (2, 4)
    assert abs(model.opt.timestep * spec.frame_skip - spec.dt) < 1e-12
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, spec.camera) >= 0
    text = spec.describe()
    for needle in (f"{spec.dt:g}", *spec.foot_names, "[-1, 1]", "NO upper height limit"):
        assert needle in text


@pytest.mark.parametrize("name", ["ant", "anymal"])
def test_standing_height_matches_settled_pose(name):
    # noise-free start, zero actions: the nominal resting/standing pose
    spec = dataclasses.replace(get_robot(name), reset_noise_qpos=0.0, reset_noise_qvel=0.0)
    sim = RolloutSim(spec, 1, seed=0)
    for _ in range(40):
        result = sim.step(_zeros(sim))
    z = float(result.state["root_pos"][0, 2])
    assert abs(z - sim.robot.standing_height) < 0.05
    # standing on all four feet: the touch sensors carry the robot's weight
    weight = sim.model.body_subtreemass[1] * 9.81
    assert float(result.state["foot_contact_forces"].sum()) == pytest.approx(weight, rel=0.1)
    assert (result.state["foot_contact_forces"] > 0).all()
    # and every foot is on the floor (within the contact margin: the Ant's geoms rest 2 cm above it),
    # its height the lowest point of its foot geom, in foot order (at rest the sensors' physics step,
    # one before the state's, has the same pose)
    heights = result.state["foot_heights"][0].numpy()
    assert float(np.abs(heights).max()) < 0.03
    np.testing.assert_allclose(heights, _foot_bottoms(sim, name), atol=1e-3)
    sim.close()


def test_foot_heights_rise_off_the_floor_in_a_drop():
    """Dropped from its start height (with reset noise) the Ant's feet are in the air and come down
    to the floor as it lands, each at the height of its own foot geom's lowest point: ``foot_heights``
    follows the feet, in foot order, not the torso."""
    sim = RolloutSim(get_robot("ant"), 1, seed=0)
    sim.reset()

    def geometry():
        return _foot_bottoms(sim, "ant")

    before = geometry()
    first = sim.step(_zeros(sim)).state
    after, heights = geometry(), first["foot_heights"][0].numpy()
    assert heights.min() > 0.1 and (first["foot_contact_forces"] == 0).all()
    # the sensors' physics step is the last one of the control step: falling feet lie in between
    assert (after <= heights).all() and (heights <= before).all()
    for _ in range(40):
        last = sim.step(_zeros(sim)).state
    at_rest, heights = geometry(), last["foot_heights"][0].numpy()
    assert heights.min() < 0.03 and np.ptp(at_rest) > 0.05  # landed, one foot left up by the noise
    np.testing.assert_allclose(heights, at_rest, atol=2e-3)
    torso_drop = float(first["root_pos"][0, 2] - last["root_pos"][0, 2])
    assert abs((before - at_rest).min() - torso_drop) > 0.1  # the legs swing down as it lands
    sim.close()


# ------------------------------------------------------------------------------------------- fields
@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_all_state_fields_with_documented_shapes(name):
    n = 3
    sim = make_sim(name, n, seed=1)
    spec = sim.robot
    dims = {"N": n, "D": spec.num_dofs, "A": spec.action_dim, "F": spec.num_feet}
    result = sim.step(_random_actions(1, n, spec.action_dim)[0])
    state = result.state
    assert tuple(state) == STATE_FIELD_NAMES
    for field in STATE_FIELDS:
        value = state[field.name]
        if field.shape == "float":
            assert isinstance(value, float), field.name
            continue
        expected = tuple(int(dims.get(s.strip(), s.strip())) for s in field.shape[1:-1].split(","))
        assert isinstance(value, torch.Tensor) and value.dtype == torch.float32, field.name
        assert tuple(value.shape) == expected, (field.name, value.shape, expected)
        assert torch.isfinite(value).all(), field.name
    assert result.obs.shape == (n, spec.obs_dim) and result.obs.dtype == torch.float32
    assert result.terminated.dtype == torch.bool and result.truncated.dtype == torch.bool
    assert state["dt"] == spec.dt and state["body_length"] == spec.body_length
    sim.close()


def test_the_gait_clock_runs_at_its_frequency_from_each_reset():
    """The observation's last two values are sin and cos of 2 pi frac(clock_hz * episode_time),
    each env's own time since reset; clock_hz 0 holds them at (0, 1)."""
    sim = make_sim("ant", 2, seed=0, clock_hz=0.8)
    dt = sim.robot.dt
    actions = torch.zeros(2, sim.robot.action_dim)
    for k in range(1, 8):
        obs = sim.step(actions).obs
        phase = 2 * np.pi * ((0.8 * k * dt) % 1.0)
        np.testing.assert_allclose(obs[:, -2:].numpy(), [[np.sin(phase), np.cos(phase)]] * 2, atol=1e-5)
    sim.reset_envs([1])
    obs = sim.obs().numpy()
    np.testing.assert_allclose(obs[1, -2:], [0.0, 1.0], atol=1e-6)  # env 1 restarts its clock
    assert abs(obs[0, -2] - np.sin(2 * np.pi * ((0.8 * 7 * dt) % 1.0))) < 1e-5  # env 0 runs on
    sim.close()
    still = make_sim("ant", 1, seed=0)
    for _ in range(5):
        np.testing.assert_allclose(still.step(torch.zeros(1, still.robot.action_dim)).obs[0, -2:].numpy(),
                                   [0.0, 1.0], atol=1e-6)
    still.close()


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), True, "1"])
def test_make_sim_rejects_a_bad_clock(bad):
    with pytest.raises(ConfigError, match="clock_hz"):
        make_sim("ant", 1, clock_hz=bad)


# --------------------------------------------------------------------------- agreement with MuJoCo
def _contact_normal_force(model, data, geom_id: int) -> float:
    total, force = 0.0, np.zeros(6)
    for i in range(data.ncon):
        c = data.contact[i]
        if geom_id in (c.geom1, c.geom2):
            mujoco.mj_contactForce(model, data, i, force)
            total += force[0]
    return total


@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_fast_backend_equals_mujoco_reference(name):
    n, steps = 4, 12
    fast = make_sim(name, n, seed=7, backend="rollout", nthread=2)
    ref = make_sim(name, n, seed=7, backend="python")
    model = ref.model
    root = model.body(fast.robot.root_body).id
    for actions in _random_actions(steps, n, fast.robot.action_dim, seed=3):
        rf, rr = fast.step(actions), ref.step(actions)
    for key in STATE_FIELD_NAMES:
        a, b = rf.state[key], rr.state[key]
        if isinstance(a, float):
            assert a == b
        else:
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6, msg=key)
    torch.testing.assert_close(rf.obs, rr.obs)
    assert torch.equal(rf.terminated, rr.terminated)

    # the reference's own MuJoCo quantities agree with the named state
    qpos, qvel = ref.qpos_qvel()
    scratch = mujoco.MjData(model)
    vel = np.zeros(6)
    for i, data in enumerate(ref.datas):
        np.testing.assert_allclose(qpos[i], data.qpos)
        scratch.qpos[:], scratch.qvel[:] = data.qpos, data.qvel
        mujoco.mj_forward(model, scratch)
        s = {k: v[i].numpy() if isinstance(v, torch.Tensor) else v for k, v in rr.state.items()}
        np.testing.assert_allclose(s["root_pos"], scratch.xpos[root], atol=1e-5)
        np.testing.assert_allclose(s["root_quat"], scratch.xquat[root], atol=1e-5)
        mujoco.mj_objectVelocity(model, scratch, mujoco.mjtObj.mjOBJ_XBODY, root, vel, 0)
        np.testing.assert_allclose(s["root_angvel"], vel[:3], atol=1e-4, rtol=1e-5)
        np.testing.assert_allclose(s["root_linvel"], vel[3:], atol=1e-4, rtol=1e-5)
        np.testing.assert_allclose(s["up_proj"], scratch.xmat[root][8], atol=1e-5)
        np.testing.assert_allclose(s["heading_proj"], scratch.xmat[root][0], atol=1e-5)
        np.testing.assert_allclose(s["dof_pos"], data.qpos[7:], atol=1e-5, rtol=1e-6)
        np.testing.assert_allclose(s["dof_vel"], data.qvel[6:], atol=1e-4, rtol=1e-6)
        # foot forces: the state carries the touch sensors of the last physics step, and at any
        # state those sensors equal the contact solver's normal forces on the foot geoms
        touch = [model.sensor(f"touch_{foot}") for foot in fast.robot.foot_names]
        adr = [t.adr[0] for t in touch]
        np.testing.assert_allclose(rf.state["foot_contact_forces"][i].numpy(), data.sensordata[adr],
                                   rtol=1e-5, atol=1e-4)  # fmt: skip
        for t, foot in zip(adr, fast.robot.foot_names):
            site = model.site(f"foot_site_{foot}")
            foot_geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == site.bodyid[0]]
            expected = sum(_contact_normal_force(model, scratch, g) for g in foot_geoms)
            assert scratch.sensordata[t] == pytest.approx(expected, rel=1e-4, abs=1e-3), foot
    fast.close()


def test_reference_with_continuous_warmstart_stays_close():
    fast = make_sim("anymal", 2, seed=0)
    ref = make_sim("anymal", 2, seed=0, backend="python", warmstart=True)
    for actions in _random_actions(10, 2, fast.robot.action_dim):
        rf, rr = fast.step(actions), ref.step(actions)
    torch.testing.assert_close(rf.state["root_pos"], rr.state["root_pos"], atol=1e-4, rtol=0)
    fast.close()


# ------------------------------------------------------------------------------------ determinism
def test_same_seed_same_trajectory_different_seed_differs():
    def run(seed):
        sim = make_sim("ant", 6, seed=seed, nthread=2)
        obs = [sim.obs()]
        for actions in _random_actions(15, 6, 8, seed=11):
            obs.append(sim.step(actions).obs)
        sim.close()
        return torch.stack(obs)

    a, b, c = run(5), run(5), run(6)
    assert torch.equal(a, b)
    assert not torch.allclose(a[0], c[0])
    assert not torch.allclose(a[-1], c[-1])


def test_reset_with_seed_restarts_the_noise_sequence():
    sim = make_sim("humanoid", 3, seed=2)
    first = sim.reset(seed=9)
    sim.step(_random_actions(1, 3, 17)[0])
    again = sim.reset(seed=9)
    assert torch.equal(first, again)
    sim.close()


# --------------------------------------------------------------------- termination and resets
FALL = {
    # robot -> (root position, root quaternion) that must count as fallen
    "ant": (None, [0.0, 1.0, 0.0, 0.0]),  # upside down
    "anymal": (None, [0.0, 1.0, 0.0, 0.0]),  # upside down
    "humanoid": ([0.0, 0.0, 0.6], None),  # torso pushed below 1.0 m
}


@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_fallen_terminates_and_reset_envs_restores(name):
    n = 4
    sim = make_sim(name, n, seed=0)
    for actions in _random_actions(2, n, sim.robot.action_dim):
        result = sim.step(actions * 0.1)
    assert not result.terminated.any()
    pos, quat = FALL[name]
    sim.set_root_pose([1, 3], pos=pos, quat=quat)
    before_q, _ = sim.qpos_qvel()
    result = sim.step(_zeros(sim))
    assert result.terminated.tolist() == [False, True, False, True]
    assert not result.truncated.any()

    kept_q, _ = sim.qpos_qvel()
    sim.reset_envs(result.terminated)  # bool mask (ids work as well)
    q, _ = sim.qpos_qvel()
    state = sim.state()
    np.testing.assert_array_equal(q[[0, 2]], kept_q[[0, 2]])  # others untouched
    assert state["episode_time"].tolist() == pytest.approx([3 * sim.dt, 0.0, 3 * sim.dt, 0.0])
    assert (state["up_proj"][[1, 3]] > 0.95).all()
    init_z = sim._init_qpos[2]
    assert torch.allclose(state["root_pos"][[1, 3], 2], torch.tensor(init_z, dtype=torch.float32),
                          atol=sim.robot.reset_noise_qpos + 1e-6)  # fmt: skip
    assert (state["actions"][[1, 3]] == 0).all() and (state["prev_actions"][[1, 3]] == 0).all()
    result = sim.step(_zeros(sim))
    assert not result.terminated[[1, 3]].any()
    sim.close()


def test_no_upper_height_bound_jumping_allowed():
    sim = make_sim("ant", 2, seed=0)
    sim.set_root_pose([0], pos=[0.0, 0.0, 3.0])
    result = sim.step(_zeros(sim))
    assert float(result.state["root_pos"][0, 2]) > 2.5
    assert not result.terminated.any()
    sim.close()


def test_truncation_at_max_episode_steps_without_auto_reset():
    sim = make_sim("anymal", 3, seed=0, max_episode_steps=5)
    for t in range(1, 6):
        result = sim.step(_zeros(sim))
        assert result.truncated.tolist() == [t >= 5] * 3
        assert result.state["episode_time"][0].item() == pytest.approx(t * sim.dt)
    result = sim.step(_zeros(sim))  # no auto-reset: still truncated, time keeps counting
    assert result.truncated.all()
    assert result.state["episode_time"][0].item() == pytest.approx(6 * sim.dt)
    sim.reset_envs(torch.tensor([0, 2]))
    result = sim.step(_zeros(sim))
    assert result.truncated.tolist() == [False, True, False]
    sim.close()


def test_actions_and_prev_actions_and_validation():
    sim = make_sim("ant", 2, seed=0)
    a1, a2 = _random_actions(2, 2, 8)
    sim.step(a1)
    state = sim.step(a2 * 3).state  # out-of-range actions are clipped to [-1, 1]
    torch.testing.assert_close(state["actions"], torch.clamp(a2 * 3, -1, 1))
    torch.testing.assert_close(state["prev_actions"], a1)
    with pytest.raises(ValueError, match=r"\(2, 8\)"):
        sim.step(torch.zeros(2, 7))
    with pytest.raises(ValueError, match="non-finite"):
        sim.step(torch.full((2, 8), float("nan")))
    with pytest.raises(ValueError, match="out of range"):
        sim.reset_envs([5])
    sim.close()
    with pytest.raises(RuntimeError, match="closed"):
        sim.step(a1)


# ------------------------------------------------------------------------------------------ render
def test_render_video_frame_count_and_size(tmp_path):
    imageio = pytest.importorskip("imageio.v2")
    from vidreward.sim.render import render_frames, render_video

    sim = make_sim("ant", 1, seed=0)
    qpos = []
    for actions in _random_actions(6, 1, 8):
        sim.step(actions)
        qpos.append(sim.qpos_qvel()[0][0])
    sim.close()
    out = tmp_path / "roll.mp4"
    info = render_video("ant", np.array(qpos), out, fps=20, size=96)
    assert info["frames"] == 6 and info["render_fps"] > 0
    frames = np.array(imageio.mimread(out))
    assert frames.shape == (6, 96, 96, 3)
    assert frames.std() > 5  # an actual picture, not a blank frame

    anymal = get_robot("anymal").model().qpos0[None, :].repeat(2, axis=0)
    pics = render_frames("anymal", anymal, size=32)
    assert pics.shape == (2, 32, 32, 3) and pics.dtype == np.uint8
    with pytest.raises(ValueError, match="humanoid"):
        render_frames("humanoid", anymal, size=32)


def test_robots_registry_names():
    assert set(ROBOTS) == set(ROBOT_NAMES)
