"""The evidence record: one measured value with its confidence (:class:`Quantity`), the record
of a clip (:class:`MotionEvidence`) and what is known of the camera's lens (:class:`CameraModel`).
The conventions of each quantity are in :mod:`vidreward.perception.evidence`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FOVY_DEG = 45.0
QUANTITY_KEYS = (
    "direction_deg", "speed_bl_s", "lateral_speed_bl_s", "depth_speed_bl_s", "turn_rate_deg_s",
    "bounce_amplitude_bl", "bounce_frequency_hz", "airborne_fraction", "cadence_hz", "height_ratio",
    "axis_motion", "camera_motion",
)


@dataclass(frozen=True)
class CameraModel:
    """What is known of the camera's lens. Depth (travel toward or away from the camera) is
    measured from the change of the subject's apparent size, which needs the focal length: by
    default a vertical field of view of ``FOVY_DEG`` over the clip's frame, centred. A crop of a
    wider picture, a telephoto or a wide-angle lens want their own values."""

    fovy_deg: float = FOVY_DEG
    """vertical field of view of the clip's frame, degrees"""
    principal_point: tuple[float, float] | None = None
    """where the optical axis meets the frame, in the clip's pixels (x right, y down); None = the
    frame's centre (an off-centre crop moves it)"""

    def __post_init__(self):
        if not (0.5 <= float(self.fovy_deg) <= 170.0):
            raise ValueError(f"camera field of view {self.fovy_deg} degrees: expected 0.5-170")

    @property
    def assumed(self) -> bool:
        return self.fovy_deg == FOVY_DEG and self.principal_point is None


@dataclass
class Quantity:
    """One measured value, its confidence, and why it is unknown when it is."""

    value: Any
    confidence: float
    unit: str = ""
    unknown: str | None = None

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, float):
            value = round(value, 4)
        return {"value": value, "confidence": round(float(self.confidence), 3), "unit": self.unit,
                "unknown": self.unknown}


def unknown_quantity(unit: str, why: str) -> Quantity:
    """A quantity the clip cannot show, and why."""
    return Quantity(None, 0.0, unit, why)


@dataclass
class MotionEvidence:
    """The evidence record of one clip (``vidreward motion CLIP --json`` prints it)."""

    clip: str
    fps: float
    frames: int
    size: tuple[int, int]
    found_fraction: float
    camera_observed_fraction: float
    quantities: dict[str, Quantity] = field(default_factory=dict)
    lens: CameraModel = field(default_factory=CameraModel)

    def value(self, key: str) -> Any:
        """The value, or None when unknown."""
        q = self.quantities.get(key)
        return None if q is None else q.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "clip": self.clip, "fps": self.fps, "frames": self.frames, "size": list(self.size),
            "found_fraction": round(self.found_fraction, 3),
            "camera_observed_fraction": round(self.camera_observed_fraction, 3),
            "conventions": {"direction_deg": "0 = screen right, 90 = away from the camera, "
                            "-90 = toward it", "turn_rate_deg_s": "+ = counter-clockwise seen "
                            "from above"},
            "lens": {"fovy_deg": self.lens.fovy_deg,
                     "principal_point": None if self.lens.principal_point is None else list(self.lens.principal_point),
                     "assumed": self.lens.assumed},
            "quantities": {k: q.to_dict() for k, q in self.quantities.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
