"""Settings of one language-model backend (critic or rewriter) at an OpenAI-compatible endpoint."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from vidreward.errors import ConfigError

CACHE_MODES = ("record", "replay", "off")


@dataclass
class LMConfig:
    """Where and how to call a chat-completions model. The API key itself is never stored here."""

    base_url: str = "https://api.openai.com/v1"
    """OpenAI-compatible endpoint (OpenAI, Gemini's ``.../v1beta/openai/``, vLLM, Ollama, llama.cpp)."""

    model: str = "gpt-4o"
    """Model name at that endpoint; part of every request hash."""

    api_key_env: str = "OPENAI_API_KEY"
    """NAME of the environment variable holding the API key (read only when a request goes out)."""

    temperature: float = 0.2
    """Sampling temperature sent with each request (0-2); part of the request hash."""

    max_tokens: int = 4096
    """Upper bound on answer tokens sent with each request; part of the request hash."""

    timeout_s: float = 120.0
    """Per-request HTTP timeout, seconds; a timed-out request is retried."""

    max_retries: int = 4
    """Retries after the first attempt on timeouts, connection errors, 408, 429 and 5xx."""

    cache_mode: str = "record"
    """``record``: answer from the cache, call on a miss and store; ``replay``: answer only from
    the cache (a miss is an error, nothing goes out); ``off``: always call, store nothing."""

    cache_dir: str = "data/lm_cache"
    """Directory of request/response records ``<sha256>.json`` (DVC-tracked in the workflow)."""

    frames: int = 8
    """Frames sampled from each clip and sent to a vision model (half uniform, half high-motion)."""

    max_tries: int = 3
    """Answers the rewriter may ask for when generated code fails validation, and the critic when
    its answer lacks the four sections (1 = no retry)."""

    retry_wait_s: float = 1.0
    """First back-off wait between retried requests, seconds; doubles per retry."""

    retry_wait_max_s: float = 30.0
    """Longest back-off wait between retried requests, seconds."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, source: str = "lm config") -> None:
        """Raise ``ConfigError`` naming the key when a value is out of range or of the wrong type."""

        def bad(key: str, why: str) -> ConfigError:
            return ConfigError(f"{source}: {key}: {why} (got {getattr(self, key)!r})")

        for key in ("base_url", "model", "api_key_env"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise bad(key, "must be a non-empty string")
        if not self.base_url.startswith(("http://", "https://")):
            raise bad("base_url", "must start with http:// or https://")
        if not self.api_key_env.replace("_", "").isalnum():
            raise bad("api_key_env", "must be the NAME of an environment variable, not a key")
        if isinstance(self.cache_dir, Path):
            self.cache_dir = str(self.cache_dir)
        if not isinstance(self.cache_dir, str) or not self.cache_dir:
            raise bad("cache_dir", "must be a non-empty path")
        if self.cache_mode not in CACHE_MODES:
            raise bad("cache_mode", f"must be one of {list(CACHE_MODES)}")
        for key, lo, hi in (
            ("temperature", 0.0, 2.0),
            ("timeout_s", 1e-3, math.inf),
            ("retry_wait_s", 0.0, math.inf),
            ("retry_wait_max_s", 0.0, math.inf),
        ):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise bad(key, f"must be a number in [{lo}, {hi}]")
        for key, lo, hi in (
            ("max_tokens", 1, 10**7),
            ("max_retries", 0, 50),
            ("frames", 1, 64),
            ("max_tries", 1, 20),
        ):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise bad(key, f"must be an integer in [{lo}, {hi}]")

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any] | None,
        source: str = "lm config",
        ignore: tuple[str, ...] = ("backend",),
    ) -> "LMConfig":
        """Build from a config section; unknown keys raise ``ConfigError`` naming them.

        Keys in ``ignore`` (by default ``backend``, which selects the backend, not its settings)
        are skipped.
        """
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in data if k not in known and k not in ignore)
        if unknown:
            raise ConfigError(
                f"{source}: unknown key(s) {unknown}; allowed: {sorted(known)}"
            )
        kwargs = {k: v for k, v in data.items() if k in known}
        obj = cls.__new__(cls)
        for f in fields(cls):
            setattr(obj, f.name, kwargs.get(f.name, f.default))
        obj.validate(source)
        return obj

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
