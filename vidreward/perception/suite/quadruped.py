"""The quadruped of the suite: its geometry and MJCF, the scripted gaits (:class:`_QuadScript`
walks, trots, pronks, turns by placing each foot) and leg inverse kinematics."""

from __future__ import annotations

import math

import numpy as np
import vidreward  # noqa: F401  (sets MUJOCO_GL before the first import of mujoco)
import mujoco  # noqa: E402

from vidreward.perception.suite.kinematics import GRAVITY, Kinematics, rotz
from vidreward.perception.suite.specs import ClipSpec, GAITS


Q_TORSO = (0.30, 0.12, 0.09)  # ellipsoid half sizes


Q_HIP = (0.22, 0.10, -0.04)  # hip offset from torso centre (x, |y|, z)


Q_L1, Q_L2 = 0.20, 0.20  # upper / lower leg


Q_R1, Q_R2 = 0.038, 0.026  # capsule radii


Q_FOOT_R = 0.03


Q_STAND_LEG = 0.33  # vertical hip-to-foot-centre distance in the neutral pose


Q_FOOT_OUT = 0.02  # nominal foot lateral offset outside the hip


Q_STAND_Z = Q_FOOT_R + Q_STAND_LEG - Q_HIP[2]  # torso centre height standing


LEGS = ("LF", "RF", "LH", "RH")


LEG_SIGN = {"LF": (1, 1), "RF": (1, -1), "LH": (-1, 1), "RH": (-1, -1)}


Q_COLORS = {
    "torso": (0.50, 0.37, 0.27, 1), "head": (0.44, 0.33, 0.25, 1), "leg": (0.40, 0.36, 0.33, 1),
    "foot": (0.25, 0.23, 0.22, 1),
}


class _QuadScript:
    """Analytic root path and body height of a scripted quadruped."""

    def __init__(self, spec: ClipSpec, seconds: float):
        self.spec = spec
        g = GAITS[spec.gait]
        self.duty = g["duty"]
        self.offsets = g["offsets"]
        self.lift = spec.lift if spec.lift is not None else g["lift"]
        self.f = spec.cadence_hz
        self.yaw0 = math.radians(spec.heading_deg)
        self.omega = math.radians(spec.yaw_rate_deg_s)
        self.vc = complex(spec.v_forward, spec.v_side)
        self.stand_z = Q_FOOT_R + spec.height_scale * Q_STAND_LEG - Q_HIP[2]
        self.pronk = spec.gait == "pronk"
        self.flight = (1.0 - self.duty) / self.f
        self.v0 = GRAVITY * self.flight / 2.0
        self.apex = GRAVITY * self.flight ** 2 / 8.0
        self.offset = 0j
        mid = self.xy(np.array([seconds / 2.0]))[0]  # centre the path on the origin
        self.offset = -complex(*mid)

    def yaw(self, t):
        return self.yaw0 + self.omega * np.asarray(t, float)

    def xy(self, t) -> np.ndarray:
        t = np.asarray(t, float)
        if abs(self.omega) < 1e-12:
            p = self.vc * np.exp(1j * self.yaw0) * t
        else:
            p = self.vc * (np.exp(1j * self.yaw(t)) - np.exp(1j * self.yaw0)) / (1j * self.omega)
        p = p + self.offset
        return np.stack([p.real, p.imag], -1)

    def rise(self, t) -> np.ndarray:
        """Torso height above the stance height (pronk: ballistic flights and stance dips)."""
        t = np.asarray(t, float)
        if self.pronk:
            phase = self.f * t
            loc = phase - np.floor(phase)
            tau = (loc - self.duty) / self.f
            flight = self.v0 * tau - 0.5 * GRAVITY * tau ** 2
            dip = -GAITS["pronk"]["dip"] * np.sin(np.pi * np.clip(loc / self.duty, 0, 1))
            return np.where(loc < self.duty, dip, flight)
        return GAITS[self.spec.gait]["bounce"] * np.cos(4 * np.pi * self.f * t)

    def flight_rise(self, t) -> np.ndarray:
        return np.maximum(self.rise(t), 0.0) if self.pronk else np.zeros_like(np.asarray(t, float))

    def nominal_foot(self, leg: str) -> np.ndarray:
        sx, sy = LEG_SIGN[leg]
        return np.array([sx * Q_HIP[0], sy * (Q_HIP[1] + Q_FOOT_OUT)])

    def footfall(self, leg: str, k: np.ndarray) -> np.ndarray:
        """World xy of leg's foot during stance number ``k`` (array)."""
        tm = (k + self.duty / 2.0 - self.offsets[leg]) / self.f
        rot = rotz(self.yaw(tm))[..., :2, :2]
        return self.xy(tm) + np.einsum("kij,j->ki", rot, self.nominal_foot(leg))

    def foot_world(self, leg: str, t: np.ndarray) -> np.ndarray:
        phase = self.f * t + self.offsets[leg]
        k = np.floor(phase)
        loc = phase - k
        stance = loc < self.duty
        u = np.clip((loc - self.duty) / (1.0 - self.duty), 0.0, 1.0)
        s = u * u * (3 - 2 * u)
        a, b = self.footfall(leg, k), self.footfall(leg, k + 1)
        xy = np.where(stance[:, None], a, a + (b - a) * s[:, None])
        rise = self.flight_rise(t)
        swing_z = self.lift * np.sin(np.pi * u) + rise
        if self.lift < 0:
            swing_z = np.maximum(swing_z, 0.5 * rise)
        z = Q_FOOT_R + np.where(stance, 0.0, swing_z)
        return np.concatenate([xy, z[:, None]], 1)


def _leg_ik(d: np.ndarray) -> np.ndarray:
    """Joint angles [.., 3] (hip roll, hip pitch, knee) putting the foot centre at ``d`` [.., 3]
    relative to the hip, in the torso frame. Knees bend backward."""
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    roll = np.arctan2(dy, -dz)
    rho = np.hypot(dy, dz)
    r = np.clip(np.hypot(dx, rho), 0.05, 0.999 * (Q_L1 + Q_L2))
    c2 = np.clip((r ** 2 - Q_L1 ** 2 - Q_L2 ** 2) / (2 * Q_L1 * Q_L2), -1.0, 1.0)
    knee = -np.arccos(c2)
    alpha = np.arctan2(-dx, rho)
    hip = alpha - np.arctan2(Q_L2 * np.sin(knee), Q_L1 + Q_L2 * np.cos(knee))
    return np.stack([roll, hip, knee], -1)


def _quad_qpos(script: _QuadScript, t: np.ndarray) -> np.ndarray:
    n = len(t)
    qpos = np.zeros((n, 7 + 3 * len(LEGS)))
    xy = script.xy(t)
    yaw = script.yaw(t)
    z = script.stand_z + script.rise(t)
    qpos[:, 0:2] = xy
    qpos[:, 2] = z
    qpos[:, 3] = np.cos(yaw / 2)
    qpos[:, 6] = np.sin(yaw / 2)
    rot_t = np.transpose(rotz(yaw), (0, 2, 1))  # world -> body
    torso = np.concatenate([xy, z[:, None]], 1)
    for i, leg in enumerate(LEGS):
        sx, sy = LEG_SIGN[leg]
        hip = np.array([sx * Q_HIP[0], sy * Q_HIP[1], Q_HIP[2]])
        foot = script.foot_world(leg, t)
        d = np.einsum("tij,tj->ti", rot_t, foot - torso) - hip
        qpos[:, 7 + 3 * i: 10 + 3 * i] = _leg_ik(d)
    return qpos


def quad_standing_qpos() -> np.ndarray:
    q = np.zeros(7 + 3 * len(LEGS))
    q[2] = Q_STAND_Z
    q[3] = 1.0
    for i, leg in enumerate(LEGS):
        sy = LEG_SIGN[leg][1]
        q[7 + 3 * i: 10 + 3 * i] = _leg_ik(np.array([0.0, sy * Q_FOOT_OUT, -Q_STAND_LEG]))
    return q


def quad_kinematics(spec: ClipSpec, fps: float, seconds: float) -> Kinematics:
    n = int(round(seconds * fps))
    t = np.arange(n) / fps
    script = _QuadScript(spec, seconds)
    qpos = _quad_qpos(script, t)
    extra = {"stand_torso_z_scripted": script.stand_z}
    if script.pronk:
        extra.update(flight_time_s=script.flight, flight_apex_m=script.apex)
    return Kinematics(t=t, track=qpos[:, :2].copy(), qpos=qpos, target_z=Q_STAND_Z,
                      standing_torso_z=Q_STAND_Z, extra=extra)


def _rgba(c) -> str:
    return " ".join(f"{v:.3f}" for v in c)


def quad_xml() -> str:
    hx, hy, hz = Q_HIP
    legs = []
    for leg in LEGS:
        sx, sy = LEG_SIGN[leg]
        legs.append(f"""
      <body name="{leg}_thigh" pos="{sx * hx} {sy * hy} {hz}">
        <joint name="{leg}_roll" type="hinge" axis="1 0 0"/>
        <joint name="{leg}_pitch" type="hinge" axis="0 1 0"/>
        <geom name="{leg}_upper" type="capsule" fromto="0 0 0 0 0 {-Q_L1}" size="{Q_R1}"
              rgba="{_rgba(Q_COLORS['leg'])}"/>
        <body name="{leg}_shin" pos="0 0 {-Q_L1}">
          <joint name="{leg}_knee" type="hinge" axis="0 1 0"/>
          <geom name="{leg}_lower" type="capsule" fromto="0 0 0 0 0 {-Q_L2}" size="{Q_R2}"
                rgba="{_rgba(Q_COLORS['leg'])}"/>
          <geom name="{leg}_foot" type="sphere" pos="0 0 {-Q_L2}" size="{Q_FOOT_R}"
                rgba="{_rgba(Q_COLORS['foot'])}"/>
        </body>
      </body>""")
    tx, ty, tz = Q_TORSO
    return f"""
    <body name="torso" pos="0 0 {Q_STAND_Z}" childclass="subject">
      <freejoint name="root"/>
      <geom name="torso" type="ellipsoid" size="{tx} {ty} {tz}" rgba="{_rgba(Q_COLORS['torso'])}"/>
      <geom name="neck" type="capsule" fromto="0.22 0 0.03 0.36 0 0.11" size="0.05"
            rgba="{_rgba(Q_COLORS['torso'])}"/>
      <geom name="head" type="ellipsoid" pos="0.42 0 0.13" size="0.10 0.065 0.065"
            rgba="{_rgba(Q_COLORS['head'])}"/>
      <geom name="ear_l" type="ellipsoid" pos="0.38 0.04 0.19" size="0.025 0.012 0.035"
            rgba="{_rgba(Q_COLORS['head'])}"/>
      <geom name="ear_r" type="ellipsoid" pos="0.38 -0.04 0.19" size="0.025 0.012 0.035"
            rgba="{_rgba(Q_COLORS['head'])}"/>
      <geom name="tail" type="capsule" fromto="-0.27 0 0.04 -0.42 0 0.12" size="0.02"
            rgba="{_rgba(Q_COLORS['leg'])}"/>{''.join(legs)}
    </body>"""


def quad_body_length(model: mujoco.MjModel | None = None) -> float:
    """Longest horizontal extent of the quadruped in its neutral standing pose (m)."""
    if model is None:
        model = mujoco.MjModel.from_xml_string(
            f'<mujoco><compiler angle="degree"/><default><default class="subject"><geom group="2"/>'
            f'</default>'
            f'</default><worldbody>{quad_xml()}</worldbody></mujoco>')
    data = mujoco.MjData(model)
    data.qpos[:] = quad_standing_qpos()
    mujoco.mj_kinematics(model, data)
    pts = []
    for g in range(model.ngeom):
        if model.geom_group[g] != 2:
            continue
        c, hs = model.geom_aabb[g, :3], model.geom_aabb[g, 3:]
        corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * hs + c
        pts.append(corners @ data.geom_xmat[g].reshape(3, 3).T + data.geom_xpos[g])
    pts = np.concatenate(pts)
    ext = pts[:, :2].max(0) - pts[:, :2].min(0)
    return float(ext.max())
