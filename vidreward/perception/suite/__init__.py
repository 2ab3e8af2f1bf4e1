"""Ground-truth clip suite for testing camera-motion-robust motion-evidence extraction.

Each clip is a short MuJoCo offscreen rendering (default 320x240, 30 fps, 6 s) of one subject, a
scripted quadruped or a real human motion-capture body, seen by one camera (fixed, panning, tracking,
shaky hand-held, zoom) over one background (plain, checkered, cluttered). The renderer knows every
pose, so the true motion descriptors are exact: they are measured on the rendered kinematics (the
MuJoCo body and geom positions after forward kinematics, or the mocap joint positions the human
capsules are drawn from), not copied from the script.

Run ``python tools/make_motion_suite.py --out data/motion_suite`` to write the whole suite.

World and camera conventions
----------------------------
World z is up, the floor is the plane z = 0. Every camera starts looking along world +y (its
horizontal right is world +x) and looks down 30 degrees. Headings in the specs are in that frame:
0 = screen right, 90 = away from the camera, -90 = toward it.

* ``fixed``: position and orientation constant, aimed at the middle of the subject's path, far
  enough away that the whole path stays in view.
* ``panning``: position constant; the yaw follows the subject (pitch constant).
* ``tracking``: the camera translates with the subject's (smoothed) horizontal position at a
  constant offset, orientation constant: the subject stays near the image centre, the floor scrolls.
* ``shaky``: tracking plus smooth random jitter (sum of sinusoids 0.3-2.5 Hz): position about 3 cm
  RMS per axis, yaw/pitch/roll about 1.2 degrees RMS.
* ``zoom``: fixed position and orientation, vertical field of view easing from 50 to 26 degrees.

Files per clip
--------------
``<name>.mp4`` (H.264), ``<name>.truth.json`` (the contract below) and ``<name>.truth.npz`` (the
exact per-frame world trajectory, for debugging: ``t`` [T] s, ``root_pos`` [T,3] m (quadruped torso
centre, human hips), ``yaw`` [T] rad (body heading, counter-clockwise from world +x),
``torso_height`` [T] m, ``foot_heights`` [T,F] m (lowest point of each foot above the floor),
``cam_pos`` [T,3], ``cam_mat`` [T,3,3] (columns: camera right, up, backward, in world frame),
``cam_fovy`` [T] degrees, ``subject_px`` [T,2] (root projected to pixels, x right, y down; NaN
behind the camera)).

Truth contract (``<name>.truth.json``)
--------------------------------------
Top level: ``name``, ``subject`` ("quadruped" | "human"), ``motion``, ``camera`` ("fixed" |
"panning" | "tracking" | "shaky" | "zoom"), ``background`` ("plain" | "checkered" | "cluttered"),
``fps``, ``seconds`` (actual clip length: human clips are capped by the mocap segment), ``frames``,
``size`` [w, h], ``body_length_m``, ``body_length_def``, ``airborne_clearance_bl`` (the 2 cm of
the ``airborne_fraction`` rule below in body lengths: the oracle critic measures a robot's flight
by the same clearance of its own body length), ``spec`` (the scripted parameters, for reference
only), ``source`` (human clips: mocap origin), and ``truth``:

* ``direction_deg``: travel direction on the ground as seen from the camera, degrees, 0 = screen
  right, 90 = away from the camera, -90 = toward it, +-180 = screen left. Per frame the horizontal
  root velocity ``v`` (central difference over +-0.25 s) is projected on the camera's horizontal
  right and forward axes of that frame; the two projections are averaged over the clip and
  ``direction = atan2(mean(v.forward_h), mean(v.right_h))``. For a fixed camera this is the
  direction of the mean ground velocity. ``null`` when ``speed_bl_s < 0.05``.
* ``speed_bl_s``: mean over frames of ``|v|`` (same ``v``) divided by ``body_length_m``.
* ``turn_rate_deg_s``: least-squares slope of the unwrapped body yaw, degrees/s, positive =
  counter-clockwise seen from above. Quadruped yaw: torso heading; human yaw: the direction
  perpendicular to the left-right hip axis.
* ``bounce_amplitude_bl``: half the peak-to-peak of the torso height (quadruped torso centre, human
  hips) after removing a linear trend, divided by ``body_length_m``.
* ``bounce_frequency_hz``: dominant frequency of that detrended height (peak of a fine-grid
  periodogram between max(0.3, 1.5/seconds) and 6 Hz); 0 when ``bounce_amplitude_bl < 0.02``.
* ``airborne_fraction``: fraction of frames in which every foot is more than 2 cm above the floor
  (quadruped: lowest point of each of the 4 foot spheres; human: each foot's height is the minimum
  over its ankle, toe base and toe tip of (joint height - that joint's height standing still), so
  a foot resting on heel or toes counts as on the ground).
* ``cadence_hz``: stride frequency of the limbs: the dominant frequency of the feet's positions in
  the body frame (relative to the root, rotated by the body yaw), combined periodogram of all feet
  and axes; ``null`` when the limbs do not cycle (best sinusoid amplitude < 0.02 body lengths or it
  explains < 25 % of the foot motion's variance).
* ``height_ratio``: median torso height / standing torso height (quadruped: torso height in the
  neutral standing pose; human: median hips height while standing still at the start of CMU take
  01_01, same subject; for the DeepMimic run, the hips height of the DeepMimic humanoid's zero pose,
  upright with the soles on the floor).
* ``axis_motion``: "forward" | "backward" | "sideways" | "none": the mean velocity in the body frame
  (forward = body heading) within 45 degrees of forward, of backward, or otherwise sideways;
  "none" when ``speed_bl_s < 0.05``.
* ``camera_motion``: same as ``camera``.

``body_length_m``: quadruped: the longest horizontal extent in the neutral standing pose (nose to
tail tip, legs included); human: standing height (floor to top of head) while standing still.

Quadruped: a kinematic puppet built here (ellipsoid torso, head, neck, tail, four legs of two
capsules with hip roll, hip pitch and knee hinges). Feet are planned on the ground: each stance
foot stays at a world footfall (under its hip at mid-stance), swing feet move between footfalls on a
raised arc, and two-link inverse kinematics gives the joint angles; the pronk/hop body follows a
ballistic flight. Human: real motion capture (``data/motion/*.npz``, see ``data/motion/SOURCES.md``:
CMU takes of subject 01, and DeepMimic's running clip from pybullet_data) drawn as capsules added to
the MuJoCo scene.
"""

from __future__ import annotations

from vidreward.perception.suite.human import H_FEET, human_foot_heights, human_top, load_mocap
from vidreward.perception.suite.quadruped import quad_body_length
from vidreward.perception.suite.render import render_clip, write_clip
from vidreward.perception.suite.specs import BACKGROUNDS, CAMERAS, ClipSpec, MOTION_DIR, SPECS, get_spec, scaled
from vidreward.perception.suite.truth import motion_truth

__all__ = ["BACKGROUNDS", "CAMERAS", "ClipSpec", "H_FEET", "MOTION_DIR", "SPECS", "get_spec", "human_foot_heights", "human_top", "load_mocap", "motion_truth", "quad_body_length", "render_clip", "scaled", "write_clip"]
