"""Rendering a clip (MuJoCo offscreen, the human drawn as capsules in the scene) and writing it
with its truth files."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import vidreward  # noqa: F401  (sets MUJOCO_GL before the first import of mujoco)
import mujoco  # noqa: E402

from vidreward.perception.suite.camera_path import CameraPath, camera_path
from vidreward.perception.suite.human import H_BONES, H_FEET, human_foot_heights, human_kinematics, human_yaw, joint
from vidreward.perception.suite.kinematics import Kinematics, mat2quat, rotz
from vidreward.perception.suite.quadruped import LEGS, Q_FOOT_R, quad_body_length, quad_kinematics, quad_standing_qpos
from vidreward.perception.suite.scene import build_model
from vidreward.perception.suite.specs import ClipSpec, get_spec
from vidreward.perception.suite.truth import clip_truth


@dataclass
class Clip:
    spec: ClipSpec
    frames: np.ndarray  # [T, H, W, 3] uint8
    fps: float
    arrays: dict[str, np.ndarray]
    truth: dict[str, Any]
    render_s: float


def _project(p: np.ndarray, cam_pos: np.ndarray, cam_mat: np.ndarray, fovy: np.ndarray,
             size: tuple[int, int]) -> np.ndarray:
    w, h = size
    rel = np.einsum("tji,tj->ti", cam_mat, p - cam_pos)  # camera frame: x right, y up, z back
    depth = -rel[:, 2]
    f = (h / 2) / np.tan(np.radians(fovy) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = w / 2 + f * rel[:, 0] / depth
        v = h / 2 - f * rel[:, 1] / depth
    out = np.stack([u, v], 1)
    out[depth <= 1e-6] = np.nan
    return out


def _add_capsule(scn: mujoco.MjvScene, a: np.ndarray, b: np.ndarray, r: float, rgba) -> None:
    if scn.ngeom >= scn.maxgeom:
        return
    g = scn.geoms[scn.ngeom]
    color = np.asarray(rgba, np.float32)
    if np.linalg.norm(b - a) < 1e-6:
        mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_SPHERE, np.array([r, r, r]), a,
                            np.eye(3).ravel(), color)
    else:
        mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3), np.zeros(3),
                            np.eye(3).ravel(), color)
        mujoco.mjv_connector(g, mujoco.mjtGeom.mjGEOM_CAPSULE, r, a, b)
    scn.ngeom += 1


def render_clip(spec: ClipSpec | str, size: tuple[int, int] = (320, 240), fps: float = 30.0,
                seconds: float = 6.0, hide_subject: bool = False,
                motion_dir: Path | None = None) -> Clip:
    """Render one clip; returns frames, per-frame arrays and the truth dictionary."""
    spec = get_spec(spec) if isinstance(spec, str) else spec
    w, h = int(size[0]), int(size[1])
    if w % 2 or h % 2:
        raise ValueError(f"frame size must be even (H.264 yuv420p), got {w}x{h}")
    t0 = time.perf_counter()
    if spec.subject == "quadruped":
        kin = quad_kinematics(spec, fps, seconds)
    else:
        kin = human_kinematics(spec, fps, seconds, motion_dir)
    cam = camera_path(spec, kin, (w, h))
    model = build_model(spec, kin, cam, (w, h))
    data = mujoco.MjData(model)
    arrays: dict[str, list] = {k: [] for k in ("root_pos", "yaw", "torso_height", "foot_heights",
                                               "foot_rel", "cam_pos", "cam_mat")}
    quad = _QuadProbe(model, data, kin) if spec.subject == "quadruped" else None
    bones = None if quad is not None or hide_subject else [
        (joint(kin.joints, kin.joint_names, a), joint(kin.joints, kin.joint_names, b), r, c) for a, b, r, c in H_BONES]
    frames = _render_frames(model, data, kin, cam, (w, h), hide_subject, bones, quad, arrays)
    if quad is None:
        _human_arrays(kin, arrays)
    out = {k: np.asarray(v, np.float64) for k, v in arrays.items()}
    out["yaw"] = np.unwrap(out["yaw"])
    out["t"] = kin.t
    out["cam_fovy"] = cam.fovy.astype(np.float64)
    out["subject_px"] = _project(out["root_pos"], out["cam_pos"], out["cam_mat"], out["cam_fovy"], (w, h))
    elapsed = time.perf_counter() - t0
    truth = clip_truth(spec, kin, out, fps, (w, h))
    return Clip(spec, frames, fps, out, truth, elapsed)


class _QuadProbe:
    """The quadruped's torso and feet in the model: sets the body length and standing torso
    height on ``kin`` (measured on the model) and records each frame's truth arrays."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, kin: Kinematics):
        kin.body_length = quad_body_length(model)
        kin.body_length_def = "longest horizontal extent standing: nose to tail tip, legs included"
        self.torso_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "torso")
        self.foot_ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"{leg}_foot") for leg in LEGS]
        # Neutral standing torso height, measured on the model.
        data.qpos[:] = quad_standing_qpos()
        mujoco.mj_kinematics(model, data)
        kin.standing_torso_z = float(data.xpos[self.torso_id, 2])

    def record(self, data: mujoco.MjData, arrays: dict[str, list]) -> None:
        root = data.xpos[self.torso_id].copy()
        rmat = data.xmat[self.torso_id].reshape(3, 3)
        feet = data.geom_xpos[self.foot_ids]
        arrays["root_pos"].append(root)
        arrays["yaw"].append(math.atan2(rmat[1, 0], rmat[0, 0]))
        arrays["torso_height"].append(root[2])
        arrays["foot_heights"].append(feet[:, 2] - Q_FOOT_R)
        arrays["foot_rel"].append((feet - root) @ rmat)


def _render_frames(model: mujoco.MjModel, data: mujoco.MjData, kin: Kinematics, cam: CameraPath,
                   size: tuple[int, int], hide_subject: bool, bones: list | None,
                   quad: _QuadProbe | None, arrays: dict[str, list]) -> np.ndarray:
    """Every frame [T, H, W, 3] of the clip (shadows, reflections and skybox off), recording the
    camera's pose (and the quadruped's truth arrays) per frame into ``arrays``."""
    w, h = size
    n = len(kin.t)
    frames = np.empty((n, h, w, 3), np.uint8)
    cam_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "cam")
    opt = mujoco.MjvOption()
    if hide_subject:
        opt.geomgroup[2] = 0
    try:
        renderer = mujoco.Renderer(model, height=h, width=w, max_geom=2000)
    except (mujoco.FatalError, ImportError) as exc:
        from vidreward import gl

        raise type(exc)(f"cannot create an OpenGL context ({gl.describe()}): {exc}") from exc
    try:
        flags = renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = 0
        for k in range(n):
            if kin.qpos is not None:
                data.qpos[:] = kin.qpos[k]
            data.mocap_pos[0] = cam.pos[k]
            data.mocap_quat[0] = mat2quat(cam.mat[k])
            model.cam_fovy[cam_id] = cam.fovy[k]
            mujoco.mj_kinematics(model, data)
            mujoco.mj_camlight(model, data)
            renderer.update_scene(data, camera=cam_id, scene_option=opt)
            for pa, pb, r, c in bones or ():
                _add_capsule(renderer.scene, pa[k], pb[k], r, c)
            renderer.render(out=frames[k])
            arrays["cam_pos"].append(data.cam_xpos[cam_id].copy())
            arrays["cam_mat"].append(data.cam_xmat[cam_id].reshape(3, 3).copy())
            if quad is not None:
                quad.record(data, arrays)
    finally:
        renderer.close()
    return frames


def _human_arrays(kin: Kinematics, arrays: dict[str, list]) -> None:
    """The person's truth arrays (root, heading, feet) from the mocap joints."""
    pos, names = kin.joints, kin.joint_names
    root = pos[:, names.index("Hips")]
    yaw = human_yaw(pos, names)
    feet = np.stack([pos[:, names.index(H_FEET[s][1])] for s in ("L", "R")], 1)
    rot_t = np.transpose(rotz(yaw), (0, 2, 1))
    arrays["root_pos"] = root
    arrays["yaw"] = yaw
    arrays["torso_height"] = root[:, 2]
    arrays["foot_heights"] = human_foot_heights(pos, names, kin.extra.pop("foot_ref"))
    arrays["foot_rel"] = np.einsum("tij,tfj->tfi", rot_t, feet - root[:, None])


def write_clip(spec: ClipSpec | str, out_dir: str | Path, size: tuple[int, int] = (320, 240),
               fps: float = 30.0, seconds: float = 6.0, motion_dir: Path | None = None) -> dict[str, Any]:
    """Render ``spec`` and write ``<name>.mp4``, ``<name>.truth.json``, ``<name>.truth.npz``."""
    import imageio.v2 as imageio

    spec = get_spec(spec) if isinstance(spec, str) else spec
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clip = render_clip(spec, size=size, fps=fps, seconds=seconds, motion_dir=motion_dir)
    t0 = time.perf_counter()
    mp4 = out_dir / f"{spec.name}.mp4"
    tmp = out_dir / f".{spec.name}.tmp.mp4"
    imageio.mimsave(tmp, list(clip.frames), fps=fps, codec="libx264", macro_block_size=1,
                    ffmpeg_log_level="error")
    tmp.replace(mp4)
    np.savez_compressed(out_dir / f"{spec.name}.truth.npz",
                        **{k: v for k, v in clip.arrays.items() if k != "foot_rel"},
                        foot_rel=clip.arrays["foot_rel"])
    doc = dict(clip.truth)
    doc["made_by"] = "vidreward.perception.suite (tools/make_motion_suite.py)"
    doc["render_s"] = round(clip.render_s, 3)
    doc["encode_s"] = round(time.perf_counter() - t0, 3)
    (out_dir / f"{spec.name}.truth.json").write_text(json.dumps(doc, indent=2) + "\n")
    return doc
