"""Render robot trajectories (qpos sequences) to frames / MP4, from the robot's tracking camera
or from a fixed camera.

``camera="tracking"`` (default) uses the robot's own tracking camera, which follows the torso;
``camera="fixed"`` places one still camera on the same side, looking the same way, far enough
back that the whole trajectory stays in view (:func:`fixed_camera`): the view of a clip filmed from
a tripod. The rollout's camera follows the expert clip's, as the motion-evidence extractor reads it.

Shadows, reflections and the skybox are switched off in the scene (about 4x faster on llvmpipe),
and multisample anti-aliasing is off unless asked for (another 2x).
Rendering needs an OpenGL backend. MuJoCo reads ``MUJOCO_GL`` once, at the first ``import mujoco``;
on a machine without a display, ``import vidreward`` (which runs before any vidreward module imports
mujoco) sets ``egl``, or ``osmesa`` when only that loads, unless ``MUJOCO_GL`` is already set (see
:mod:`vidreward.gl`). Code that imports mujoco before vidreward must set ``MUJOCO_GL`` itself.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import mujoco
import numpy as np

from vidreward import gl
from vidreward.sim.robots import RobotModelConfig, get_robot, selected_models


def _check_qpos(robot: str, qpos: np.ndarray, nq: int) -> np.ndarray:
    qpos = np.asarray(qpos, dtype=np.float64)
    if qpos.ndim != 2 or qpos.shape[1] != nq:
        raise ValueError(f"qpos for robot '{robot}' must have shape [T, {nq}], got {qpos.shape}")
    if qpos.shape[0] == 0:
        raise ValueError(f"qpos for robot '{robot}' has no frames")
    if not np.isfinite(qpos).all():
        bad = np.flatnonzero(~np.isfinite(qpos).all(axis=1))
        raise ValueError(f"qpos for robot '{robot}' has non-finite values at frames {bad[:10].tolist()}")
    return qpos


@functools.lru_cache(maxsize=None)
def _render_model(robot: str, antialias: bool, models: RobotModelConfig) -> mujoco.MjModel:
    """A private copy of the robot's model for rendering (multisampling on or off)."""
    model = get_robot(robot).build_model(models)
    # 4x multisampling halves the frame rate on a software renderer (llvmpipe)
    model.vis.quality.offsamples = 4 if antialias else 0
    return model


CAMERA_STYLES = ("tracking", "fixed")
FIXED_MARGIN = 1.3  # the fixed camera's view spans this much more than the trajectory


def fixed_camera(model: mujoco.MjModel, qpos: np.ndarray, tracking_camera: str, standing_height: float,
                 body_length: float) -> mujoco.MjvCamera:
    """A free camera looking like the tracking camera does, placed to keep all of ``qpos`` in view."""
    data = mujoco.MjData(model)
    data.qpos[:] = qpos[0]
    mujoco.mj_forward(model, data)
    cam_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, tracking_camera)
    forward = -data.cam_xmat[cam_id].reshape(3, 3)[:, 2]  # a camera looks along its -z axis
    azimuth = float(np.degrees(np.arctan2(forward[1], forward[0])))
    elevation = float(np.degrees(np.arcsin(np.clip(forward[2], -1.0, 1.0))))
    xy = qpos[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    right = np.array([-forward[1], forward[0]])
    right /= max(np.linalg.norm(right), 1e-9)
    span = float(np.abs((hi - lo) @ right)) + 2.0 * body_length
    half_fov = np.radians(model.vis.global_.fovy) / 2.0
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.lookat[:] = [*((lo + hi) / 2.0), standing_height]
    cam.distance = max(FIXED_MARGIN * span / 2.0 / np.tan(half_fov), 3.0 * body_length)
    cam.azimuth, cam.elevation = azimuth, min(elevation, -15.0)
    return cam


def render_frames(
    robot: str, qpos: np.ndarray, size: int = 480, antialias: bool = False, camera: str = "tracking"
) -> np.ndarray:
    """Frames [T, size, size, 3] uint8 of ``qpos`` [T, nq] seen from the tracking camera or from
    a fixed camera (``camera``, one of :data:`CAMERA_STYLES`)."""
    if camera not in CAMERA_STYLES:
        raise ValueError(f"camera must be one of {CAMERA_STYLES}, got {camera!r}")
    spec = get_robot(robot)
    model = _render_model(spec.name, bool(antialias), selected_models())
    qpos = _check_qpos(robot, qpos, model.nq)
    size = int(size)
    if size % 2:
        raise ValueError(f"render size must be even (H.264 yuv420p), got {size}")
    if not 16 <= size <= min(model.vis.global_.offwidth, model.vis.global_.offheight):
        raise ValueError(f"render size {size} out of range [16, {model.vis.global_.offwidth}]")
    data = mujoco.MjData(model)
    frames = np.empty((qpos.shape[0], size, size, 3), dtype=np.uint8)
    view = spec.camera if camera == "tracking" else fixed_camera(
        model, qpos, spec.camera, float(spec.standing_height), float(spec.body_length))
    try:
        renderer = mujoco.Renderer(model, height=size, width=size)
    except (mujoco.FatalError, ImportError) as exc:  # no usable OpenGL backend
        raise type(exc)(f"cannot create an OpenGL context to render robot '{robot}' "
                        f"({gl.describe()}): {exc}") from exc
    try:
        flags = renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = 0
        for t in range(qpos.shape[0]):
            data.qpos[:] = qpos[t]
            mujoco.mj_forward(model, data)  # positions, subtree COM for the tracking camera
            renderer.update_scene(data, camera=view)
            renderer.render(out=frames[t])
    finally:
        renderer.close()
    return frames


def render_video(
    robot: str,
    qpos: np.ndarray,
    out_path: str | Path,
    fps: float,
    size: int = 480,
    antialias: bool = False,
    camera: str = "tracking",
) -> dict:
    """Write an MP4 (libx264) of ``qpos`` [T, nq]; returns {"frames", "render_fps", "path", ...}."""
    import imageio.v2 as imageio

    if not fps or float(fps) <= 0:
        raise ValueError(f"fps must be > 0 for video {out_path}, got {fps!r}")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    frames = render_frames(robot, qpos, size, antialias, camera)
    render_s = time.perf_counter() - start
    imageio.mimsave(out_path, list(frames), fps=float(fps), codec="libx264", macro_block_size=1)
    return {
        "path": str(out_path),
        "frames": int(frames.shape[0]),
        "size": size,
        "fps": float(fps),
        "camera": camera,
        "render_fps": frames.shape[0] / render_s if render_s > 0 else float("inf"),
    }
