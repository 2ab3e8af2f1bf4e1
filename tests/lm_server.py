"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, with scripted answers.

``LMServer`` implements ``POST /v1/chat/completions``: each request pops the next scripted
``Reply`` (status code, delay, JSON body); every request is logged (parsed JSON body and whether
the ``Authorization`` header carried the expected key). Use the ``lm_server`` fixture; tests drive
it through the real ``openai`` client via ``LMClient``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

FAKE_KEY_ENV = "VIDREWARD_TEST_LM_KEY"
FAKE_KEY = "sk-vidreward-FAKE-7c41e9b2d05a4f3e-do-not-leak"


def completion_body(text: str, model: str = "test-model") -> dict[str, Any]:
    """A chat.completion JSON object answering ``text``."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": max(1, len(text) // 4), "total_tokens": 11 + max(1, len(text) // 4)},
    }


def error_body(message: str, kind: str = "server_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": None, "param": None}}


@dataclass
class Reply:
    """One scripted answer: HTTP ``status``, JSON ``body``, after ``delay_s`` seconds."""

    status: int = 200
    body: dict[str, Any] | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, text: str, delay_s: float = 0.0, model: str = "test-model") -> "Reply":
        return cls(200, completion_body(text, model), delay_s)

    @classmethod
    def error(cls, status: int, message: str = "scripted error", delay_s: float = 0.0) -> "Reply":
        return cls(status, error_body(message), delay_s)


@dataclass
class LoggedRequest:
    path: str
    body: dict[str, Any]
    auth_ok: bool

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    def all_text(self) -> str:
        """Every text part of every message, joined."""
        out = []
        for msg in self.messages:
            content = msg.get("content")
            if isinstance(content, str):
                out.append(content)
            elif isinstance(content, list):
                out += [p.get("text", "") for p in content if p.get("type") == "text"]
        return "\n".join(out)

    def image_urls(self) -> list[str]:
        urls = []
        for msg in self.messages:
            content = msg.get("content")
            if isinstance(content, list):
                urls += [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]
        return urls


class LMServer:
    """Threaded scripted chat-completions server; ``url`` is the ``base_url`` to configure."""

    def __init__(self, expected_key: str = FAKE_KEY):
        self.expected_key = expected_key
        self.replies: deque[Reply] = deque()
        self.requests: list[LoggedRequest] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_unparsed": raw.decode(errors="replace")}
                auth = self.headers.get("Authorization", "")
                with server.lock:
                    server.requests.append(
                        LoggedRequest(self.path, body, auth == f"Bearer {server.expected_key}")
                    )
                    reply = server.replies.popleft() if server.replies else None
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, error_body(f"no route {self.path}", "not_found"), {})
                    return
                if reply is None:
                    self._send(400, error_body("lm_server: no scripted reply left", "invalid_request_error"), {})
                    return
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                self._send(reply.status, reply.body or {}, reply.headers)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def push(self, *replies: Reply | str) -> None:
        """Queue answers; a plain string is a 200 answer with that text."""
        with self.lock:
            for r in replies:
                self.replies.append(Reply.text(r) if isinstance(r, str) else r)

    def start(self) -> "LMServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def lm_server():
    server = LMServer().start()
    try:
        yield server
    finally:
        server.stop()


def make_clip(path, frames: int = 24, size: int = 64, fps: float = 12.0, burst: tuple[int, int] = (14, 18)):
    """A small synthetic mp4: a square drifting slowly, jumping fast during ``burst`` frames."""
    import numpy as np

    from vidreward.video.io import write_video

    video = np.full((frames, size, size, 3), 40, dtype=np.uint8)
    x = 4.0
    for t in range(frames):
        x += 8.0 if burst[0] <= t < burst[1] else 0.5
        xi = int(x) % (size - 12)
        video[t, 20:32, xi:xi + 12] = (230, 200, 40)
    write_video(path, video, fps)
    return path


def scan_for_secret(root, secret: str = FAKE_KEY) -> list[str]:
    """Every file under ``root`` whose bytes contain ``secret``."""
    from pathlib import Path

    hits = []
    needle = secret.encode()
    for p in Path(root).rglob("*"):
        if p.is_file() and needle in p.read_bytes():
            hits.append(str(p))
    return hits
