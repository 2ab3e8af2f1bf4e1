"""The sandbox server (``main(["--serve"])``): imports torch once, then forks one sandbox process per
request and reports its JSON result and exit status (see :mod:`vidreward.reward.sandbox`)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import tempfile
import time
from typing import Any

from vidreward.reward.sandbox.child import run_child

SERVER_GRACE_S = 5.0  # the server kills a run this long after its own timer should have
MAX_RESULT_BYTES = 4 * 1024 * 1024


def _serve_one(payload: dict[str, Any], workdir: str) -> dict[str, Any]:
    """Fork, run ``payload`` in the child (working directory ``workdir``), report result and status."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the sandbox process
        _sandbox_process(payload, workdir, read_fd, write_fd)
    os.close(write_fd)
    deadline = time.monotonic() + float(payload.get("timeout_s", 10.0)) + SERVER_GRACE_S
    return _collect(pid, read_fd, deadline)


def _sandbox_process(payload: dict[str, Any], workdir: str, read_fd: int, write_fd: int) -> None:
    """The forked child: own session, no stdio, empty environment, ``workdir``; runs ``payload``,
    writes the JSON result to ``write_fd`` and exits (never returns into the server loop)."""
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
            result = run_child(payload)
        except BaseException as exc:  # noqa: BLE001 - reported, never raised
            result = {"ok": False, "check": "sandbox", "message": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(result).encode()
        while data:
            data = data[os.write(write_fd, data):]
    except BaseException:  # noqa: BLE001 - a child must never return into the server loop
        code = 70
    os._exit(code)


def _collect(pid: int, read_fd: int, deadline: float) -> dict[str, Any]:
    """Read the child's result from ``read_fd`` until EOF or ``deadline`` (then kill it), reap it;
    the reply: result, exit status, whether it was killed or sent too much."""
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
        result = run_child(payload)
    data = (json.dumps(result) + "\n").encode()
    while data:
        data = data[os.write(result_fd, data):]
    return 0
