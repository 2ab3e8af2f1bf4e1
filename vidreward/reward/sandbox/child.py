"""The sandbox process: limits, blocked I/O and confinement, then one run of the reward code in the
restricted execution model (see :mod:`vidreward.reward.sandbox`)."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

from vidreward.reward.sandbox.result import check_result

NOFILE_LIMIT = 32
TRACEBACK_TAIL_CHARS = 2000
MEMORY_ERROR_MARKERS = (
    "can't allocate memory",
    "cannot allocate memory",
    "not enough memory",
    "out of memory",
    "bad_alloc",
)


def _deny(what: str):
    def denied(*args: Any, **kwargs: Any):
        raise PermissionError(f"{what} is not allowed in reward code")

    return denied


def _block_io() -> None:
    """Replace file, process and network entry points with functions that raise."""
    import builtins
    import io
    import socket

    builtins.open = _deny("open()")
    io.open = _deny("io.open()")
    socket.socket = _deny("socket.socket()")
    socket.create_connection = _deny("socket.create_connection()")
    socket.socketpair = _deny("socket.socketpair()")
    socket.fromfd = _deny("socket.fromfd()")
    for name in (
        "open", "system", "popen", "fork", "forkpty", "execv", "execve", "execl", "execle",
        "execlp", "execlpe", "execvp", "execvpe", "spawnl", "spawnle", "spawnv", "spawnve",
        "posix_spawn", "posix_spawnp", "kill", "killpg", "remove", "unlink", "rmdir", "rename",
        "replace", "mkdir", "makedirs", "chmod", "chown", "symlink", "link", "truncate",
        "listdir", "scandir", "chdir",
    ):
        if hasattr(os, name):
            setattr(os, name, _deny(f"os.{name}()"))
    subprocess.Popen = _deny("subprocess.Popen()")  # type: ignore[misc]


def _vm_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _apply_limits(timeout_s: float, memory_mb: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE_LIMIT, NOFILE_LIMIT))
    limit_as = _vm_bytes() + int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_now = used.ru_utime + used.ru_stime
    cpu_soft = int(cpu_now + float(timeout_s)) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_soft, cpu_soft + 2))


def _is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(m in text for m in MEMORY_ERROR_MARKERS)


def _traceback_tail(exc: BaseException, origin: str) -> str:
    import traceback

    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    # keep the frames of the reward code itself, not of this module
    keep = [ln for ln in lines if origin in ln or not ln.startswith("  File ")]
    text = "".join(keep).strip()
    return text[-TRACEBACK_TAIL_CHARS:]


def run_child(payload: dict[str, Any]) -> dict[str, Any]:
    origin = str(payload.get("origin", "<reward>"))
    try:
        import torch

        from vidreward.errors import RewardCodeError
        from vidreward.reward.confine import confine_process
        from vidreward.reward.restricted import exec_reward, string_literals
        from vidreward.reward.sample_state import RobotDims, sample_state_from_dims

        torch.set_num_threads(1)
        dims = RobotDims.from_dict(payload["dims"])
        n = int(payload.get("num_envs", 8))
        state = sample_state_from_dims(dims, num_envs=n, seed=int(payload.get("seed", 0)), shuffle=True)
        originals = {k: v.clone() for k, v in state.items() if isinstance(v, torch.Tensor)}
        code = str(payload["code"])
        timeout_s = float(payload.get("timeout_s", 10.0))
        import inspect  # imported before the limits and the I/O block
        import linecache
        import traceback  # noqa: F401 - used by _traceback_tail after the I/O block

        # tracebacks show the reward code's own lines without reading any file
        linecache.cache[origin] = (len(code), None, code.splitlines(True), origin)

        if payload.get("confine", True):
            confine_process(write_dirs=(), network=True)
        _apply_limits(timeout_s, int(payload.get("memory_mb", 2048)))
        _block_io()
    except Exception as exc:  # the sandbox itself is broken: not the reward code's fault
        return {"ok": False, "check": "sandbox", "message": f"{type(exc).__name__}: {exc}"}

    for sig in (signal.SIGALRM, signal.SIGXCPU, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)  # SIGALRM's default action ends the process
    try:
        fn = exec_reward(code, origin, module_name="reward_code")
        params = list(inspect.signature(fn).parameters)
        unknown = [p for p in params if p not in state]
        if unknown:
            return {"ok": False, "check": "signature", "message": f"compute_reward asks for unknown field(s) {unknown}"}
        result = fn(**{p: state[p] for p in params})
        checked = check_result(result, n, originals, state, string_literals(code), origin)
    except RewardCodeError as exc:  # refused by the restricted compile or the name checks
        signal.setitimer(signal.ITIMER_REAL, 0)
        return {"ok": False, "check": exc.check, "message": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - any failure of untrusted code is reported
        signal.setitimer(signal.ITIMER_REAL, 0)
        if _is_memory_error(exc):
            return {"ok": False, "check": "memory",
                    "message": f"ran out of memory (limit {payload.get('memory_mb')} MB above the "
                    f"interpreter): {type(exc).__name__}: {str(exc)[:300]}"}
        return {"ok": False, "check": "runtime",
                "message": f"raised {type(exc).__name__}: {str(exc)[:500]}\n{_traceback_tail(exc, origin)}"}
    signal.setitimer(signal.ITIMER_REAL, 0)
    return checked
