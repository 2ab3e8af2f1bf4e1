"""Chat-completions client for any OpenAI-compatible endpoint, with a request cache.

Every request is normalised and hashed (see ``vidreward.lm.cache``; model, messages, temperature,
max_tokens and, when given, the sampling ``seed``). Depending on
``LMConfig.cache_mode`` the answer comes from ``cache_dir/<hash>.json`` (zero network calls) or from
the endpoint through the official ``openai`` client. Timeouts, connection errors, 408, 429 and 5xx
are retried with bounded exponential back-off (tenacity); other 4xx answers fail at once. Each record
used is also copied into ``record_dir`` (an iteration's ``lm/`` folder) so the raw requests and
answers are artifacts of that iteration. The API key is read from the environment variable named by
``api_key_env`` only when a request actually goes out, and is never logged or written.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit, urlunsplit

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from vidreward.errors import LMError
from vidreward.fsutil import atomic_write_text
from vidreward.lm.cache import (
    RECORD_VERSION,
    LMCache,
    normalise_messages,
    request_hash,
)
from vidreward.lm.config import LMConfig

log = logging.getLogger("vidreward.lm")

RETRY_STATUS = frozenset({408, 429})


@dataclass
class LMResponse:
    """One answer of the model, from the endpoint or from the cache."""

    text: str
    model: str
    usage: dict[str, Any]
    latency_s: float
    cached: bool
    request_hash: str
    record_path: Path | None = None
    finish_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def public_endpoint(base_url: str) -> str:
    """``base_url`` without user info, query or fragment (places where a secret could hide)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None)


def _is_transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return True
    status = _status(exc)
    if isinstance(exc, openai.APIStatusError) and status is not None:
        return status in RETRY_STATUS or status >= 500
    return False


def _purpose_slug(purpose: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", purpose).strip("_.")
    return slug or "chat"


def image_part_from(image: bytes | str) -> dict[str, Any]:
    """OpenAI vision message part for PNG bytes or an existing ``data:``/``http(s):`` URL."""
    if isinstance(image, bytes):
        url = "data:image/png;base64," + base64.b64encode(image).decode("ascii")
    else:
        url = image
    return {"type": "image_url", "image_url": {"url": url}}


class LMClient:
    """Chat with ``cfg.model`` at ``cfg.base_url``; see the module docstring for caching and retries."""

    def __init__(self, cfg: LMConfig, record_dir: Path | None = None):
        self.cfg = cfg
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self.cache = LMCache(cfg.cache_dir)
        self.endpoint = public_endpoint(cfg.base_url)
        self._openai = None
        self.network_calls = 0

    # -- public -------------------------------------------------------------------------------

    def chat(
        self,
        messages: list[dict[str, Any]],
        images: Sequence[bytes | str] = (),
        purpose: str = "chat",
        seed: int | None = None,
    ) -> LMResponse:
        """Send ``messages`` (OpenAI chat format) and return the answer.

        ``images`` (PNG bytes or data URLs) are appended as image parts to the last user message.
        ``purpose`` names the copy written to ``record_dir`` (``<purpose>-<hash16>.json``).
        ``seed`` (optional) is sent as the request's sampling ``seed`` and is part of the request
        hash, so samples of one prompt drawn with different seeds are different cache records; a
        request without a seed hashes as it did before seeds existed.
        """
        messages = self._with_images(messages, images)
        normalised = {
            "version": RECORD_VERSION,
            "model": self.cfg.model,
            "messages": normalise_messages(messages),
            "temperature": self.cfg.temperature,
            "max_tokens": self.cfg.max_tokens,
        }
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise LMError(f"LMClient.chat: seed must be an integer or None (got {seed!r})")
            normalised["seed"] = seed
        req_hash = request_hash(normalised)
        mode = self.cfg.cache_mode

        record = self.cache.get(req_hash) if mode in ("record", "replay") else None
        cached = record is not None
        if record is None:
            if mode == "replay":
                seed_note = f", seed {seed}" if seed is not None else ""
                raise LMError(
                    f"cache_mode 'replay': no cached answer for request {req_hash} in "
                    f"{self.cache.cache_dir} (model {self.cfg.model!r}, purpose {purpose!r}{seed_note}); "
                    f"nothing was sent to {self.endpoint}. Run once with cache_mode 'record' to fill the cache."
                )
            record = self._call(messages, normalised, req_hash, purpose)
            if mode == "record":
                self.cache.put(record)
        record_path = self._copy_to_record_dir(record, purpose, cached)
        resp = record["response"]
        log.info(
            "lm %s %s model=%s hash=%s latency=%.2fs",
            purpose, "cache-hit" if cached else "called", self.cfg.model, req_hash[:12],
            record["latency_s"],
        )
        return LMResponse(
            text=resp["text"],
            model=resp.get("model") or self.cfg.model,
            usage=dict(resp.get("usage") or {}),
            latency_s=float(record["latency_s"]),
            cached=cached,
            request_hash=req_hash,
            record_path=record_path,
            finish_reason=resp.get("finish_reason"),
        )

    def close(self) -> None:
        if self._openai is not None:
            self._openai.close()
            self._openai = None

    def __enter__(self) -> "LMClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _with_images(messages: list[dict[str, Any]], images: Sequence[bytes | str]) -> list[dict[str, Any]]:
        messages = [dict(m) for m in messages]
        if not images:
            return messages
        for msg in reversed(messages):
            if msg.get("role") == "user":
                content = msg.get("content")
                parts = list(content) if isinstance(content, list) else [{"type": "text", "text": content or ""}]
                parts.extend(image_part_from(img) for img in images)
                msg["content"] = parts
                return messages
        raise LMError("LMClient.chat: images given but messages contain no user message to attach them to")

    def _client(self):
        if self._openai is None:
            key = os.environ.get(self.cfg.api_key_env, "")
            if not key.strip():
                raise LMError(
                    f"{self.endpoint} (model {self.cfg.model!r}): environment variable "
                    f"{self.cfg.api_key_env} is not set or empty; export the API key in it "
                    f"(local servers such as vLLM/Ollama accept any non-empty value)"
                )
            import openai

            self._openai = openai.OpenAI(
                base_url=self.cfg.base_url,
                api_key=key,
                timeout=self.cfg.timeout_s,
                max_retries=0,
            )
        return self._openai

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.cfg.api_key_env, "")
        if key and len(key) >= 4:
            text = text.replace(key, "[redacted]")
        return text

    def _describe(self, exc: BaseException) -> str:
        status = _status(exc)
        if status in (401, 403):
            detail = f"authentication failed; check the key in ${self.cfg.api_key_env}"
        else:
            detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        prefix = f"HTTP {status}: " if status is not None else f"{type(exc).__name__}: "
        return self._redact(prefix + str(detail))[:500]

    def _call(
        self, messages: list[dict[str, Any]], normalised: dict[str, Any], req_hash: str, purpose: str
    ) -> dict[str, Any]:
        import openai

        client = self._client()
        cfg = self.cfg
        attempts = 0

        def once():
            nonlocal attempts
            attempts += 1
            self.network_calls += 1
            extra = {"seed": normalised["seed"]} if normalised.get("seed") is not None else {}
            return client.chat.completions.create(
                model=cfg.model,
                messages=messages,
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
                **extra,
            )

        retrying = self._retrying(purpose)
        where = f"{self.endpoint} (model {cfg.model!r}, request {req_hash[:16]}, purpose {purpose!r})"
        start = time.monotonic()
        try:
            completion = retrying(once)
        except openai.OpenAIError as exc:
            if _is_transient(exc):
                raise LMError(
                    f"{where}: failed after {attempts} attempt(s) (max_retries={cfg.max_retries}): "
                    f"{self._describe(exc)}"
                ) from None
            raise LMError(f"{where}: request rejected, not retried: {self._describe(exc)}") from None
        latency = time.monotonic() - start
        choice, text = self._answer(completion, where)
        usage = completion.usage.model_dump(exclude_none=True) if completion.usage else {}
        return {
            "version": RECORD_VERSION,
            "request_hash": req_hash,
            "request": normalised,
            "response": {
                "text": text,
                "model": getattr(completion, "model", None) or cfg.model,
                "usage": usage,
                "finish_reason": choice.finish_reason,
            },
            "endpoint": self.endpoint,
            "attempts": attempts,
            "latency_s": round(latency, 4),
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def _retrying(self, purpose: str) -> Retrying:
        """Retries of transient failures with exponential waits, each one logged."""
        cfg = self.cfg

        def before_sleep(state) -> None:
            exc = state.outcome.exception()
            log.warning(
                "lm %s: attempt %d to %s failed (%s); retrying in %.1fs",
                purpose, state.attempt_number, self.endpoint, self._describe(exc),
                state.next_action.sleep if state.next_action else 0.0,
            )

        return Retrying(
            stop=stop_after_attempt(cfg.max_retries + 1),
            wait=wait_exponential(multiplier=cfg.retry_wait_s, max=cfg.retry_wait_max_s),
            retry=retry_if_exception(_is_transient),
            before_sleep=before_sleep,
            reraise=True,
        )

    def _answer(self, completion: Any, where: str) -> tuple[Any, str]:
        """The first choice of ``completion`` and its text; ``LMError`` naming ``where`` when the
        answer has no choice or an empty one."""
        choices = getattr(completion, "choices", None)
        if not choices:
            raise LMError(f"{where}: answer has no choices: {self._redact(str(completion))[:300]}")
        choice = choices[0]
        text = getattr(choice.message, "content", None)
        if not isinstance(text, str) or not text.strip():
            refusal = getattr(choice.message, "refusal", None)
            raise LMError(
                f"{where}: empty answer (finish_reason={choice.finish_reason!r}"
                + (f", refusal={refusal!r}" if refusal else "")
                + ")"
            )
        return choice, text

    def _copy_to_record_dir(self, record: dict[str, Any], purpose: str, cached: bool) -> Path | None:
        if self.record_dir is None:
            return None
        copy = dict(record)
        copy["purpose"] = purpose
        copy["cached"] = cached
        copy["used_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        path = self.record_dir / f"{_purpose_slug(purpose)}-{record['request_hash'][:16]}.json"
        atomic_write_text(path, json.dumps(copy, indent=2, ensure_ascii=False) + "\n")
        return path
