"""Confine a process that runs reward code: no secrets, no network, no writes outside its outputs.

:func:`confine_process` is called by every process that executes reward code — the validation
sandbox, training and the rollout — before the code is loaded. It applies, as far as the OS allows
and in this order:

1. ``environment``: the environment is cut down to an allowlist of variables the simulator,
   renderer and thread pools read (:data:`KEEP_ENV`, :data:`KEEP_ENV_PREFIXES`); anything whose
   name looks like a credential (:data:`SECRET_NAME`) is dropped even from that list.
2. ``network``: a new, empty network namespace (``unshare(CLONE_NEWNET)``; as non-root together
   with a new user namespace). Nothing, not even loopback, is reachable from it.
3. ``landlock``: a Landlock ruleset (Linux >= 5.13) that denies creating, writing, truncating,
   renaming or removing files anywhere except beneath ``write_dirs`` (and ``/dev/null``, and
   ``/dev/shm`` where POSIX semaphores live), and on
   ABI >= 4 every TCP bind/connect; on ABI >= 6 abstract unix sockets and signals outside the
   process's own domain. Reads are not restricted (Python and torch must load).

What was applied is returned (and logged by the callers) as a dict ``{layer: True | reason}``;
a layer the kernel refuses is reported, never silently assumed. The reward code's own namespace
(:mod:`vidreward.reward.restricted`) is the primary guard; this is the layer underneath it.
Landlock binds the calling thread and the threads and processes it starts afterwards: call this
from the thread that runs the reward code (the main thread) before worker pools start.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import re
from pathlib import Path
from typing import Iterable

log = logging.getLogger("vidreward.confine")

KEEP_ENV = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "PWD",
        "PYTHONPATH", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "VIRTUAL_ENV",
        "LD_LIBRARY_PATH", "PYOPENGL_PLATFORM", "EGL_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY",
        "XDG_RUNTIME_DIR", "GALLIUM_DRIVER", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS", "CI", "NO_COLOR", "COLUMNS", "IMAGEIO_FFMPEG_EXE",
    }
)
KEEP_ENV_PREFIXES = ("LC_", "MUJOCO_", "MESA_", "LIBGL_", "OPENBLAS_", "VIDREWARD_", "MENAGERIE_")
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASS|CRED|AUTH|COOKIE|SESSION|PRIVATE|CERT", re.I)

SHARED_MEMORY_DIR = Path("/dev/shm")
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
# filesystem rights Landlock handles that change the file system (bit numbers from linux/landlock.h)
_WRITE_RIGHTS_V1 = sum(1 << b for b in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))
_REFER, _TRUNCATE = 1 << 13, 1 << 14
_FILE_WRITE = (1 << 1) | _TRUNCATE  # rights that apply to a single file (for /dev/null)
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def scrub_environment(environ: dict[str, str] | None = None) -> list[str]:
    """Remove every variable not on the allowlist (or that looks like a credential); return names."""
    env = os.environ if environ is None else environ
    dropped = [
        name for name in list(env)
        if is_secret_name(name) or not (name in KEEP_ENV or name.startswith(KEEP_ENV_PREFIXES))
    ]
    for name in dropped:
        del env[name]
    return sorted(dropped)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _errno_text() -> str:
    return os.strerror(ctypes.get_errno())


def isolate_network() -> bool | str:
    """Move this process into a new network namespace with no interfaces up."""
    libc = _libc()
    if libc.unshare(CLONE_NEWNET) == 0:
        return True
    first = _errno_text()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:  # unprivileged, single-threaded only
        return True
    return f"unshare refused ({first}; with a user namespace: {_errno_text()})"


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is absent or disabled."""
    calls = _SYSCALLS.get(platform.machine())
    if calls is None:
        return 0
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(ctypes.c_long(calls[0]), None, ctypes.c_size_t(0),
                       ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(int(abi), 0)


def restrict_writes(write_dirs: Iterable[str | Path]) -> bool | str:
    """Landlock: writes only beneath ``write_dirs`` (and to /dev/null); no TCP where supported."""
    abi = landlock_abi()
    if abi < 1:
        return "Landlock is not available in this kernel"
    create, add_rule, restrict = _SYSCALLS[platform.machine()]
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    dir_rights = _WRITE_RIGHTS_V1 | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(dir_rights, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    fd = libc.syscall(ctypes.c_long(create), ctypes.byref(attr), ctypes.c_size_t(size),
                      ctypes.c_uint32(0))
    if fd < 0:
        return f"landlock_create_ruleset failed: {_errno_text()}"
    try:
        targets = [(Path(d), dir_rights) for d in write_dirs] + [(Path(os.devnull), _FILE_WRITE & dir_rights)]
        if SHARED_MEMORY_DIR.is_dir():  # POSIX semaphores (multiprocessing locks of the log writers)
            targets.append((SHARED_MEMORY_DIR, dir_rights))
        for path, rights in targets:
            path_fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneathAttr(rights, path_fd)
                if libc.syscall(ctypes.c_long(add_rule), ctypes.c_int(fd),
                                ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                                ctypes.c_uint32(0)) != 0:
                    return f"landlock_add_rule({path}) failed: {_errno_text()}"
            finally:
                os.close(path_fd)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"prctl(PR_SET_NO_NEW_PRIVS) failed: {_errno_text()}"
        if libc.syscall(ctypes.c_long(restrict), ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            return f"landlock_restrict_self failed: {_errno_text()}"
    finally:
        os.close(fd)
    return True


_applied_to: list[Path] | None = None  # the write dirs of the confinement this process already has


def confine_process(write_dirs: Iterable[str | Path] = (), network: bool = True) -> dict[str, object]:
    """Apply every layer described in the module docstring; return what each one did.

    A process confined before to directories that contain every requested one is not confined
    again (Landlock allows only 16 stacked rulesets per process).
    """
    global _applied_to
    dirs = [Path(d).resolve() for d in write_dirs]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    if _applied_to is not None and all(any(d.is_relative_to(a) for a in _applied_to) for d in dirs):
        return {"environment": scrub_environment(), "network": True, "landlock": True,
                "already": True}
    applied: dict[str, object] = {"environment": scrub_environment()}
    applied["network"] = isolate_network() if network else "not requested"
    applied["landlock"] = restrict_writes(dirs)
    if applied["landlock"] is True:
        _applied_to = dirs
    for layer in ("network", "landlock"):
        if applied[layer] is not True:
            log.warning("reward-code confinement: %s not applied: %s", layer, applied[layer])
    log.info("reward code confined: %d environment variable(s) removed, network isolated: %s, "
             "writes limited to %s: %s", len(applied["environment"]), applied["network"] is True,
             [str(d) for d in dirs], applied["landlock"] is True)
    return applied
