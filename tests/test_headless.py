"""Headless rendering: `import vidreward` picks MuJoCo's offscreen backend before mujoco loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from vidreward import gl

GL_VARS = ("MUJOCO_GL", "DISPLAY", "WAYLAND_DISPLAY", "PYOPENGL_PLATFORM")


def _loads(*available: str):
    calls: list[str] = []

    def loads(backend: str) -> bool:
        calls.append(backend)
        return backend in available

    loads.calls = calls  # type: ignore[attr-defined]
    return loads


# ------------------------------------------------------------------------ chooser (fake loaders)
def test_headless_prefers_egl():
    env: dict[str, str] = {}
    assert gl.configure_headless_gl(env, _loads("egl", "osmesa"), mujoco_imported=False) == "egl"
    assert env == {"MUJOCO_GL": "egl", "PYOPENGL_PLATFORM": "egl"}


def test_egl_unavailable_falls_back_to_osmesa():
    env: dict[str, str] = {}
    loads = _loads("osmesa")
    assert gl.configure_headless_gl(env, loads, mujoco_imported=False) == "osmesa"
    assert env == {"MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
    assert loads.calls == ["egl", "osmesa"]


@pytest.mark.parametrize("var", ["DISPLAY", "WAYLAND_DISPLAY"])
def test_display_present_leaves_env_untouched(var):
    env = {var: ":0" if var == "DISPLAY" else "wayland-0"}
    loads = _loads("egl", "osmesa")
    assert gl.configure_headless_gl(env, loads, mujoco_imported=False) is None
    assert env == {var: env[var]} and loads.calls == []


def test_mujoco_gl_set_leaves_env_untouched():
    env = {"MUJOCO_GL": "glfw"}
    loads = _loads("egl", "osmesa")
    assert gl.configure_headless_gl(env, loads, mujoco_imported=False) is None
    assert env == {"MUJOCO_GL": "glfw"} and loads.calls == []


def test_mujoco_already_imported_leaves_env_untouched():
    env: dict[str, str] = {}
    assert gl.configure_headless_gl(env, _loads("egl"), mujoco_imported=True) is None
    assert env == {}
    backend, reason = gl.choose_backend({}, _loads("egl"), mujoco_imported=True)
    assert backend is None and "before the first 'import mujoco'" in reason


def test_no_library_leaves_env_untouched_and_says_why():
    env: dict[str, str] = {}
    assert gl.configure_headless_gl(env, _loads(), mujoco_imported=False) is None
    assert env == {}
    _, reason = gl.choose_backend({}, _loads(), mujoco_imported=False)
    assert "libEGL" in reason and "libOSMesa" in reason


def test_pyopengl_platform_restricts_choice():
    env = {"PYOPENGL_PLATFORM": "osmesa"}
    assert gl.configure_headless_gl(env, _loads("egl", "osmesa"), mujoco_imported=False) == "osmesa"
    assert env == {"MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
    env = {"PYOPENGL_PLATFORM": "glx"}
    assert gl.configure_headless_gl(env, _loads("egl"), mujoco_imported=False) is None
    assert env == {"PYOPENGL_PLATFORM": "glx"}


def test_not_linux_leaves_env_untouched():
    backend, _ = gl.choose_backend({}, _loads("egl"), mujoco_imported=False, platform="darwin")
    assert backend is None


# ------------------------------------------------------------------------- real subprocess render
_CHILD = textwrap.dedent("""
    import json, os, sys
    import vidreward.sim  # imports mujoco (through sim.base), before render.py
    from vidreward.sim import get_robot, make_sim
    assert "vidreward.sim.render" not in sys.modules
    from vidreward.sim.render import render_frames
    import torch
    sim = make_sim("ant", 1, seed=0)
    qpos = []
    for _ in range(3):
        sim.step(torch.zeros(1, 8))
        qpos.append(sim.qpos_qvel()[0][0])
    sim.close()
    import numpy as np
    frames = render_frames("ant", np.array(qpos), size=48)
    print(json.dumps({
        "MUJOCO_GL": os.environ.get("MUJOCO_GL"),
        "PYOPENGL_PLATFORM": os.environ.get("PYOPENGL_PLATFORM"),
        "shape": list(frames.shape),
        "var": [float(f.astype(float).var()) for f in frames],
    }))
""")


def test_render_headless_without_any_gl_env():
    if gl.library_loads("egl"):
        expected = "egl"
    elif os.environ.get("CI", "").lower() == "true":
        pytest.fail("libEGL cannot be loaded: headless rendering is broken on this CI machine "
                    "(install Mesa's libegl1)")
    elif gl.library_loads("osmesa"):
        expected = "osmesa"
    else:
        pytest.skip("no libEGL and no libOSMesa on this machine (this fails under CI=true)")
    env = {k: v for k, v in os.environ.items() if k not in GL_VARS}
    proc = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["MUJOCO_GL"] == expected and out["PYOPENGL_PLATFORM"] == expected
    assert out["shape"] == [3, 48, 48, 3]
    assert all(v > 0 for v in out["var"]), out["var"]
