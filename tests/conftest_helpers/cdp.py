"""Drive headless Chromium through the Chrome DevTools Protocol (no selenium, no chromedriver).

Chromium is started with ``--remote-debugging-port=0``; the port it picked is read from
``<user-data-dir>/DevToolsActivePort``; the page target's websocket is found via ``/json/list`` and
spoken to with ``websockets.sync.client``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    env = os.environ.get("VIDREWARD_CHROMIUM")
    if env:
        return env if Path(env).exists() or shutil.which(env) else None
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CDPError(RuntimeError):
    pass


class Browser:
    """A headless Chromium with one page, controlled over CDP. Use as a context manager."""

    def __init__(self, executable: str, profile_dir: Path, width: int = 1400, height: int = 1000,
                 start_timeout_s: float = 30.0):
        from websockets.sync.client import connect

        self.profile_dir = Path(profile_dir)
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = self.profile_dir / "chromium-stderr.log"
        self._stderr = open(self.stderr_path, "wb")
        args = [
            executable,
            "--headless=new",
            "--no-sandbox",  # we run as root in a container
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--mute-audio",
            "--autoplay-policy=no-user-gesture-required",
            "--allow-file-access-from-files",
            f"--window-size={width},{height}",
            f"--user-data-dir={self.profile_dir}",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._stderr)
        self.ws = None
        self._stack = contextlib.ExitStack()
        self._id = 0
        self.events: list[dict[str, Any]] = []
        try:
            port = self._wait_port(start_timeout_s)
            ws_url = self._page_ws(port, start_timeout_s)
            self.ws = self._stack.enter_context(
                connect(ws_url, max_size=64 * 1024 * 1024, open_timeout=start_timeout_s))
            self.send("Page.enable")
            self.send("Runtime.enable")
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ startup
    def _wait_port(self, timeout: float) -> int:
        marker = self.profile_dir / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CDPError(f"chromium exited with {self.proc.returncode}: {self.stderr_tail()}")
            if marker.is_file():
                first = marker.read_text().splitlines()[:1]
                if first and first[0].strip().isdigit():
                    return int(first[0])
            time.sleep(0.05)
        raise CDPError(f"chromium did not open a DevTools port in {timeout}s: {self.stderr_tail()}")

    def _page_ws(self, port: int, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                    targets = json.load(r)
                for t in targets:
                    if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                        return t["webSocketDebuggerUrl"]
            except OSError as exc:
                last = exc
            time.sleep(0.1)
        raise CDPError(f"no page target on DevTools port {port}: {last}")

    def stderr_tail(self, n: int = 2000) -> str:
        try:
            self._stderr.flush()
            return self.stderr_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # ------------------------------------------------------------------ protocol
    def send(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        self._id += 1
        my_id = self._id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError(f"{method}: no reply in {timeout}s")
            msg = json.loads(self.ws.recv(timeout=left))
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise CDPError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression: str, await_promise: bool = False,
                 context_id: int | None = None) -> Any:
        params: dict[str, Any] = {"contextId": context_id} if context_id is not None else {}
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=await_promise, **params)
        if "exceptionDetails" in res:
            raise CDPError(f"JS error: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def navigate(self, url: str, timeout: float = 30.0) -> None:
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate("document.readyState") == "complete" and \
                    self.evaluate("location.href") == url:
                return
            time.sleep(0.05)
        raise CDPError(f"{url}: page did not finish loading in {timeout}s")

    def wait_for(self, expression: str, timeout: float = 20.0, interval: float = 0.1,
                 context_id: int | None = None) -> Any:
        """Poll a JS expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression, context_id=context_id)
            if value:
                return value
            time.sleep(interval)
        raise CDPError(f"timed out after {timeout}s waiting for: {expression} (last: {value!r})")

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics.get("contentSize")
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": min(size["height"], 8000), "scale": 1}
        data = self.send("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def child_frames(self) -> list[dict[str, Any]]:
        """The main page's child frames as CDP ``Frame`` dicts (``id``, ``url``...)."""
        tree = self.send("Page.getFrameTree")["frameTree"]
        return [child["frame"] for child in tree.get("childFrames", [])]

    def frame(self, frame_id: str) -> "Frame":
        return Frame(self, frame_id)

    def console_errors(self) -> list[str]:
        out = []
        for ev in self.events:
            if ev.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(ev["params"].get("exceptionDetails", {}))[:500])
            if ev.get("method") == "Runtime.consoleAPICalled" and \
                    ev["params"].get("type") == "error":
                out.append(" ".join(str(a.get("value", "")) for a in ev["params"].get("args", [])))
        return out

    # ------------------------------------------------------------------ teardown
    def close(self) -> None:
        try:
            self._stack.close()  # closes the websocket
        except Exception:  # the browser may already be gone
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._stderr.close()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Frame:
    """``evaluate``/``wait_for`` inside one child frame (an isolated world: its DOM, not its globals)."""

    def __init__(self, browser: Browser, frame_id: str) -> None:
        self.browser = browser
        self.context_id = browser.send("Page.createIsolatedWorld", frameId=frame_id,
                                       worldName="vidreward-test")["executionContextId"]

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        return self.browser.evaluate(expression, await_promise, context_id=self.context_id)

    def wait_for(self, expression: str, timeout: float = 20.0, interval: float = 0.1) -> Any:
        return self.browser.wait_for(expression, timeout, interval, context_id=self.context_id)


def require_browser_tools() -> str:
    """The Chromium binary. Without Chromium or the websockets package a test skips with the
    reason on a developer machine and fails under ``CI=true`` (CI installs both)."""
    import importlib.util

    import pytest

    missing = []
    browser = find_browser()
    if browser is None:
        missing.append("Chromium (run tools/install_browser.sh: apt-get install chromium, or set "
                       "VIDREWARD_CHROMIUM)")
    if importlib.util.find_spec("websockets") is None:
        missing.append("the websockets package (CDP client)")
    if missing:
        reason = "missing " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: the browser test cannot run on this CI machine")
        pytest.skip(f"{reason} (this fails under CI=true)")
    return browser


def browser_tools_fixture():
    """An autouse fixture for a browser test module (``browser_tools = browser_tools_fixture()``):
    every test of the module first calls :func:`require_browser_tools`."""
    import pytest

    @pytest.fixture(autouse=True)
    def browser_tools() -> str:
        return require_browser_tools()

    return browser_tools
