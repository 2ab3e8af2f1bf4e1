"""The reward-term templates: one small named term per aspect of the motion (MuJoCo-Playground style).

:mod:`vidreward.reward.terms` renders reward code from these (its public API: ``TERM_LIBRARY``,
``read_terms``, ``render_reward_code``, ...). Every term has a non-negative ``scale`` and reads
``p = TERMS[name]`` for its parameters; ``components[name]`` is the scaled value. Terms, with their
parameters (units) and the value before ``scale``:

``forward_velocity``  target_speed (m/s, None: linear speed), sigma (m/s): exp(-((vx - target)/sigma)^2)
``vertical_bounce``   amplitude (m), frequency (Hz), sigma: closeness of (z, vz) to the orbit of
                      z = standing_height + amplitude sin(2 pi f t), phase-free
``airborne``          target_fraction, contact_threshold (N): +(1 - target) all feet off, -target else
``ground_contact``    contact_threshold (N): fraction of feet on the ground
``height``            target_height (m, None: standing height), sigma (m)
``upright``           none: up_proj
``alive``             none: 1
``action_cost``       none: -sum(actions^2)
``lateral_drift``     none: -|vy| (world y)
``takeoff``           target_vz (m/s), contact_threshold (N): the push of a jump, upward torso velocity
                      while feet are still loaded: (share of feet down) * clip(vz / target_vz, 0, 1)
``flight``            flight_time (s), contact_threshold (N): a real jump, every foot off AND clear of the
                      floor: all_feet_up * clip(lowest foot height / clearance, 0, 1) with clearance =
                      g flight_time^2 / 8 (the apex of a ballistic flight that long)
``gait_schedule``     frequency (Hz), duty (stance share of the period), contact_threshold (N): a clock
                      phase = frac(frequency * episode_time); stance window phase < duty (some foot
                      down), flight window after it (all feet off); agreement with the window, each
                      window weighted to half the period's total, so standing still earns 0.5 and a
                      gait at another frequency about 0.5 too, the scheduled one 1
``bounce_clock``      amplitude (m), frequency (Hz), sigma_v (m/s), sigma_z (m): a clocked vertical
                      reference z_ref = standing_height + amplitude sin(2 pi f t), vz_ref its derivative;
                      0.5 exp(-((vz - vz_ref)/sigma_v)^2) + 0.5 exp(-((z - z_ref)/sigma_z)^2)
``heading_velocity``  heading (rad, xy plane, 0 = +x, pi/2 = +y), target_speed (m/s, None: linear),
                      sigma (m/s): speed along the heading u = (cos h, sin h), tracked like forward_velocity
``lateral_velocity``  heading (rad), target_speed (m/s, + = left of the heading), sigma (m/s):
                      exp(-((v_perp - target)/sigma)^2), v_perp the velocity across the heading
``yaw_rate``          target_rate (rad/s, + = counter-clockwise seen from above), sigma (rad/s):
                      exp(-((wz - target)/sigma)^2), wz = root_angvel z (world)
``posture``           target_pitch (rad, + = nose up), target_roll (rad, + = left side up), sigma (rad):
                      exp(-((pitch - tp)^2 + (roll - tr)^2) / sigma^2) from root_quat

Reward code is stateless per step: the clock of ``gait_schedule`` and ``bounce_clock`` is
``episode_time`` (each env's own time since reset). The policy observes the same clock (sin and cos of
its phase, at the terms' frequency, which must agree when both are present;
``vidreward.reward.terms.clock_frequency``), so the scheduled rhythm is a function of what it sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

G = 9.81  # m/s^2, for the flight-time clearance


@dataclass(frozen=True)
class TermSpec:
    """One reward term: default parameters, what it rewards, the fields it reads, its code block."""

    name: str
    defaults: dict[str, Any]
    description: str
    fields: tuple[str, ...]
    template: str  # body lines, indented 4 spaces; reads p = TERMS[name], sets components[name]
    nullable: frozenset[str] = frozenset()
    uses_math: bool = False


def _spec(name, defaults, description, fields, template, nullable=(), uses_math=False) -> TermSpec:
    return TermSpec(name, dict(defaults), description, tuple(fields), template.strip("\n"),
                    frozenset(nullable), uses_math)


BASE_TERMS: tuple[TermSpec, ...] = (
    _spec(
        "forward_velocity",
        {"scale": 1.0, "target_speed": 0.5, "sigma": 0.25, "max_speed": None},
        "track a forward (+x) speed of target_speed m/s with a Gaussian kernel of width sigma "
        "(m/s); with target_speed None, reward the forward speed itself, clipped to [-1 body "
        "length/s, max_speed m/s] (max_speed None: 4 body lengths/s)",
        ("root_linvel", "body_length"),
        '''
    # forward_velocity: track a forward (+x) speed of target_speed m/s, exp(-((vx - target) / sigma)^2);
    # with target_speed None, reward forward speed linearly, clipped to [-1 body length/s, max_speed]
    # (max_speed None: 4 body lengths per second), so a faster robot earns no more above max_speed.
    p = TERMS["forward_velocity"]
    vx = root_linvel[:, 0]
    if p["target_speed"] is None:
        top = 4.0 * body_length if p["max_speed"] is None else p["max_speed"]
        forward_velocity = torch.clamp(vx, -body_length, top)
    else:
        forward_velocity = torch.exp(-torch.square((vx - p["target_speed"]) / p["sigma"]))
    components["forward_velocity"] = p["scale"] * forward_velocity
''',
        nullable=("target_speed", "max_speed"),
    ),
    _spec(
        "vertical_bounce",
        {"scale": 0.5, "amplitude": 0.05, "frequency": 2.0, "sigma": 0.5},
        "bounce like z(t) = standing_height + amplitude (m) * sin(2 pi frequency (Hz) t), phase-free: "
        "reward the torso's (height, vertical speed) lying on that oscillation's orbit, "
        "((z - standing_height)/amplitude)^2 + (vz/(amplitude 2 pi frequency))^2 = 1, "
        "relative tolerance sigma",
        ("root_pos", "root_linvel", "standing_height"),
        '''
    # vertical_bounce: a bounce z(t) = standing_height + amplitude * sin(2 pi frequency t) keeps the
    # torso on the orbit u^2 + w^2 = 1 with u = (z - standing_height) / amplitude and
    # w = vz / (amplitude * 2 pi frequency). Rewarding closeness to that orbit needs no clock, so
    # the policy can earn it from its observation at any phase: exp(-((u^2 + w^2 - 1) / sigma)^2).
    p = TERMS["vertical_bounce"]
    u = (root_pos[:, 2] - standing_height) / p["amplitude"]
    w = root_linvel[:, 2] / (p["amplitude"] * 2.0 * math.pi * p["frequency"])
    vertical_bounce = torch.exp(-torch.square((u * u + w * w - 1.0) / p["sigma"]))
    components["vertical_bounce"] = p["scale"] * vertical_bounce
''',
        uses_math=True,
    ),
    _spec(
        "airborne",
        {"scale": 0.2, "target_fraction": 0.3, "contact_threshold": 1.0},
        "reward flight (every foot's contact force below contact_threshold N): +(1 - target_fraction) "
        "in flight, -target_fraction otherwise, so the term averages zero at the target flight fraction",
        ("foot_contact_forces",),
        '''
    # airborne: +(1 - target_fraction) while every foot is off the ground (force < contact_threshold N),
    # -target_fraction otherwise: zero on average when the flight fraction equals target_fraction.
    p = TERMS["airborne"]
    all_feet_up = (foot_contact_forces < p["contact_threshold"]).all(dim=1).to(foot_contact_forces.dtype)
    airborne = all_feet_up - p["target_fraction"]
    components["airborne"] = p["scale"] * airborne
''',
    ),
    _spec(
        "ground_contact",
        {"scale": 0.2, "contact_threshold": 1.0},
        "reward the fraction of feet touching the ground (contact force at least contact_threshold N): "
        "fewer and shorter flight phases",
        ("foot_contact_forces",),
        '''
    # ground_contact: the fraction of feet touching the ground (force >= contact_threshold N),
    # so flight phases cost reward: fewer, shorter jumps.
    p = TERMS["ground_contact"]
    feet_down = (foot_contact_forces >= p["contact_threshold"]).to(foot_contact_forces.dtype)
    components["ground_contact"] = p["scale"] * feet_down.mean(dim=1)
''',
    ),
    _spec(
        "height",
        {"scale": 0.5, "target_height": None, "sigma": 0.1},
        "keep the torso at target_height m (None: the standing height), kernel width sigma (m)",
        ("root_pos", "standing_height"),
        '''
    # height: keep the torso at target_height m (None: the standing height), exp(-((z - h) / sigma)^2).
    p = TERMS["height"]
    target_height = standing_height if p["target_height"] is None else p["target_height"]
    height = torch.exp(-torch.square((root_pos[:, 2] - target_height) / p["sigma"]))
    components["height"] = p["scale"] * height
''',
        nullable=("target_height",),
    ),
    _spec(
        "upright",
        {"scale": 0.5},
        "keep the torso upright: the z component of its up axis (1 upright, -1 upside down)",
        ("up_proj",),
        '''
    # upright: z component of the torso's up axis (1 upright, -1 upside down).
    p = TERMS["upright"]
    upright = up_proj
    components["upright"] = p["scale"] * upright
''',
    ),
    _spec(
        "alive",
        {"scale": 0.2},
        "constant bonus for every step the episode continues",
        ("up_proj",),
        '''
    # alive: constant bonus for every step the episode goes on.
    p = TERMS["alive"]
    alive = torch.ones_like(up_proj)
    components["alive"] = p["scale"] * alive
''',
    ),
    _spec(
        "action_cost",
        {"scale": 0.05},
        "penalise effort: minus the sum of squared actions",
        ("actions",),
        '''
    # action_cost: penalise effort, minus the sum of squared actions.
    p = TERMS["action_cost"]
    action_cost = -torch.sum(torch.square(actions), dim=1)
    components["action_cost"] = p["scale"] * action_cost
''',
    ),
    _spec(
        "lateral_drift",
        {"scale": 0.2},
        "penalise sideways motion: minus |vy| (m/s)",
        ("root_linvel",),
        '''
    # lateral_drift: penalise sideways motion, minus |vy| (m/s).
    p = TERMS["lateral_drift"]
    lateral_drift = -torch.abs(root_linvel[:, 1])
    components["lateral_drift"] = p["scale"] * lateral_drift
''',
    ),
)

JUMP_TERMS: tuple[TermSpec, ...] = (
    _spec(
        "takeoff",
        {"scale": 0.5, "target_vz": 1.0, "contact_threshold": 1.0},
        "the push of a jump: upward torso velocity while feet are still loaded, (share of feet with "
        "contact force >= contact_threshold N) * clip(vz / target_vz, 0, 1); target_vz (m/s) is the "
        "take-off speed of the wanted flight (g * flight_time / 2); pair it with flight or airborne, "
        "since alone it also pays for bobbing without leaving the ground",
        ("root_linvel", "foot_contact_forces"),
        '''
    # takeoff: the push of a jump. Upward torso speed while the feet still press on the ground,
    # (share of feet down) * clip(vz / target_vz, 0, 1), full at the take-off speed target_vz (m/s).
    p = TERMS["takeoff"]
    pushing = (foot_contact_forces >= p["contact_threshold"]).to(foot_contact_forces.dtype).mean(dim=1)
    rise = torch.clamp(root_linvel[:, 2] / p["target_vz"], 0.0, 1.0)
    components["takeoff"] = p["scale"] * pushing * rise
''',
    ),
    _spec(
        "flight",
        {"scale": 0.5, "flight_time": 0.3, "contact_threshold": 1.0},
        "a real jump: every foot off the ground (force < contact_threshold N) and clear of the floor, "
        "all_feet_up * clip(min(foot_heights) / clearance, 0, 1), clearance = g * flight_time^2 / 8 m, "
        "the apex of a ballistic flight of flight_time s; the lowest foot has to rise, not the torso "
        "(standing tall on barely lifted feet earns nothing)",
        ("foot_contact_forces", "foot_heights"),
        f'''
    # flight: all feet off the ground AND the lowest foot clear of the floor; full reward from the
    # apex height of a ballistic flight lasting flight_time s, clearance = g * flight_time^2 / 8.
    p = TERMS["flight"]
    all_feet_up = (foot_contact_forces < p["contact_threshold"]).all(dim=1).to(foot_contact_forces.dtype)
    clearance = {G!r} * p["flight_time"] * p["flight_time"] / 8.0
    lift = torch.clamp(foot_heights.min(dim=1).values / clearance, 0.0, 1.0)
    components["flight"] = p["scale"] * all_feet_up * lift
''',
    ),
    _spec(
        "gait_schedule",
        {"scale": 0.5, "frequency": 0.67, "duty": 0.75, "contact_threshold": 1.0},
        "a contact schedule with period 1/frequency (Hz): phase = frac(frequency * episode_time); "
        "stance window phase < duty (some foot down, force >= contact_threshold N), flight window "
        "after it (every foot off); reward agreement with the window, each window weighted to half "
        "of the period (0.5 / duty in stance, 0.5 / (1 - duty) in flight): standing still or a gait "
        "at another frequency earns about 0.5, the scheduled gait 1. The policy observes this clock "
        "(sin and cos of 2 pi phase at this frequency)",
        ("foot_contact_forces", "episode_time"),
        '''
    # gait_schedule: a clock phase = frac(frequency * episode_time); the stance window (phase < duty)
    # wants some foot down, the flight window after it wants every foot off. Each window pays half
    # of the period's total (0.5 / duty per stance step, 0.5 / (1 - duty) per flight step), so only
    # the scheduled rhythm beats standing still (0.5 vs 1).
    p = TERMS["gait_schedule"]
    all_feet_up = (foot_contact_forces < p["contact_threshold"]).all(dim=1).to(foot_contact_forces.dtype)
    phase = torch.remainder(episode_time * p["frequency"], 1.0)
    in_stance = (phase < p["duty"]).to(foot_contact_forces.dtype)
    stance_pay = 0.5 / max(p["duty"], 1e-3)
    flight_pay = 0.5 / max(1.0 - p["duty"], 1e-3)
    agree = in_stance * (1.0 - all_feet_up) * stance_pay + (1.0 - in_stance) * all_feet_up * flight_pay
    components["gait_schedule"] = p["scale"] * agree
''',
    ),
    _spec(
        "bounce_clock",
        {"scale": 2.0, "amplitude": 0.1, "frequency": 1.8, "sigma_v": 0.5, "sigma_z": 0.07},
        "bounce in time with a clock: follow the reference z_ref(t) = standing_height + amplitude (m) "
        "* sin(2 pi frequency (Hz) episode_time) and its vertical speed vz_ref = amplitude 2 pi "
        "frequency cos(2 pi frequency t), half exp(-((vz - vz_ref)/sigma_v)^2) (sigma_v in m/s), "
        "half exp(-((z - z_ref)/sigma_z)^2) (sigma_z in m). Unlike vertical_bounce it fixes the "
        "phase, so a hop's push and flight happen when the clock says; the policy observes this clock",
        ("root_pos", "root_linvel", "episode_time", "standing_height"),
        '''
    # bounce_clock: a clocked vertical reference z_ref(t) = standing_height + amplitude sin(w t),
    # w = 2 pi frequency, with its speed vz_ref = amplitude w cos(w t). Half the term tracks the
    # speed (the push up and the fall), half the height; the clock is in the policy's observation.
    p = TERMS["bounce_clock"]
    omega = 2.0 * math.pi * p["frequency"]
    z_ref = standing_height + p["amplitude"] * torch.sin(omega * episode_time)
    vz_ref = p["amplitude"] * omega * torch.cos(omega * episode_time)
    speed_match = torch.exp(-torch.square((root_linvel[:, 2] - vz_ref) / p["sigma_v"]))
    height_match = torch.exp(-torch.square((root_pos[:, 2] - z_ref) / p["sigma_z"]))
    components["bounce_clock"] = p["scale"] * (0.5 * speed_match + 0.5 * height_match)
''',
        uses_math=True,
    ),
)

DIRECTION_TERMS: tuple[TermSpec, ...] = (
    _spec(
        "heading_velocity",
        {"scale": 1.0, "heading": 0.0, "target_speed": 0.5, "sigma": 0.25},
        "track a speed of target_speed m/s along the heading angle heading (rad, xy plane, 0 = +x, "
        "pi/2 = +y) with a Gaussian kernel of width sigma (m/s); target_speed None: reward that speed "
        "itself, clipped to [-1, 4] body lengths/s",
        ("root_linvel", "body_length"),
        '''
    # heading_velocity: speed along the heading u = (cos heading, sin heading) in the xy plane,
    # exp(-((v_u - target_speed) / sigma)^2); with target_speed None, v_u itself, clipped.
    p = TERMS["heading_velocity"]
    v_along = root_linvel[:, 0] * math.cos(p["heading"]) + root_linvel[:, 1] * math.sin(p["heading"])
    if p["target_speed"] is None:
        heading_velocity = torch.clamp(v_along, -body_length, 4.0 * body_length)
    else:
        heading_velocity = torch.exp(-torch.square((v_along - p["target_speed"]) / p["sigma"]))
    components["heading_velocity"] = p["scale"] * heading_velocity
''',
        nullable=("target_speed",),
        uses_math=True,
    ),
    _spec(
        "lateral_velocity",
        {"scale": 0.2, "heading": 0.0, "target_speed": 0.0, "sigma": 0.25},
        "track a velocity of target_speed m/s across the heading (rad), v_perp positive to the left "
        "of the heading, exp(-((v_perp - target_speed) / sigma)^2), sigma in m/s; target_speed 0 "
        "keeps the motion straight along the heading",
        ("root_linvel",),
        '''
    # lateral_velocity: v_perp, the velocity perpendicular to the heading, positive to its left
    # (-sin heading, cos heading), tracked: exp(-((v_perp - target_speed) / sigma)^2).
    p = TERMS["lateral_velocity"]
    v_perp = -root_linvel[:, 0] * math.sin(p["heading"]) + root_linvel[:, 1] * math.cos(p["heading"])
    lateral_velocity = torch.exp(-torch.square((v_perp - p["target_speed"]) / p["sigma"]))
    components["lateral_velocity"] = p["scale"] * lateral_velocity
''',
        uses_math=True,
    ),
    _spec(
        "yaw_rate",
        {"scale": 0.5, "target_rate": 0.0, "sigma": 0.5},
        "track a turning rate of target_rate rad/s (positive counter-clockwise seen from above, "
        "root_angvel z in the world frame), exp(-((wz - target_rate) / sigma)^2), sigma in rad/s",
        ("root_angvel",),
        '''
    # yaw_rate: track the turning rate target_rate (rad/s, + counter-clockwise from above),
    # exp(-((wz - target_rate) / sigma)^2) with wz the world-frame z angular velocity.
    p = TERMS["yaw_rate"]
    yaw_rate = torch.exp(-torch.square((root_angvel[:, 2] - p["target_rate"]) / p["sigma"]))
    components["yaw_rate"] = p["scale"] * yaw_rate
''',
    ),
    _spec(
        "posture",
        {"scale": 0.5, "target_pitch": 0.0, "target_roll": 0.0, "sigma": 0.3},
        "hold a torso orientation: pitch (rad, nose up +, from the forward axis' z component) and roll "
        "(rad, left side up +) near target_pitch / target_roll, exp(-((pitch - tp)^2 + (roll - tr)^2) "
        "/ sigma^2), sigma in rad",
        ("root_quat",),
        '''
    # posture: pitch = asin(z of the torso's forward axis), nose up +; roll = asin(z of its left
    # axis), left side up +; exp(-((pitch - target_pitch)^2 + (roll - target_roll)^2) / sigma^2).
    p = TERMS["posture"]
    qw, qx, qy, qz = root_quat[:, 0], root_quat[:, 1], root_quat[:, 2], root_quat[:, 3]
    pitch = torch.asin(torch.clamp(2.0 * (qx * qz - qw * qy), -1.0, 1.0))
    roll = torch.asin(torch.clamp(2.0 * (qy * qz + qw * qx), -1.0, 1.0))
    err = torch.square(pitch - p["target_pitch"]) + torch.square(roll - p["target_roll"])
    components["posture"] = p["scale"] * torch.exp(-err / (p["sigma"] * p["sigma"]))
''',
    ),
)

ALL_TERMS: tuple[TermSpec, ...] = BASE_TERMS + JUMP_TERMS + DIRECTION_TERMS
