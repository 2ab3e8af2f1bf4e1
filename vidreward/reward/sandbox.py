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

``python -m vidreward.reward.sandbox < payload.json`` runs one payload in the current process (the
same checks and limits, no fork) and prints the JSON result: for debugging a reward by hand.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# the server's entry point (``-m`` would import this module twice: the package imports it first)
SERVER_COMMAND = "import sys; from vidreward.reward.sandbox import main; sys.exit(main(['--serve']))"
STARTUP_ALLOWANCE_S = 60.0  # server start (torch import) before the code's own timer starts
SERVER_GRACE_S = 5.0  # the server kills a run this long after its own timer should have
MAX_RESULT_BYTES = 4 * 1024 * 1024
NOFILE_LIMIT = 32
TRACEBACK_TAIL_CHARS = 2000
MEMORY_ERROR_MARKERS = (
    "can't allocate memory",
    "cannot allocate memory",
    "not enough memory",
    "out of memory",
    "bad_alloc",
)


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
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
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
    rc = int(reply.get("status", 0))
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


# --------------------------------------------------------------------------------------------
# child side


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


def _stats(t) -> dict[str, float]:
    t = t.detach().double()
    return {"mean": float(t.mean()), "min": float(t.min()), "max": float(t.max())}


def _corner_cases(rows: list[int], state: dict[str, Any]) -> str:
    """Which of the sample batch's corner cases are among ``rows`` (as a parenthesised phrase)."""
    cases = []
    for row in rows:
        if float(state["root_linvel"][row].abs().sum()) == 0.0 and float(state["episode_time"][row]) == 0.0:
            cases.append("the env at rest right after a reset")
        elif float(state["foot_contact_forces"][row].abs().sum()) == 0.0:
            cases.append("an env with every foot in the air")
        elif float(state["up_proj"][row]) < 0.0:
            cases.append("an env lying upside down")
    return f" (among them {', '.join(sorted(set(cases)))})" if cases else ""


def _check_result(result: Any, n: int, originals: dict[str, Any], state: dict[str, Any],
                  literals: frozenset[str], origin: str) -> dict:
    import torch

    from vidreward.errors import RewardCodeError
    from vidreward.reward.restricted import check_component_names

    def fail(check: str, message: str) -> dict:
        return {"ok": False, "check": check, "message": message}

    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return fail(
            "return",
            f"compute_reward must return a tuple (reward, components); got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""),
        )
    reward, components = result
    if not isinstance(reward, torch.Tensor):
        return fail("dtype", f"reward must be a torch.Tensor, got {type(reward).__name__}")
    if not reward.is_floating_point():
        return fail("dtype", f"reward must be a floating-point tensor, got {reward.dtype}")
    if tuple(reward.shape) != (n,):
        return fail("shape", f"reward must have shape [{n}] (one value per env), got {list(reward.shape)}")
    if not isinstance(components, dict):
        return fail("components", f"components must be a dict {{name: tensor}}, got {type(components).__name__}")
    try:
        check_component_names(list(components), literals, origin)
    except RewardCodeError as exc:
        return fail(exc.check, str(exc))
    for name, value in components.items():
        if not isinstance(value, torch.Tensor):
            return fail("dtype", f"component {name!r} must be a torch.Tensor, got {type(value).__name__}")
        if not value.is_floating_point():
            return fail("dtype", f"component {name!r} must be a floating-point tensor, got {value.dtype}")
        if tuple(value.shape) != (n,):
            return fail("shape", f"component {name!r} must have shape [{n}], got {list(value.shape)}")
    if not bool(torch.isfinite(reward).all()):
        bad = (~torch.isfinite(reward)).nonzero().flatten().tolist()
        return fail("finite", f"reward is NaN/inf for {len(bad)} of {n} env(s) of the sample batch"
                    f"{_corner_cases(bad, state)}")
    for name, value in components.items():
        if not bool(torch.isfinite(value).all()):
            bad = (~torch.isfinite(value)).nonzero().flatten().tolist()
            return fail("finite", f"component {name!r} is NaN/inf for {len(bad)} of {n} env(s) of the "
                        f"sample batch{_corner_cases(bad, state)}")
    for key, before in originals.items():
        if not torch.equal(before, state[key]):
            return fail("inplace", f"compute_reward modified the state field {key!r} in place; "
                        "state tensors are shared with the simulator and must be read-only")
    return {
        "ok": True,
        "components": list(components),
        "reward_stats": _stats(reward),
        "component_stats": {k: _stats(v) for k, v in components.items()},
    }


def _run_child(payload: dict[str, Any]) -> dict[str, Any]:
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
        checked = _check_result(result, n, originals, state, string_literals(code), origin)
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


def _serve_one(payload: dict[str, Any], workdir: str) -> dict[str, Any]:
    """Fork, run ``payload`` in the child (working directory ``workdir``), report result and status."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the sandbox process
        code = 0
        try:
            os.close(read_fd)
            os.setsid()  # own process group
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # whatever the reward code prints is discarded
                os.dup2(devnull, fd)
            os.close(devnull)
            os.environ.clear()
            os.chdir(workdir)
            try:
                result = _run_child(payload)
            except BaseException as exc:  # noqa: BLE001 - reported, never raised
                result = {"ok": False, "check": "sandbox", "message": f"{type(exc).__name__}: {exc}"}
            data = json.dumps(result).encode()
            while data:
                data = data[os.write(write_fd, data):]
        except BaseException:  # noqa: BLE001 - a child must never return into the server loop
            code = 70
        os._exit(code)

    os.close(write_fd)
    deadline = time.monotonic() + float(payload.get("timeout_s", 10.0)) + SERVER_GRACE_S
    chunks: list[bytes] = []
    size = 0
    killed = False
    while True:
        left = deadline - time.monotonic()
        ready = select.select([read_fd], [], [], max(left, 0.0))[0] if left > 0 else []
        if not ready:
            killed = True
            break
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESULT_BYTES:
            killed = True
            break
    if killed:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    result = None
    if chunks and not killed:
        try:
            result = json.loads(b"".join(chunks))
        except json.JSONDecodeError:
            result = None
    oversized = size > MAX_RESULT_BYTES
    return {"result": result, "status": rc, "killed": killed and not oversized, "oversized": oversized}


def serve() -> int:
    """Server loop: one JSON payload per stdin line, one JSON reply per stdout line."""
    import torch

    import vidreward.reward.sample_state  # noqa: F401 - imported once, before any fork

    torch.set_num_threads(1)
    try:
        workspace = tempfile.TemporaryDirectory(prefix="vidreward_sandbox_")
    except OSError:  # started from a process confined to its outputs: an empty cwd is not needed
        workspace = contextlib.nullcontext("/")
    with workspace as workdir:
        for line in sys.stdin.buffer:
            if not line.strip():
                continue
            try:
                reply = _serve_one(json.loads(line), workdir)
            except (json.JSONDecodeError, OSError) as exc:
                reply = {"result": {"ok": False, "check": "sandbox", "message": f"{type(exc).__name__}: {exc}"},
                         "status": 0, "killed": False}
            sys.stdout.buffer.write((json.dumps(reply) + "\n").encode())
            sys.stdout.buffer.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``--serve``: the server loop. Otherwise run one JSON payload from stdin in this process and
    print the JSON result (for debugging a reward by hand)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--serve"]:
        return serve()
    raw = sys.stdin.buffer.read()
    result_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # anything the reward code prints is discarded
    os.close(devnull)
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        result = {"ok": False, "check": "sandbox", "message": f"bad payload: {exc}"}
    else:
        result = _run_child(payload)
    data = (json.dumps(result) + "\n").encode()
    while data:
        data = data[os.write(result_fd, data):]
    return 0


if __name__ == "__main__":
    sys.exit(main())
