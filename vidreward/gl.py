"""Pick MuJoCo's offscreen OpenGL backend on a machine without a display.

MuJoCo reads ``MUJOCO_GL`` once, when ``mujoco`` is first imported, and otherwise defaults to GLFW,
which needs a display. :func:`configure_headless_gl` runs from ``vidreward/__init__.py`` (before
any vidreward module imports mujoco), so every entry point (Snakemake scripts, the Makefile,
tests, a plain ``python -c``) renders headless without setting anything by hand.

Rules, in order:

* ``MUJOCO_GL`` already set (to anything) -> left alone: the user's choice wins.
* ``DISPLAY`` or ``WAYLAND_DISPLAY`` set, or not Linux -> left alone (MuJoCo's default works).
* ``mujoco`` already imported -> left alone: it has read ``MUJOCO_GL`` already, so setting it
  now would only misreport the backend in use.
* otherwise ``egl`` if libEGL loads, else ``osmesa`` if libOSMesa loads; ``PYOPENGL_PLATFORM`` is
  set to the same value when unset (MuJoCo's own egl/osmesa modules do this too; a different
  pre-set value restricts the choice to that backend, as MuJoCo would refuse a mismatch).

The decision is kept in :data:`decision` (``backend`` and ``reason``) for error messages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Callable, Mapping, MutableMapping

# Candidate backends with the shared libraries that provide them (sonames first: dlopen of a
# soname is fast; ctypes.util.find_library is the slow fallback, run only when those fail).
BACKENDS: dict[str, tuple[tuple[str, ...], str]] = {
    "egl": (("libEGL.so.1", "libEGL.so"), "EGL"),
    "osmesa": (("libOSMesa.so.8", "libOSMesa.so.6", "libOSMesa.so"), "OSMesa"),
}

decision: dict[str, str | None] = {"backend": None, "reason": "not run"}


def library_loads(backend: str) -> bool:
    """Whether the shared library behind ``backend`` ("egl" or "osmesa") can be loaded."""
    sonames, short = BACKENDS[backend]
    for name in sonames:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            pass
    found = ctypes.util.find_library(short)
    if found:
        try:
            ctypes.CDLL(found)
            return True
        except OSError:
            pass
    return False


def choose_backend(
    environ: Mapping[str, str],
    loads: Callable[[str], bool] = library_loads,
    mujoco_imported: bool = False,
    platform: str = sys.platform,
) -> tuple[str | None, str]:
    """``(backend or None, reason)`` for ``environ``; pure apart from calling ``loads``."""
    if environ.get("MUJOCO_GL"):
        return None, f"MUJOCO_GL={environ['MUJOCO_GL']!r} set by the user"
    if not platform.startswith("linux"):
        return None, f"platform {platform}: MuJoCo's default backend is used"
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        if environ.get(var):
            return None, f"{var} is set: MuJoCo's default (GLFW) backend is used"
    if mujoco_imported:
        return None, ("mujoco was imported before vidreward with MUJOCO_GL unset and no display; "
                      "set MUJOCO_GL=egl (or osmesa) before the first 'import mujoco'")
    pyopengl = (environ.get("PYOPENGL_PLATFORM") or "").lower().strip()
    candidates = [pyopengl] if pyopengl in BACKENDS else list(BACKENDS)
    if pyopengl and pyopengl not in BACKENDS:
        return None, (f"PYOPENGL_PLATFORM={pyopengl!r} is set and is neither egl nor osmesa; "
                      "MUJOCO_GL left unset")
    for backend in candidates:
        if loads(backend):
            return backend, f"no display; lib{BACKENDS[backend][1]} loads"
    return None, (f"no display and no offscreen OpenGL library loads (tried "
                  f"{', '.join('lib' + BACKENDS[b][1] for b in candidates)}); install Mesa's "
                  "libegl1 or libosmesa6, or set MUJOCO_GL")


def configure_headless_gl(
    environ: MutableMapping[str, str] | None = None,
    loads: Callable[[str], bool] = library_loads,
    mujoco_imported: bool | None = None,
) -> str | None:
    """Set ``MUJOCO_GL``/``PYOPENGL_PLATFORM`` in ``environ`` (default ``os.environ``) when
    headless; return the backend set, or None when nothing was changed."""
    real = environ is None
    environ = os.environ if environ is None else environ
    if mujoco_imported is None:
        mujoco_imported = "mujoco" in sys.modules
    backend, reason = choose_backend(environ, loads, mujoco_imported)
    if backend is not None:
        environ["MUJOCO_GL"] = backend
        if not environ.get("PYOPENGL_PLATFORM"):
            environ["PYOPENGL_PLATFORM"] = backend
    if real:
        decision.update(backend=backend, reason=reason)
    return backend


def describe() -> str:
    """One line on the OpenGL backend for error messages."""
    how = "set by vidreward: " if decision["backend"] else ""
    return f"MUJOCO_GL={os.environ.get('MUJOCO_GL')!r} ({how}{decision['reason']})"
