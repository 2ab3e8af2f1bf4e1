"""BVH motion capture: parse, forward kinematics, and a side-view silhouette renderer.

Used to turn real human motion capture (CMU Graphics Lab database, BVH conversion) into a small
offline expert clip: a fixed camera looks perpendicular to the subject's direction of travel, the
background is plain and light, the ground line is drawn, limbs and head are thick and dark, so the
silhouette segments cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidreward.errors import ClipError


@dataclass
class BVHJoint:
    name: str
    parent: int  # -1 for the root
    offset: np.ndarray  # [3], in the parent's frame
    channels: list[str]  # e.g. ["Xposition", ..., "Zrotation", "Yrotation", "Xrotation"]
    end_site: bool = False


@dataclass
class BVHMotion:
    joints: list[BVHJoint]
    frame_time: float  # seconds per frame
    channels: np.ndarray  # [F, C] all channel values, in joint order
    source: str = ""

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def num_frames(self) -> int:
        return int(self.channels.shape[0])

    @property
    def parents(self) -> np.ndarray:
        return np.array([j.parent for j in self.joints])

    def index(self, name: str) -> int:
        for i, j in enumerate(self.joints):
            if j.name == name:
                return i
        raise ClipError(f"{self.source}: no joint named {name!r}")


def load_bvh(path: str | Path) -> BVHMotion:
    """Parse a BVH file (HIERARCHY + MOTION). End sites become joints named ``<parent>_end``."""
    path = Path(path)
    try:
        tokens = path.read_text().split()
    except OSError as exc:
        raise ClipError(f"{path}: cannot read BVH file ({exc})") from exc
    if not tokens or tokens[0] != "HIERARCHY":
        raise ClipError(f"{path}: not a BVH file (no HIERARCHY header)")
    joints: list[BVHJoint] = []
    stack: list[int] = []
    pos = 1
    try:
        while tokens[pos] != "MOTION":
            tok = tokens[pos]
            if tok in ("ROOT", "JOINT"):
                joints.append(BVHJoint(tokens[pos + 1], stack[-1] if stack else -1, np.zeros(3), []))
                pos += 2
            elif tok == "End":  # "End Site"
                parent = stack[-1]
                joints.append(BVHJoint(joints[parent].name + "_end", parent, np.zeros(3), [], True))
                pos += 2
            elif tok == "{":
                stack.append(len(joints) - 1)
                pos += 1
            elif tok == "}":
                stack.pop()
                pos += 1
            elif tok == "OFFSET":
                joints[stack[-1]].offset = np.array([float(v) for v in tokens[pos + 1: pos + 4]])
                pos += 4
            elif tok == "CHANNELS":
                n = int(tokens[pos + 1])
                joints[stack[-1]].channels = tokens[pos + 2: pos + 2 + n]
                pos += 2 + n
            else:
                raise ClipError(f"{path}: unexpected token {tok!r} in HIERARCHY")
        if tokens[pos + 1] != "Frames:" or tokens[pos + 3:pos + 5] != ["Frame", "Time:"]:
            raise ClipError(f"{path}: malformed MOTION header")
        num_frames = int(tokens[pos + 2])
        frame_time = float(tokens[pos + 5])
        values = np.array(tokens[pos + 6:], dtype=np.float64)
    except (IndexError, ValueError) as exc:
        raise ClipError(f"{path}: malformed BVH ({exc})") from exc
    num_channels = sum(len(j.channels) for j in joints)
    if num_frames <= 0 or values.size != num_frames * num_channels:
        raise ClipError(
            f"{path}: MOTION has {values.size} values, expected {num_frames} frames x {num_channels} channels"
        )
    if frame_time <= 0:
        raise ClipError(f"{path}: Frame Time must be positive, got {frame_time}")
    return BVHMotion(joints, frame_time, values.reshape(num_frames, num_channels), str(path))


def _axis_rotation(axis: str, angle_deg: np.ndarray) -> np.ndarray:
    """Rotation matrices [F, 3, 3] about a principal axis."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones_like(a), np.zeros_like(a)
    if axis == "X":
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == "Y":
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    else:
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def forward_kinematics(motion: BVHMotion) -> np.ndarray:
    """World positions ``[F, J, 3]`` of every joint (BVH units, BVH axes: usually Y up).

    Rotation channels compose in the order listed (``Zrotation Yrotation Xrotation`` means
    ``R = Rz @ Ry @ Rx``); a joint sits at ``parent_pos + parent_R @ offset``.
    """
    f = motion.num_frames
    n = len(motion.joints)
    pos = np.zeros((f, n, 3))
    rot = np.zeros((f, n, 3, 3))
    col = 0
    for i, joint in enumerate(motion.joints):
        local_t = np.broadcast_to(joint.offset, (f, 3)).copy()
        local_r = np.broadcast_to(np.eye(3), (f, 3, 3)).copy()
        for ch in joint.channels:
            values = motion.channels[:, col]
            col += 1
            if ch.endswith("position"):
                local_t[:, "XYZ".index(ch[0])] = values if joint.parent < 0 else local_t[:, "XYZ".index(ch[0])] + values
            elif ch.endswith("rotation"):
                local_r = local_r @ _axis_rotation(ch[0], values)
            else:
                raise ClipError(f"{motion.source}: unknown channel {ch!r} on joint {joint.name}")
        if joint.parent < 0:
            pos[:, i] = local_t
            rot[:, i] = local_r
        else:
            p = joint.parent
            pos[:, i] = pos[:, p] + np.einsum("fij,fj->fi", rot[:, p], local_t)
            rot[:, i] = rot[:, p] @ local_r
    return pos


def travel_direction(positions: np.ndarray, root: int = 0, up_axis: int = 1) -> np.ndarray:
    """Unit horizontal vector of the root's net displacement over ``positions`` [F, J, 3]."""
    d = positions[-1, root] - positions[0, root]
    d[up_axis] = 0.0
    norm = float(np.linalg.norm(d))
    if norm < 1e-9:
        raise ClipError("motion has no net horizontal travel: cannot choose a side view")
    return d / norm


@dataclass
class SideViewStyle:
    height_px: int = 240
    background: tuple[int, int, int] = (235, 235, 228)
    ink: tuple[int, int, int] = (30, 30, 40)
    ground: tuple[int, int, int] = (120, 120, 120)
    limb_radius: float = 0.045  # fraction of the subject's standing height
    head_radius: float = 0.065
    margin: float = 0.12  # fraction of the frame kept free around the motion


def _draw_capsule(img: np.ndarray, a: np.ndarray, b: np.ndarray, r: float, color: np.ndarray) -> None:
    """Anti-aliased filled capsule from pixel point ``a`` to ``b`` with radius ``r`` (in place)."""
    h, w, _ = img.shape
    x0 = int(max(np.floor(min(a[0], b[0]) - r - 1), 0))
    x1 = int(min(np.ceil(max(a[0], b[0]) + r + 2), w))
    y0 = int(max(np.floor(min(a[1], b[1]) - r - 1), 0))
    y1 = int(min(np.ceil(max(a[1], b[1]) + r + 2), h))
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64) + 0.5
    d = b - a
    ll = float(d @ d)
    if ll < 1e-12:
        t = np.zeros_like(xs)
    else:
        t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / ll, 0.0, 1.0)
    dist = np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))
    alpha = np.clip(r - dist + 0.5, 0.0, 1.0)[..., None]
    patch = img[y0:y1, x0:x1].astype(np.float64)
    img[y0:y1, x0:x1] = (patch * (1 - alpha) + color * alpha + 0.5).astype(np.uint8)


def _drawn_bones(motion: BVHMotion) -> tuple[list[tuple[int, int]], int | None]:
    """``(bones as (joint, parent) pairs, head joint or None)`` of what the side view draws."""
    parents = motion.parents
    names = [j.name for j in motion.joints]
    head = names.index("Head") if "Head" in names else None
    bones = [(i, p) for i, p in enumerate(parents) if p >= 0 and not np.allclose(motion.joints[i].offset, 0)]
    # Skip fingers and thumbs: sub-pixel at this scale and noisy.
    skip = ("Finger", "Thumb", "LFingers", "RFingers")
    bones = [(i, p) for i, p in bones if not any(s in names[i] for s in skip)]
    return bones, head


def _background(style: SideViewStyle, h_px: int, w_px: int, ground_row: float) -> np.ndarray:
    """The empty frame: background colour and the ground line under ``ground_row``."""
    bg = np.empty((h_px, w_px, 3), np.uint8)
    bg[:] = style.background
    gr = int(round(ground_row))
    bg[gr + 1: gr + 3, :] = style.ground
    return bg


def render_side_view(
    motion: BVHMotion,
    positions: np.ndarray | None = None,
    frame_range: tuple[int, int] | None = None,
    fps: float = 25.0,
    style: SideViewStyle | None = None,
    up_axis: int = 1,
) -> np.ndarray:
    """Render ``motion`` seen from the side, fixed camera, to frames ``uint8 [T, H, W, 3]``.

    The camera is orthographic and looks along the horizontal axis perpendicular to the net direction
    of travel over ``frame_range`` (mocap frame indices, end exclusive); the subject travels left to
    right. The frame spans the whole range of motion so the camera never moves. Frames are resampled
    from the mocap rate to ``fps`` (nearest mocap frame).
    """
    style = style or SideViewStyle()
    pos = forward_kinematics(motion) if positions is None else positions
    lo, hi = frame_range or (0, motion.num_frames)
    if not 0 <= lo < hi <= motion.num_frames:
        raise ClipError(f"{motion.source}: frame range {lo}..{hi} outside 0..{motion.num_frames}")
    pos = pos[lo:hi]
    fwd = travel_direction(pos, up_axis=up_axis)
    u = pos @ fwd  # horizontal screen coordinate (along travel)
    v = pos[..., up_axis]  # vertical (up)
    ground = float(v.min())
    stand = float(np.percentile(v.max(axis=1) - v.min(axis=1), 90))  # subject height
    h_px = int(style.height_px)
    top = float(v.max()) + style.head_radius * stand
    span_v = (top - ground) / (1.0 - 2 * style.margin)
    scale = h_px / span_v  # pixels per BVH unit
    span_u = float(u.max() - u.min()) + 2 * style.head_radius * stand
    w_px = int(np.ceil((span_u * scale) / (1.0 - 2 * style.margin) / 2.0) * 2)
    u0 = float(u.min()) - style.head_radius * stand - style.margin * w_px / scale
    ground_row = h_px - style.margin * h_px
    px = (u - u0) * scale
    py = ground_row - (v - ground) * scale

    bones, head = _drawn_bones(motion)
    n_out = max(int(np.floor((hi - lo) / motion.fps * fps)), 1)
    src_idx = np.minimum(np.round(np.arange(n_out) / fps * motion.fps).astype(int), hi - lo - 1)
    bg = _background(style, h_px, w_px, ground_row)
    ink = np.array(style.ink, np.float64)
    r_limb = max(style.limb_radius * stand * scale, 1.0)
    r_head = style.head_radius * stand * scale
    frames = np.empty((n_out, h_px, w_px, 3), np.uint8)
    for k, f in enumerate(src_idx):
        img = bg.copy()
        for i, p in bones:
            _draw_capsule(img, np.array([px[f, p], py[f, p]]), np.array([px[f, i], py[f, i]]), r_limb, ink)
        if head is not None:
            c = np.array([px[f, head], py[f, head]])
            _draw_capsule(img, c, c, r_head, ink)
        frames[k] = img
    return frames
