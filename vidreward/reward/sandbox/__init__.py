"""Run untrusted reward code once, in a separate, resource-limited process.

Parent side: :func:`run_in_sandbox` sends the code and the robot's dimensions as one JSON line to
a small server, ``python -c SERVER_COMMAND`` (``main(["--serve"])``, started once per parent process in
its own session, with a minimal environment: no API keys). The server imports torch once and, for
each request, forks a fresh sandbox process, collects its JSON result through a pipe (never
pickle) and reports it with the process's exit status. The server never runs reward code itself;
it kills a run that outlives its timer, and the parent kills a server that stops answering.

Sandbox process: starts its own session, points stdin/stdout/stderr at /dev/null, clears the
environment, works in an empty temporary directory, builds a sample state batch
(:func:`vidreward.reward.sample_state.sample_state_from_dims`), then — before touching the
untrusted code — applies resource limits (``RLIMIT_AS`` = current size + ``memory_mb``,
``RLIMIT_CPU``, ``RLIMIT_NOFILE``, ``RLIMIT_FSIZE`` = 0, no core dumps), replaces file, process and
socket entry points with functions that raise, arms a real-time timer whose default action kills
the process, confines it (:func:`vidreward.reward.confine.confine_process`: own network namespace,
no writable path), and executes the module in the restricted execution model that training and
rollout use too (:mod:`vidreward.reward.restricted`: curated namespaces, guarded attribute access,
safe builtins). The static allowlist in :mod:`vidreward.reward.validate` runs first; the process
limits are defence in depth.

It checks the return value — ``(reward [N] float finite, {str: float tensor [N] finite})`` — and
that the state tensors were not modified in place, and reports the first failed check.

Modules: this package holds the parent side; ``server.py`` the server, ``child.py`` the sandbox
process, ``result.py`` the checks of the returned value.

``python -m vidreward.reward.sandbox < payload.json`` runs one payload in the current process (the
same checks and limits, no fork) and prints the JSON result: for debugging a reward by hand.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidreward.reward.sandbox.server import MAX_RESULT_BYTES

# the server's entry point (``-m`` would import this module twice: the package imports it first)
SERVER_COMMAND = ("import sys; from vidreward.reward.sandbox.server import main; "
                  "sys.exit(main(['--serve']))")
STARTUP_ALLOWANCE_S = 60.0  # server start (torch import) before the code's own timer starts


@dataclass
class SandboxResult:
    """Outcome of one sandboxed run. ``check`` names the failed check when ``ok`` is False."""

    ok: bool
    check: str = ""
    message: str = ""
    components: list[str] = field(default_factory=list)
    reward_stats: dict[str, float] = field(default_factory=dict)
    component_stats: dict[str, dict[str, float]] = field(default_factory=dict)
    wall_s: float = 0.0


# --------------------------------------------------------------------------------------------
# parent side


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _child_env() -> dict[str, str]:
    """Environment of the server process: no API keys, one thread, the package importable."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }


def _read_line(fd: int, deadline: float) -> bytes | None:
    """One newline-terminated line from ``fd`` before ``deadline``; None on timeout, b"" on EOF."""
    buf = bytearray()
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return bytes(buf) if buf else b""
        buf += chunk
        if len(buf) > MAX_RESULT_BYTES:
            raise RuntimeError("sandbox server sent an oversized reply")
    return bytes(buf)


class _Server:
    """The sandbox server (``main(["--serve"])``): imports torch once, forks one process per run.

    The server itself never executes reward code; each run happens in a fresh fork that is limited
    and killed as described in the module docstring.
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.owner = os.getpid()
        self.lock = threading.Lock()
        atexit.register(self.stop)

    def _start(self) -> subprocess.Popen:
        if self.owner != os.getpid():  # a forked copy of the parent: never share the server's pipes
            self.proc, self.owner = None, os.getpid()
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SERVER_COMMAND],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,  # the server's own failures show in the parent's stderr
                cwd="/",
                env=_child_env(),
                start_new_session=True,
            )
        return self.proc

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and self.owner == os.getpid() and proc.poll() is None:
            try:
                proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()

    def run(self, payload: dict[str, Any], wait_s: float) -> dict[str, Any] | None:
        """The server's reply for one payload; None if it did not answer within ``wait_s``."""
        with self.lock:
            for _attempt in (1, 2):
                proc = self._start()
                try:
                    proc.stdin.write((json.dumps(payload) + "\n").encode())
                    proc.stdin.flush()
                    line = _read_line(proc.stdout.fileno(), time.monotonic() + wait_s)
                except (BrokenPipeError, OSError):
                    line = b""
                if line is None:  # hung: stop it; the next run starts a fresh server
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    self.proc = None
                    return None
                if line:
                    try:
                        return json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise RuntimeError(f"reward sandbox server sent an unreadable reply: {line[:200]!r}") from exc
                proc.wait()  # the server died (EOF): start another once
                self.proc = None
            raise RuntimeError("the reward sandbox server exited unexpectedly twice")


_SERVER = _Server()


def run_in_sandbox(
    code: str,
    dims: dict[str, Any],
    origin: str = "<reward>",
    timeout_s: float = 10.0,
    memory_mb: int = 2048,
    num_envs: int = 8,
    seed: int = 0,
) -> SandboxResult:
    """Execute ``code`` and call its ``compute_reward`` on a sample batch in a separate process.

    ``dims`` is :meth:`vidreward.reward.sample_state.RobotDims.to_dict`. Failures of the reward
    code come back as ``SandboxResult(ok=False, check=...)``; a broken sandbox raises RuntimeError.
    """
    payload = {
        "code": code,
        "origin": origin,
        "dims": dims,
        "timeout_s": float(timeout_s),
        "memory_mb": int(memory_mb),
        "num_envs": int(num_envs),
        "seed": int(seed),
    }
    start = time.monotonic()
    reply = _SERVER.run(payload, float(timeout_s) + STARTUP_ALLOWANCE_S)
    wall = time.monotonic() - start
    return _result_of(reply, wall, origin, timeout_s, memory_mb)


def _result_of(reply: dict[str, Any] | None, wall: float, origin: str, timeout_s: float,
               memory_mb: int) -> SandboxResult:
    """The outcome the server's ``reply`` reports (None: the server did not answer in time)."""
    if reply is None or reply.get("killed"):
        return SandboxResult(
            ok=False, check="timeout", wall_s=wall,
            message=f"did not finish within {timeout_s:g} s (killed after {wall:.1f} s wall clock)",
        )
    if reply.get("oversized"):
        return SandboxResult(
            ok=False, check="components", wall_s=wall,
            message=f"the result is larger than {MAX_RESULT_BYTES} bytes (too many components?)",
        )
    data = reply.get("result")
    if isinstance(data, dict):
        if data.get("check") == "sandbox":
            raise RuntimeError(f"sandbox for {origin}: setup failed: {data.get('message')}")
        return SandboxResult(
            ok=bool(data.get("ok")),
            check=str(data.get("check", "")),
            message=str(data.get("message", "")),
            components=[str(c) for c in data.get("components", [])],
            reward_stats=dict(data.get("reward_stats", {})),
            component_stats=dict(data.get("component_stats", {})),
            wall_s=wall,
        )
    return _result_of_exit(int(reply.get("status", 0)), wall, timeout_s, memory_mb)


def _result_of_exit(rc: int, wall: float, timeout_s: float, memory_mb: int) -> SandboxResult:
    """The outcome of a sandbox process that ended with status ``rc`` (negative: killed by signal
    ``-rc``) without reporting a result."""
    if rc < 0:
        sig = -rc
        if sig in (signal.SIGALRM, signal.SIGXCPU):
            return SandboxResult(
                ok=False, check="timeout", wall_s=wall,
                message=f"did not finish within {timeout_s:g} s "
                f"({'wall-clock' if sig == signal.SIGALRM else 'CPU-time'} limit)",
            )
        if sig == signal.SIGKILL:
            return SandboxResult(
                ok=False, check="memory", wall_s=wall,
                message=f"the process was killed (SIGKILL), most likely for using more than "
                f"{memory_mb} MB of memory",
            )
        if sig == signal.SIGXFSZ:
            return SandboxResult(
                ok=False, check="runtime", wall_s=wall, message="tried to write to a file"
            )
        return SandboxResult(
            ok=False, check="runtime", wall_s=wall,
            message=f"the process crashed with {_signal_name(sig)}",
        )
    return SandboxResult(
        ok=False, check="runtime", wall_s=wall,
        message=f"the process exited with status {rc} without a result",
    )
