"""HTML building blocks of the review pages: templates, escaping, number formatting, tables,
markdown, unified diffs and highlighted code."""

from __future__ import annotations

import difflib
import html
import math
from importlib import resources
from string import Template
from typing import Any, Iterable


# --------------------------------------------------------------------------- templates


def template(name: str) -> Template:
    return Template(resources.files("vidreward.report").joinpath("templates", name).read_text("utf-8"))


def css() -> str:
    return resources.files("vidreward.report").joinpath("templates", "style.css").read_text("utf-8")


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


# --------------------------------------------------------------------------- markdown


def render_markdown(text: str) -> str:
    """Markdown → HTML with raw HTML escaped (model-written critiques are untrusted text).

    Uses markdown-it-py (a dependency of rich) in CommonMark mode with tables and ``html=False``;
    without it the text is shown escaped in a ``<pre>``.
    """
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return f'<pre class="markdown-source">{esc(text)}</pre>'
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    return md.render(text)


# --------------------------------------------------------------------------- diff


def diff_html(old: str | None, new: str, old_label: str, new_label: str) -> tuple[str, int, int]:
    """Unified diff of two sources as ``<pre class="diff">`` with one classed ``<span>`` per line.

    Returns ``(html, added_lines, removed_lines)``. Classes: ``add``, ``del``, ``hunk``, ``file``, ``ctx``.
    """
    if old is None:
        return "", 0, 0
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=old_label,
                                      tofile=new_label, lineterm="", n=3))
    added = removed = 0
    out = []
    for line in lines:
        if line.startswith("+++") or line.startswith("---"):
            cls = "file"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls, added = "add", added + 1
        elif line.startswith("-"):
            cls, removed = "del", removed + 1
        else:
            cls = "ctx"
        out.append(f'<span class="{cls}">{esc(line) or " "}</span>')
    return '<pre class="diff">' + "".join(out) + "</pre>", added, removed


def code_html(source: str) -> str:
    """Python source as an escaped ``<pre>`` (Pygments inline-styled highlighting when available)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f'<pre class="code">{esc(source)}</pre>'
    formatter = HtmlFormatter(noclasses=True, nowrap=True, style="default")
    return f'<pre class="code">{highlight(source, PythonLexer(), formatter)}</pre>'


# --------------------------------------------------------------------------- helpers


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def cell(value: Any) -> str:
    number = num(value)
    shown = fmt(number) if number is not None else ("–" if value in (None, "") else str(value))
    return f'<td class="num">{esc(shown)}</td>'


def kv_table(rows: Iterable[tuple[str, Any]], table_id: str) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td class=\"num\">{esc(fmt(v))}</td></tr>" for k, v in rows)
    return f'<table class="kv" id="{table_id}"><tbody>{body}</tbody></table>'
