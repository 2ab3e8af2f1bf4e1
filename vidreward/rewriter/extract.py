"""Extract the reward code from a model's answer."""

from __future__ import annotations

import ast
import re

from vidreward.errors import RewardCodeError

_FENCE = re.compile(r"^```[ \t]*(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)(?:^```[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)


def _defines_compute_reward(code: str) -> bool:
    return re.search(r"^\s*def\s+compute_reward\s*\(", code, re.MULTILINE) is not None


def extract_code(text: str, source: str) -> str:
    """The reward code in a model answer.

    Preference: the last fenced block that defines ``compute_reward`` (python-tagged first), else
    the whole answer when it parses as Python and defines ``compute_reward``, else the last fenced
    block of any kind (validation then reports what is wrong with it). Nothing usable raises
    ``RewardCodeError(check="extract")`` naming ``source``.
    """
    blocks = [(m.group("lang").lower(), m.group("body")) for m in _FENCE.finditer(text or "")]
    with_fn = [(lang, body) for lang, body in blocks if _defines_compute_reward(body)]
    python_tagged = [body for lang, body in with_fn if lang in ("python", "py", "python3")]
    if python_tagged:
        return _tidy(python_tagged[-1])
    if with_fn:
        return _tidy(with_fn[-1][1])
    if text and _defines_compute_reward(text):
        try:
            ast.parse(text)
        except SyntaxError:
            pass
        else:
            return _tidy(text)
    code_blocks = [body for lang, body in blocks if body.strip()]
    if code_blocks:
        return _tidy(code_blocks[-1])
    raise RewardCodeError(
        f"{source}: no reward code found in the answer: expected a ```python fenced block "
        f"defining compute_reward(...)",
        check="extract",
    )


def _tidy(code: str) -> str:
    return code.strip("\n").rstrip() + "\n"
