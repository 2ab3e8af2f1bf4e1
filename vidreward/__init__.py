"""vidreward: learn robot reward code from expert video."""

from vidreward.gl import configure_headless_gl as _configure_headless_gl

# Before any vidreward submodule imports mujoco, which reads MUJOCO_GL once at import.
_configure_headless_gl()
