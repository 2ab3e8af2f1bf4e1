"""The scene of a clip: plain, checkered or cluttered floor (noise textures, scattered objects
around the path) and the MuJoCo model holding subject and camera."""

from __future__ import annotations



import numpy as np
import vidreward  # noqa: F401  (sets MUJOCO_GL before the first import of mujoco)
import mujoco  # noqa: E402

from vidreward.perception.suite.camera_path import CameraPath, FOVY_DEG
from vidreward.perception.suite.kinematics import Kinematics
from vidreward.perception.suite.quadruped import quad_xml
from vidreward.perception.suite.specs import ClipSpec


def _periodic_noise(rng: np.random.Generator, n: int, res: int) -> np.ndarray:
    import cv2

    g = rng.random((res, res)).astype(np.float32)
    big = cv2.resize(np.tile(g, (3, 3)), (3 * n, 3 * n), interpolation=cv2.INTER_CUBIC)
    return big[n:2 * n, n:2 * n]


def noise_texture(rng: np.random.Generator, n: int = 256) -> np.ndarray:
    """Seamless earthy noise texture uint8 [n, n, 3] for the cluttered floor."""
    tone = sum(_periodic_noise(rng, n, r) * wgt for r, wgt in ((4, 1.0), (8, .6), (16, .45), (32, .3),
                                                                (64, .2)))
    tone = (tone - tone.min()) / (np.ptp(tone) + 1e-9)
    hue = _periodic_noise(rng, n, 6)
    hue = (hue - hue.min()) / (np.ptp(hue) + 1e-9)
    soil = np.array([0.42, 0.36, 0.28])
    grass = np.array([0.40, 0.46, 0.30])
    light = np.array([0.70, 0.66, 0.56])
    base = soil[None, None] * (1 - hue[..., None]) + grass[None, None] * hue[..., None]
    img = base * (1 - tone[..., None] * 0.8) + light[None, None] * tone[..., None] * 0.8
    img = img + rng.normal(0, 0.035, size=(n, n, 1))  # fine grain
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _clutter(rng: np.random.Generator, kin: Kinematics, cam: CameraPath) -> list[str]:
    """XML geoms for static boxes, cylinders and rocks off the subject's path and line of sight."""
    track = kin.track[:: max(len(kin.track) // 40, 1)]
    campos = cam.pos[:: max(len(cam.pos) // 40, 1), :2]
    pts = np.concatenate([track, campos], 0)
    lo, hi = pts.min(0) - 4.0, pts.max(0) + np.array([4.0, 6.0])
    area = float(np.prod(hi - lo))
    clear = 0.5 * max(kin.body_length, 0.9) + 0.15
    scale = 1.0 if kin.body_length < 1.2 else 1.4  # bigger objects around a human
    geoms = []
    for _ in range(int(area * 1.2)):
        p = rng.uniform(lo, hi)
        if np.min(np.linalg.norm(track - p, axis=1)) < clear:
            continue
        if np.min(np.linalg.norm(campos - p, axis=1)) < 1.0:
            continue
        a, b = campos, track[np.linspace(0, len(track) - 1, len(campos)).astype(int)]
        ab = b - a
        u = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0, 1)
        near = u > 0.6  # low objects block the view only close to the subject
        if near.any() and np.min(np.linalg.norm(a + ab * u[:, None] - p, axis=1)[near]) < 0.4:
            continue
        hsv = (rng.random(), rng.uniform(0.25, 0.75), rng.uniform(0.3, 0.9))
        import colorsys

        rgb = colorsys.hsv_to_rgb(*hsv)
        rgba = f"{rgb[0]:.3f} {rgb[1]:.3f} {rgb[2]:.3f} 1"
        kind = rng.choice(["box", "cylinder", "rock", "rock"])
        yaw = rng.uniform(0, 180)
        if kind == "box":
            sx, sy, sz = rng.uniform(0.04, 0.18, 3) * scale
            g = (f'<geom type="box" size="{sx:.3f} {sy:.3f} {sz:.3f}" pos="{p[0]:.3f} {p[1]:.3f} '
                 f'{sz:.3f}" euler="0 0 {yaw:.1f}" rgba="{rgba}"/>')
        elif kind == "cylinder":
            r, hz = rng.uniform(0.03, 0.12) * scale, rng.uniform(0.05, 0.2) * scale
            g = (f'<geom type="cylinder" size="{r:.3f} {hz:.3f}" pos="{p[0]:.3f} {p[1]:.3f} {hz:.3f}"'
                 f' rgba="{rgba}"/>')
        else:
            sx, sy, sz = np.array([rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.16),
                                   rng.uniform(0.03, 0.1)]) * scale
            tilt = rng.uniform(-20, 20, 2)
            g = (f'<geom type="ellipsoid" size="{sx:.3f} {sy:.3f} {sz:.3f}" pos="{p[0]:.3f} '
                 f'{p[1]:.3f} {0.4 * sz:.3f}" euler="{tilt[0]:.1f} {tilt[1]:.1f} {yaw:.1f}" '
                 f'rgba="{rgba}"/>')
        geoms.append(g)
    return geoms


def scene_xml(spec: ClipSpec, kin: Kinematics, cam: CameraPath, size: tuple[int, int]) -> str:
    rng = np.random.default_rng(spec.rng_seed)
    w, h = size
    if spec.background == "plain":
        asset = '<material name="floor" rgba="0.60 0.62 0.57 1" specular="0" shininess="0"/>'
    elif spec.background == "checkered":
        asset = ('<texture name="floor" type="2d" builtin="checker" width="256" height="256" '
                 'rgb1="0.72 0.72 0.68" rgb2="0.45 0.47 0.50"/>'
                 '<material name="floor" texture="floor" texrepeat="1 1" texuniform="true" '
                 'specular="0" shininess="0"/>')
    else:
        asset = ('<texture name="floor" type="2d" builtin="flat" width="256" height="256" '
                 'rgb1="0.5 0.5 0.5"/>'
                 '<material name="floor" texture="floor" texrepeat="0.5 0.5" texuniform="true" '
                 'specular="0" shininess="0"/>')
    clutter = "\n    ".join(_clutter(rng, kin, cam)) if spec.background == "cluttered" else ""
    subject = quad_xml() if spec.subject == "quadruped" else ""
    return f"""<mujoco model="{spec.name}">
  <compiler angle="degree"/>
  <statistic extent="2" center="0 0 0.5"/>
  <visual>
    <global offwidth="{max(w, 640)}" offheight="{max(h, 480)}" fovy="{FOVY_DEG}"/>
    <quality offsamples="0"/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.45 0.45 0.45" specular="0 0 0"/>
    <map znear="0.01" zfar="60"/>
  </visual>
  <default>
    <geom contype="0" conaffinity="0" group="0"/>
    <default class="subject"><geom group="2"/></default>
  </default>
  <asset>{asset}</asset>
  <worldbody>
    <light directional="true" pos="0 0 10" dir="-0.3 0.4 -1" diffuse="0.55 0.55 0.55"
           specular="0.05 0.05 0.05" castshadow="false"/>
    <geom name="floor" type="plane" size="60 60 0.1" material="floor"/>
    {clutter}
    <body name="cam_rig" mocap="true"><camera name="cam" fovy="{FOVY_DEG}"/></body>{subject}
  </worldbody>
</mujoco>"""


def build_model(spec: ClipSpec, kin: Kinematics, cam: CameraPath, size: tuple[int, int]) -> mujoco.MjModel:
    mspec = mujoco.MjSpec.from_string(scene_xml(spec, kin, cam, size))
    if spec.background == "cluttered":
        tex = mspec.texture("floor")
        img = noise_texture(np.random.default_rng(spec.rng_seed + 7), int(tex.width))
        tex.builtin = mujoco.mjtBuiltin.mjBUILTIN_NONE
        tex.data = img.tobytes()
    return mspec.compile()
