"""Content-addressed store of language-model requests and their answers.

A request is normalised (messages with every image replaced by its sha256, model, sampling
parameters) and hashed; the record ``<cache_dir>/<sha256>.json`` holds the normalised request, the
answer text, the model id the server reported, token usage, latency and a timestamp. Records are
written atomically (``vidreward.fsutil.atomic_write_text``) so an interrupted run never leaves half a record.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from vidreward.errors import LMError
from vidreward.fsutil import atomic_write_text

RECORD_VERSION = 1


def canonical_json(obj: Any) -> str:
    """Deterministic JSON text (sorted keys, no extra spaces) used for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(normalised_request: dict[str, Any]) -> str:
    """sha256 hex digest of a normalised request."""
    return hashlib.sha256(canonical_json(normalised_request).encode("utf-8")).hexdigest()


def image_digest(url: str) -> str:
    """``sha256:<hex>`` of the bytes of a ``data:`` URL image, or of the URL text for remote images."""
    if url.startswith("data:") and "," in url:
        header, payload = url.split(",", 1)
        data = base64.b64decode(payload) if header.endswith(";base64") else payload.encode()
        return "sha256:" + hashlib.sha256(data).hexdigest()
    return "sha256:" + hashlib.sha256(url.encode("utf-8")).hexdigest()


def normalise_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy of chat messages with each image part's URL replaced by the sha256 of its bytes."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, list):
            parts = []
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    image = dict(part.get("image_url") or {})
                    image["url"] = image_digest(str(image.get("url", "")))
                    parts.append({"type": "image_url", "image_url": image})
                else:
                    parts.append(part)
            content = parts
        out.append({**msg, "content": content})
    return out


class LMCache:
    """Records under ``cache_dir``, one JSON file per request hash."""

    def __init__(self, cache_dir: str | Path):
        self.cache_dir = Path(cache_dir)

    def path(self, req_hash: str) -> Path:
        return self.cache_dir / f"{req_hash}.json"

    def get(self, req_hash: str) -> dict[str, Any] | None:
        """The stored record, or ``None`` on a miss. A corrupt record raises ``LMError`` naming it."""
        path = self.path(req_hash)
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise LMError(f"{path}: unreadable LM cache record ({exc}); delete it to re-record") from exc
        if not isinstance(record, dict) or record.get("request_hash") != req_hash:
            raise LMError(f"{path}: LM cache record does not belong to request {req_hash}")
        if not isinstance(record.get("response", {}).get("text"), str):
            raise LMError(f"{path}: LM cache record has no response text")
        return record

    def put(self, record: dict[str, Any]) -> Path:
        """Store ``record`` (which carries its ``request_hash``) atomically; return its path."""
        path = self.path(record["request_hash"])
        atomic_write_text(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return path
