"""Language-model plumbing shared by the critic and rewriter backends.

Modules: ``config`` (``LMConfig``), ``client`` (``LMClient``: OpenAI-compatible chat with retries
and a request cache), ``cache`` (content-addressed records), ``frames`` (frame sampling,
storyboards, vision message parts), ``parse`` (four-part feedback and code extraction).
Prompt text lives in ``vidreward/prompts/*.txt`` and is rendered with :func:`render_prompt`.
"""

from __future__ import annotations

from importlib import resources
from string import Template

from vidreward.errors import ConfigError


def load_prompt(name: str) -> str:
    """Text of ``vidreward/prompts/<name>.txt``."""
    path = resources.files("vidreward").joinpath("prompts", f"{name}.txt")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"prompt template {name!r} not found (vidreward/prompts/{name}.txt)") from exc


def render_prompt(name: str, **fields: object) -> str:
    """``load_prompt(name)`` with its ``$field`` placeholders filled (all must be given)."""
    try:
        return Template(load_prompt(name)).substitute({k: str(v) for k, v in fields.items()})
    except KeyError as exc:
        raise ConfigError(f"prompt template {name!r} needs the field {exc.args[0]!r}") from exc
    except ValueError as exc:
        raise ConfigError(f"prompt template {name!r} is malformed: {exc}") from exc
