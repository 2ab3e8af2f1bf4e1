"""The analytic critic's comparisons of robot and expert: one small named check per aspect of the
motion (``_check_speed``, ``_check_bounce``, ...), run in order by :func:`compare`, the way MuJoCo
Playground writes a reward as ``_reward_*`` terms.

Each check adds problems and the four-part changes with concrete numbers and machine-readable
``params`` in the reward-term vocabulary shared with the analytic rewriter:

| component | params |
|---|---|
| ``forward_velocity`` | ``target_speed`` (m/s = expert speed x robot body_length), ``sigma`` (m/s) |
| ``vertical_bounce`` | ``amplitude`` (m), ``frequency`` (Hz); z_ref(t) = standing_height + amplitude sin(2 pi f t) |
| ``bounce_clock`` | ``amplitude`` (m), ``frequency`` (Hz), as ``vertical_bounce`` but on the clock the policy observes: asked for instead of it when the expert hops fast (at least ``CLOCK_MIN_HZ``) and flies at least ``BIG_AIRBORNE`` of the time |
| ``airborne`` | ``target_fraction`` |
| ``takeoff`` | ``target_vz`` (m/s) = g T / 2, the take-off velocity of a flight of T s |
| ``flight`` | ``flight_time`` T (s) = expert airborne fraction / expert bounce frequency (one flight per bounce), at most the flight whose apex is the robot's standing_height, sqrt(8 standing_height / g) |
| ``gait_schedule`` | ``frequency`` (Hz, the expert's bounce), ``duty`` = 1 - expert airborne fraction (stance share of a period) |
| ``ground_contact`` | (none: reward feet on the ground when the robot flies more than the expert) |
| ``height`` | ``target_height`` (m), ``sigma`` (m) = its distance from the standing height (at least 0.1) |
| ``upright``, ``alive``, ``action_cost``, ``lateral_drift`` | none |

The library's ``heading_velocity``, ``lateral_velocity``, ``yaw_rate`` and ``posture`` are not asked
for: the side-view descriptors measure no heading, turning or torso pitch. ``bounce_clock`` is
asked for only for fast ballistic hops, where the phase-free ``vertical_bounce`` left the Ant
bouncing at 0.2 Hz (README, "Oracle critic and imitation score"); the default run's clip bounces
at 0.67 Hz and keeps ``vertical_bounce``.

Items are emitted only for meaningful differences (thresholds below, in descriptor units):

* speed: |robot - expert| > max(``SPEED_ABS``, ``SPEED_REL`` x expert) body lengths/s
* bounce (expert bounces, amplitude >= ``BOUNCE_MIN``): amplitude off by more than
  max(``AMP_ABS``, ``AMP_REL`` x expert), or frequency off by more than
  max(``FREQ_ABS``, ``FREQ_REL`` x expert) Hz, or the robot does not bounce at all
* bounce (expert does not bounce): robot amplitude exceeds the expert's by more than ``AMP_ABS``
* bounce: ``bounce_clock`` instead of ``vertical_bounce`` (which is then removed) when the expert
  bounces at least ``CLOCK_MIN_HZ`` and flies at least ``BIG_AIRBORNE`` of the time
* gait schedule (with a bounce item when the frequency is off): the expert flies at least
  ``SCHEDULE_AIR_MIN`` of the time, so its bounce is a stance/flight rhythm
* airborne: |difference| > ``AIR_ABS``; when the expert flies at least ``FLIGHT_MIN`` of the time
  and the robot less than ``FLIGHT_RATIO`` of that, the jump itself is asked for too: ``takeoff``
  and ``flight`` with the expert's flight time
* posture: |height_ratio difference| > ``HEIGHT_ABS``
* robot only: upright less than ``UPRIGHT_MIN`` of the time; lateral drift > ``DRIFT_MAX`` body
  lengths/s.

``rewrite`` = change a component the reward already has; ``new`` = add a missing one;
``remove`` = a present component that works against the clip: ``vertical_bounce`` when
``bounce_clock`` is asked for in its place, ``vertical_bounce`` and
``bounce_clock`` when the expert barely bounces, ``airborne``, ``flight``, ``takeoff``,
``gait_schedule`` and ``bounce_clock`` when the expert never leaves the ground (``airborne``, ``flight`` and ``takeoff`` also when the robot already flies more
than the expert), ``height`` (a fixed torso
height) when the expert bounces by at least ``BIG_BOUNCE``, ``alive`` when the expert is airborne at
least ``BIG_AIRBORNE`` of the time, the robot too little, and ``alive`` dominates the reward (more
than half of the logged reward magnitude, or the largest ``scale`` in ``TERMS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from vidreward.critic.base import Critique, Item
from vidreward.critic.motion import BOUNCE_MIN
from vidreward.critic.reward_terms import RewardTerms
from vidreward.reward.terms import forward_sigma, height_sigma

SPEED_ABS, SPEED_REL = 0.10, 0.20
AMP_ABS, AMP_REL = 0.02, 0.30
FREQ_ABS, FREQ_REL = 0.30, 0.20
AIR_ABS = 0.10
HEIGHT_ABS = 0.08
UPRIGHT_MIN = 0.80
DRIFT_MAX = 0.10
BIG_BOUNCE = 0.05
BIG_AIRBORNE = 0.30
FLIGHT_MIN, FLIGHT_RATIO = 0.10, 0.5
CLOCK_MIN_HZ = 1.2  # an expert bouncing this fast and airborne BIG_AIRBORNE of the time hops by a clock
SCHEDULE_AIR_MIN = 0.05
DUTY_MIN, DUTY_MAX = 0.05, 0.95
DEFAULT_FLIGHT_S = 0.2  # flight time when the expert's flights have no bounce frequency to divide by
G = 9.81
SCALE_STEP = 2.0  # how much a rewrite raises the weight of a term whose targets are already right
MAX_SCALE = 4.0  # ... up to this weight


def _bl(x: float) -> str:
    return f"{x:.2f} body lengths/s"


def _already_set(current: dict[str, Any], params: dict[str, Any]) -> bool:
    """Whether the reward's term already has (within 1 %) every requested parameter value."""
    for key, value in params.items():
        have = current.get(key)
        if not isinstance(have, (int, float)) or not isinstance(value, (int, float)):
            return False
        if abs(have - value) > 0.01 * max(abs(value), 1e-9):
            return False
    return True


def _put(crit: Critique, terms: RewardTerms, component: str, text: str, params: dict[str, Any]) -> None:
    """Rewrite when the reward has ``component``, else add it as new.

    When the term already has exactly the requested targets and the behaviour is still off, the
    reward pays too little for it relative to the other terms: the rewrite raises its ``scale`` by
    ``SCALE_STEP`` (up to ``MAX_SCALE``) instead of repeating a no-op.
    """
    section = crit.rewrite if component in terms.names else crit.new
    if any(i.component == component for i in crit.rewrite + crit.new):
        return
    current = terms.params.get(component)
    if section is crit.rewrite and isinstance(current, dict) and _already_set(current, params):
        scale = current.get("scale")
        if not isinstance(scale, (int, float)) or scale >= MAX_SCALE:
            return
        new_scale = round(min(scale * SCALE_STEP, MAX_SCALE), 4)
        text = (f"{component} already targets this but the motion is still off: weight it more, "
                f"scale {scale:g} -> {new_scale:g}. ({text})")
        params = {"scale": new_scale}
    section.append(Item(text=text, component=component, params=params))


@dataclass
class Comparison:
    """The critique being filled, the descriptors compared (``expert``, ``robot``), the robot's
    trajectory diagnostics and the current reward's terms."""

    crit: Critique
    expert: dict[str, float]
    robot: dict[str, float]
    diag: dict[str, float]
    terms: RewardTerms
    body_length: float
    standing_height: float
    removed: set[str] = field(default_factory=set)

    def problem(self, text: str, component: str) -> None:
        self.crit.problems.append(Item(text, component))

    def put(self, component: str, text: str, params: dict[str, Any]) -> None:
        _put(self.crit, self.terms, component, text, params)

    def remove(self, component: str, text: str) -> None:
        """Ask to remove ``component`` when the reward has it (once)."""
        if component in self.terms.names and component not in self.removed:
            self.removed.add(component)
            self.crit.remove.append(Item(text=text, component=component, params={}))


def _check_speed(c: Comparison) -> None:
    e, r, bl = c.expert, c.robot, c.body_length
    if not abs(r["speed"] - e["speed"]) > max(SPEED_ABS, SPEED_REL * e["speed"]):
        return
    verb = "moves forward" if r["speed"] >= 0 else "moves backwards"
    c.problem(
        f"The robot {verb} at {_bl(abs(r['speed']))} ({r['speed'] * bl:.2f} m/s along +x); the expert "
        f"travels at {_bl(e['speed'])} (= {e['speed'] * bl:.2f} m/s for this robot).",
        "forward_velocity")
    target = e["speed"] * bl
    c.put("forward_velocity",
          f"Track a forward speed of {target:.2f} m/s ({_bl(e['speed'])}, the expert's) instead of "
          f"{r['speed'] * bl:.2f} m/s.",
          {"target_speed": round(target, 4), "sigma": round(forward_sigma(target), 4)})


def _check_bounce(c: Comparison) -> None:
    e, r = c.expert, c.robot
    if e["bounce_amplitude"] >= BOUNCE_MIN:
        _check_bounce_matches(c)
    elif r["bounce_amplitude"] - e["bounce_amplitude"] > AMP_ABS:
        c.problem(
            f"The robot's torso bounces {r['bounce_amplitude']:.3f} body lengths at "
            f"{r['bounce_frequency']:.2f} Hz; the expert's barely moves vertically "
            f"({e['bounce_amplitude']:.3f}).", "vertical_bounce")
        for name in ("vertical_bounce", "bounce_clock"):
            c.remove(name, f"The expert does not bounce (amplitude {e['bounce_amplitude']:.3f} body "
                     "lengths); a bounce reference drives motion the clip does not show.")


def _check_bounce_matches(c: Comparison) -> None:
    """The expert bounces: the robot's bounce should have its amplitude and frequency."""
    e, r, bl = c.expert, c.robot, c.body_length
    amp_off = abs(r["bounce_amplitude"] - e["bounce_amplitude"]) > max(AMP_ABS, AMP_REL * e["bounce_amplitude"])
    freq_off = r["bounce_frequency"] == 0.0 or abs(r["bounce_frequency"] - e["bounce_frequency"]) > max(
        FREQ_ABS, FREQ_REL * e["bounce_frequency"])
    if not (amp_off or freq_off):
        return
    amp_m, freq = e["bounce_amplitude"] * bl, e["bounce_frequency"]
    robot_motion = (
        f"bounces {r['bounce_amplitude']:.3f} body lengths at {r['bounce_frequency']:.2f} Hz"
        if r["bounce_amplitude"] >= BOUNCE_MIN else
        f"barely moves vertically ({r['bounce_amplitude']:.3f} body lengths)")
    c.problem(
        f"The robot's torso {robot_motion}; the expert bounces {e['bounce_amplitude']:.3f} body "
        f"lengths ({amp_m:.3f} m for this robot) at {freq:.2f} Hz.", "vertical_bounce")
    bounce = {"amplitude": round(amp_m, 4), "frequency": round(freq, 4)}
    clocked = freq >= CLOCK_MIN_HZ and e["airborne_fraction"] >= BIG_AIRBORNE
    if clocked:
        # fast ballistic hops: one fixed rhythm, so the bounce follows the clock the policy observes
        c.put("bounce_clock",
              f"Hop in time with a clock: torso at standing_height + {amp_m:.3f} m * sin(2 pi "
              f"{freq:.2f} Hz t) and its vertical speed, the expert's rhythm of fast hops.", bounce)
        c.remove("vertical_bounce", f"A phase-free bounce lets the robot bounce at any phase; the "
                 f"expert hops in one {freq:.2f} Hz rhythm, which bounce_clock sets.")
    else:
        c.put("vertical_bounce", f"Bounce like standing_height + {amp_m:.3f} m * sin(2 pi {freq:.2f} Hz t).",
              bounce)
    if freq_off and freq > 0 and e["airborne_fraction"] >= SCHEDULE_AIR_MIN:
        duty = min(max(1.0 - e["airborne_fraction"], DUTY_MIN), DUTY_MAX)
        robot_rhythm = (f"the robot's {r['bounce_frequency']:.2f} Hz" if r["bounce_frequency"] > 0
                        else "the robot has none")
        c.put("gait_schedule",
              f"Follow the expert's contact rhythm: one stance-then-flight cycle every {1.0 / freq:.2f} s "
              f"({freq:.2f} Hz; {robot_rhythm}), feet down {duty:.0%} of each cycle.",
              {"frequency": round(freq, 4), "duty": round(duty, 4)})
    if e["bounce_amplitude"] >= BIG_BOUNCE:
        c.remove("height", "A fixed torso-height target fights the expert's "
                 f"{e['bounce_amplitude']:.2f}-body-length bounce; "
                 f"{'bounce_clock' if clocked else 'vertical_bounce'} sets the height.")


def _check_airborne(c: Comparison) -> None:
    e, r = c.expert, c.robot
    d_air = r["airborne_fraction"] - e["airborne_fraction"]
    if not abs(d_air) > AIR_ABS:
        return
    c.problem(
        f"The robot is airborne {r['airborne_fraction']:.0%} of the time (no foot contact); the "
        f"expert {e['airborne_fraction']:.0%}.", "airborne")
    if e["airborne_fraction"] < 0.02:
        for name in ("airborne", "flight", "takeoff", "gait_schedule", "bounce_clock"):
            c.remove(name, "The expert never leaves the ground; rewarding flight works against the clip.")
    elif d_air < 0:
        c.put("airborne",
              f"Reward a flight-phase fraction of {e['airborne_fraction']:.2f} (now "
              f"{r['airborne_fraction']:.2f}).", {"target_fraction": round(e["airborne_fraction"], 4)})
        c.remove("ground_contact", "Rewarding feet on the ground works against the expert's flight "
                 "phases, which the robot lacks.")
        if e["airborne_fraction"] >= FLIGHT_MIN and r["airborne_fraction"] < FLIGHT_RATIO * e["airborne_fraction"]:
            _ask_for_jumps(c)
    if d_air > 0:
        # a per-step term can only push flight up or down: reward contact, drop the flight reward
        for name in ("airborne", "flight", "takeoff"):
            c.remove(name, f"The robot already flies more than the expert ({r['airborne_fraction']:.0%} "
                     f"vs {e['airborne_fraction']:.0%}); rewarding flight pushes it further away.")
        c.put("ground_contact",
              f"Reward feet on the ground to cut flight from {r['airborne_fraction']:.0%} toward the "
              f"expert's {e['airborne_fraction']:.0%}.", {})
    if d_air < 0 and e["airborne_fraction"] >= BIG_AIRBORNE and c.terms.dominant("alive"):
        c.remove("alive", f"The alive bonus dominates the reward and pays for staying planted, but the "
                 f"expert is airborne {e['airborne_fraction']:.0%} of the time.")


def expert_flight_time(expert: dict[str, float], standing_height: float) -> float:
    """Seconds of one flight of the expert: its airborne share of each bounce period
    (airborne_fraction / bounce_frequency), ``DEFAULT_FLIGHT_S`` without a bounce frequency; at most
    the flight whose ballistic apex (g T^2 / 8) is the robot's standing height."""
    freq = expert["bounce_frequency"]
    flight = expert["airborne_fraction"] / freq if freq > 0 else DEFAULT_FLIGHT_S
    return min(flight, (8.0 * standing_height / G) ** 0.5)


def _ask_for_jumps(c: Comparison) -> None:
    """The robot barely leaves the ground while the expert flies: reward the push and the flight."""
    e, r = c.expert, c.robot
    flight = expert_flight_time(e, c.standing_height)
    vz = G * flight / 2.0
    apex = G * flight * flight / 8.0
    c.put("takeoff",
          f"Reward the push of a jump: upward torso velocity up to {vz:.2f} m/s while the feet are "
          f"still on the ground, the take-off velocity of a {flight:.2f} s flight like the expert's "
          f"(the robot flies {r['airborne_fraction']:.0%} of the time, the expert "
          f"{e['airborne_fraction']:.0%}).", {"target_vz": round(vz, 4)})
    c.put("flight",
          f"Reward real flights: every foot off the ground and the lowest foot up to {apex:.3f} m "
          f"above the floor, the apex of a {flight:.2f} s flight.", {"flight_time": round(flight, 4)})


def _check_posture(c: Comparison) -> None:
    e, r = c.expert, c.robot
    if not abs(r["height_ratio"] - e["height_ratio"]) > HEIGHT_ABS:
        return
    target_h = e["height_ratio"] * c.standing_height
    if c.crit.crosscheck.get("height_ratio", {}).get("video") is not None:
        seen = f"In its rollout video the robot's typical height is {r['height_ratio']:.2f} of its tallest"
    else:
        seen = f"The robot's median torso height is {r['height_ratio']:.2f} of standing height"
    c.problem(
        f"{seen}; the expert's typical posture is {e['height_ratio']:.2f} of full height "
        f"(= {target_h:.3f} m for this robot).", "height")
    expert_bounces = e["bounce_amplitude"] >= BOUNCE_MIN
    bounce_terms = ("vertical_bounce", "bounce_clock")
    bounce_sets_height = expert_bounces and (any(n in c.terms.names for n in bounce_terms) or any(
        i.component in bounce_terms for i in c.crit.new + c.crit.rewrite))
    if "height" not in c.removed and not bounce_sets_height:
        c.put("height", f"Hold the torso near {target_h:.3f} m.",
              {"target_height": round(target_h, 4),
               "sigma": round(height_sigma(target_h, c.standing_height), 4)})


def _check_upright(c: Comparison) -> None:
    """Robot only (the side-view clip cannot show it): the torso should stay upright."""
    upright = c.diag.get("upright_fraction")
    if upright is None or not upright < UPRIGHT_MIN:
        return
    c.problem(
        f"The robot's torso is upright only {upright:.0%} of the time (it tips or flips); the "
        "expert stays upright.", "upright")
    if "upright" not in c.terms.names:
        c.put("upright", "Reward keeping the torso's up axis vertical.", {})


def _check_lateral_drift(c: Comparison) -> None:
    """Robot only (the side-view clip cannot show it): the robot should move straight."""
    diag = c.diag
    if not diag["lateral_speed_body"] > DRIFT_MAX:
        return
    c.problem(
        f"The robot drifts sideways at {diag['lateral_speed_mps']:.2f} m/s "
        f"({_bl(diag['lateral_speed_body'])}); the expert moves straight.", "lateral_drift")
    if "lateral_drift" not in c.terms.names:
        c.put("lateral_drift", "Penalise sideways (y) velocity.", {})


#: the checks, in the order their items appear in the critique
CHECKS: tuple[Callable[[Comparison], None], ...] = (
    _check_speed, _check_bounce, _check_airborne, _check_posture, _check_upright, _check_lateral_drift,
)


def compare(crit: Critique, expert: dict[str, float], robot: dict[str, float], diag: dict[str, float],
            terms: RewardTerms, body_length: float, standing_height: float) -> None:
    """Fill ``crit``'s problems and changes by running every check of :data:`CHECKS`."""
    comparison = Comparison(crit, expert, robot, diag, terms, body_length, standing_height)
    for check in CHECKS:
        check(comparison)
