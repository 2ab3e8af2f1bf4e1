"""A small local web server for the blind rating page (stdlib ``http.server``).

``GET`` serves the regular files of the page directory and nothing else: no path outside it, no
hidden file, no directory listing, never the ratings file (the key lies outside the page directory
by construction). ``Range`` requests are answered so the videos can be seeked. ``POST /ratings``
takes ``{"rater": name, "ratings": {pair: 1..5}}`` (at most :data:`MAX_BODY` bytes, pair ids from
the page's ``pairs.json``), merges it into the ratings file atomically and answers
``{"saved": n}``; a bad body gets 400 and ``{"error": message}``.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vidreward.compare.rating import check_submission, merge_ratings, read_pair_ids
from vidreward.errors import RatingError

log = logging.getLogger(__name__)

#: the largest ``POST /ratings`` body accepted, bytes
MAX_BODY = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RatingServer(ThreadingHTTPServer):
    """The server object: ``page_dir``, ``ratings_path``, the page's ``pairs`` and a lock that
    serialises saves."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], page_dir: Path, ratings_path: Path):
        self.page_dir = Path(page_dir).resolve()
        self.ratings_path = Path(ratings_path).resolve()
        self.pairs = read_pair_ids(self.page_dir)
        self.lock = threading.Lock()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/index.html"


class _Handler(BaseHTTPRequestHandler):
    server: RatingServer
    server_version = "RatingPage/1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s %s", self.address_string(), format % args)

    def _reply(self, code: int, body: bytes, ctype: str, extra: dict[str, str] | None = None,
               head: bool = False) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, code: int, data: dict) -> None:
        self._reply(code, json.dumps(data).encode("utf-8"), "application/json")

    def _file(self) -> Path | None:
        """The page file the request path names, or None when it names none (or a forbidden one)."""
        path = unquote(urlsplit(self.path).path)
        parts = path.split("/")[1:] if path.startswith("/") else []
        if parts in ([], [""]):
            parts = ["index.html"]
        if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            return None
        full = self.server.page_dir.joinpath(*parts)
        try:
            real = full.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not real.is_relative_to(self.server.page_dir) or not real.is_file() \
                or real == self.server.ratings_path:
            return None
        return real

    def _get(self, head: bool) -> None:
        full = self._file()
        if full is None:
            self._json(404, {"error": "not found"})
            return
        data = full.read_bytes()
        ctype = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype == "application/json":
            ctype += "; charset=utf-8"
        extra = {"Accept-Ranges": "bytes"}
        m = _RANGE.match(self.headers.get("Range", "").strip())
        if m and (m.group(1) or m.group(2)):
            size = len(data)
            start, end = (int(m.group(1)), int(m.group(2) or size - 1)) if m.group(1) \
                else (max(0, size - int(m.group(2))), size - 1)
            if start >= size or end < start:
                self._reply(416, b"", ctype, {"Content-Range": f"bytes */{size}"}, head)
                return
            end = min(end, size - 1)
            extra["Content-Range"] = f"bytes {start}-{end}/{size}"
            self._reply(206, data[start:end + 1], ctype, extra, head)
            return
        self._reply(200, data, ctype, extra, head)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._get(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._get(head=True)

    def do_POST(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != "/ratings":
            self._json(404, {"error": "POST goes to /ratings"})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._json(411, {"error": "a Content-Length is required"})
            return
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._json(413, {"error": f"body over {MAX_BODY} bytes"})
            return
        raw = self.rfile.read(length)
        try:
            try:
                data = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise RatingError(f"request body: not JSON ({exc})") from exc
            rater, ratings = check_submission(data, self.server.pairs, "request body")
        except RatingError as exc:
            self._json(400, {"error": str(exc)})
            return
        try:
            with self.server.lock:
                saved = merge_ratings(self.server.ratings_path, rater, ratings, self.server.pairs)
        except (RatingError, OSError) as exc:
            log.error("saving ratings: %s", exc)
            self._json(500, {"error": f"cannot save: {exc}"})
            return
        log.info("%s: saved %d ratings by %r", self.server.ratings_path, saved, rater)
        self._json(200, {"saved": saved})


def serve(page_dir: Path, ratings_path: Path, host: str = "127.0.0.1", port: int = 0) -> RatingServer:
    """A server (not yet serving: call ``serve_forever``, e.g. in a thread) for the rating page in
    ``page_dir`` that saves to ``ratings_path``; ``port=0`` picks a free port (``server_address``)."""
    page_dir, ratings_path = Path(page_dir), Path(ratings_path)
    if not (page_dir / "index.html").is_file():
        raise RatingError(f"{page_dir}: not a rating page (no index.html)")
    if ratings_path.resolve().is_relative_to(page_dir.resolve()):
        raise RatingError(f"{ratings_path}: the ratings file must lie outside the page directory "
                          f"{page_dir} (the page is rebuilt as a whole)")
    return RatingServer((host, port), page_dir, ratings_path)
