"""Turn model (or human) text into a four-part ``Critique``."""

from __future__ import annotations

import re

from vidreward.critic.base import Critique, Item, SECTIONS
from vidreward.errors import CritiqueError

_SECTION_WORDS = {
    "problems": r"problems?|issues?",
    "rewrite": r"rewrite\s+components?|components?\s+to\s+rewrite",
    "remove": r"remove\s+components?|components?\s+to\s+remove",
    "new": r"new\s+components?|add\s+components?|components?\s+to\s+add",
}
_DECOR = r"[*_`]*"
_HEADING = re.compile(
    rf"^\s*(?:#{{1,6}}\s*)?{_DECOR}\s*(?:(?:\d+|[A-Da-d]|[IVX]+)[.)]\s*)?{_DECOR}\s*"
    rf"(?P<name>{'|'.join(f'(?P<{k}>{v})' for k, v in _SECTION_WORDS.items())})"
    rf"\s*{_DECOR}\s*(?P<colon>:)?\s*{_DECOR}\s*(?P<rest>.*?)\s*$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\(?\d+[.)]|\(?[a-z][.)])\s+(?P<text>.*)$")
_EMPTY_ITEM = re.compile(
    r"^[\s*_`(]*(none|n/?a|nothing|no changes?|no components?|not applicable|-+)[\s.*_`)]*$",
    re.IGNORECASE,
)
_COMPONENT = re.compile(
    r"^(?P<open>[`*_]*)(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<close>[`*_]*)\s*:(?P<after>[`*_]*)\s+(?P<text>\S.*)$",
    re.DOTALL,
)
_LEADING_BULLET = re.compile(r"^\s*[-*+\u2022]\s+(?=\S)")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _heading(line: str) -> tuple[str, str] | None:
    """``(section, inline_text)`` when ``line`` is a section heading, else None."""
    bulleted = _LEADING_BULLET.match(line)
    m = _HEADING.match(line[bulleted.end():] if bulleted else line)
    if not m:
        return None
    rest = m.group("rest").strip()
    # "Problems with the gait are ..." is prose, not a heading: text after the name needs a colon.
    # A line holding only the name ("Problems", "## New components") is a heading; so is a bullet
    # holding only the name ("- **Problems:**") or a top-level bullet "- Remove component: none";
    # an indented bullet "  - Problems: ..." is an item.
    if rest and (not m.group("colon") or (bulleted and line[:1].isspace())):
        return None
    section = next(k for k in SECTIONS if m.group(k))
    return section, rest


def _make_item(text: str, section: str) -> Item | None:
    text = " ".join(text.split()).strip()
    text = re.sub(r"^(\*\*|__)(.+?)\1$", r"\2", text)
    if not text or _EMPTY_ITEM.match(text):
        return None
    m = _COMPONENT.match(text)
    if m:
        name = m.group("name")
        decorated = bool(m.group("open") or m.group("close") or m.group("after"))
        looks_like_code = "_" in name or name.islower()
        if decorated or looks_like_code or section != "problems":
            body = m.group("text").strip()
            if not _EMPTY_ITEM.match(body):
                return Item(text=body, component=name)
    return Item(text=text)


def parse_critique(text: str, source: str, backend: str = "openai") -> Critique:
    """Parse headed sections (Problems / Rewrite component / Remove component / New component).

    Items are numbered or bulleted lines (continuation lines join the item); an optional
    ``component_name:`` prefix fills ``Item.component``. HTML comments are ignored and "None" items
    are dropped. Raises ``CritiqueError`` naming ``source`` when no section heading is present.
    """
    if not isinstance(text, str):
        raise CritiqueError(f"{source}: feedback is not text")
    body = _COMMENT.sub("", text)
    sections: dict[str, list[Item]] = {s: [] for s in SECTIONS}
    seen: set[str] = set()
    current: str | None = None
    buf: list[str] = []

    def flush() -> None:
        if current is not None and buf:
            item = _make_item(" ".join(buf), current)
            if item is not None:
                sections[current].append(item)
        buf.clear()

    in_fence = False
    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
            if current is not None:
                buf.append(line.strip())
            continue
        head = None if in_fence else _heading(line)
        if head is not None:
            flush()
            current, rest = head
            seen.add(current)
            if rest:
                buf.append(rest)
            continue
        if current is None:
            continue
        if not line.strip():
            flush()
            continue
        if re.match(r"^\s*(#{1,6}\s|---+\s*$|===+\s*$)", line):
            # another heading or a rule ends the section
            flush()
            current = None
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            buf.append(bullet.group("text"))
        else:
            buf.append(line.strip())
    flush()
    if not seen:
        raise CritiqueError(
            f"{source}: no feedback sections found; expected the headings 'Problems', "
            f"'Rewrite component', 'Remove component' and 'New component'"
        )
    return Critique(**sections, backend=backend, gap=None, raw_text=text)


def count_items(critique: Critique) -> int:
    return sum(len(getattr(critique, s)) for s in SECTIONS)
