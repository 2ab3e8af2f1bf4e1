"""Every module, class, function and file that docs/ARCHITECTURE.md names exists.

The doc's convention ("Names in this document"): inline code that starts with ``vidreward.`` is a
dotted path to a module or an attribute inside one (``vidreward.sim.base.BatchedSim.reset``; a
trailing call ``(...)`` is allowed, ``*`` matches any run of characters in the last part); inline
code that starts with a top-level folder of the repository (``vidreward/``, ``scripts/``,
``rules/``, ``config/``, ``docs/``, ``tests/``, ``tools/``) or is ``Snakefile`` / ``dvc.yaml`` is a
path (a glob when it holds ``*``) that must match at least one file; in a table row whose first
cell is a folder (``vidreward/lm/``), a bare file name (``client.py``) is a file of that folder.
Only paths of the source tree are checked: the artifact layout (``results/...``, ``data/...``)
describes run outputs.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PATH_ROOTS = ("vidreward/", "scripts/", "rules/", "config/", "docs/", "tests/", "tools/")
PATH_FILES = ("Snakefile", "dvc.yaml")
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_DOTTED = re.compile(r"^vidreward(\.[A-Za-z_*][A-Za-z0-9_*]*)*(\(.*\))?$")
_ROW_FOLDER = re.compile(r"^\|\s*`(vidreward/[^`]*/)`\s*\|")
_BARE_FILE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.py$")


def doc_names(text: str) -> list[str]:
    """Inline-code spans of ``text`` outside fenced blocks; a bare ``name.py`` in a table row whose
    first cell is a folder becomes that folder's path."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    names = []
    for line in prose.splitlines():
        folder = _ROW_FOLDER.match(line)
        for m in _INLINE.finditer(line):
            name = m.group(1).strip()
            if folder and _BARE_FILE.match(name):
                name = folder.group(1) + name
            names.append(name)
    return names


def resolve_dotted(name: str) -> bool:
    """Whether ``vidreward.a.b.C.d`` names an importable module or an attribute chain inside one."""
    parts = re.sub(r"\(.*\)$", "", name).split(".")
    obj, attrs = None, []
    for split in range(len(parts), 0, -1):
        if "*" in ".".join(parts[:split]):
            continue
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        attrs = parts[split:]
        break
    if obj is None:
        return False
    for i, attr in enumerate(attrs):
        if "*" in attr:
            return i == len(attrs) - 1 and any(fnmatch.fnmatchcase(a, attr) for a in dir(obj))
        if not hasattr(obj, attr):
            return False
        obj = getattr(obj, attr)
    return True


def path_exists(name: str) -> bool:
    if "*" in name:
        return any(ROOT.glob(name))
    return (ROOT / name).exists()


def missing_names(text: str) -> list[str]:
    missing = []
    for name in dict.fromkeys(doc_names(text)):
        if name.startswith(PATH_ROOTS) or name in PATH_FILES:
            if not path_exists(name.split(" ")[0]):
                missing.append(name)
        elif name.startswith("vidreward.") or name == "vidreward":
            if not _DOTTED.match(name) or not resolve_dotted(name):
                missing.append(name)
    return missing


def test_every_name_in_the_doc_exists():
    missing = missing_names(DOC.read_text(encoding="utf-8"))
    assert not missing, f"docs/ARCHITECTURE.md names what does not exist: {missing}"


def test_the_check_catches_what_is_missing():
    text = ("| `vidreward/lm/` | `client.py`, `nothing_here.py` |\n"
            "`vidreward.fsutil.sha256_file` `vidreward.fsutil.no_such` `vidreward/fsutil.py` "
            "`vidreward/nothing.py` `rules/*.smk` `vidreward.critic.crosscheck.XCHECK_*` "
            "`vidreward.nowhere` `root_pos`\n```python\n`vidreward.in_a_block`\n```\n")
    assert missing_names(text) == ["vidreward/lm/nothing_here.py", "vidreward.fsutil.no_such",
                                   "vidreward/nothing.py", "vidreward.nowhere"]


def test_every_package_module_is_in_the_doc():
    """Each module of the package appears in the doc (as a path or a dotted name)."""
    text = DOC.read_text(encoding="utf-8")
    named = set(doc_names(text))
    absent = []
    for path in sorted((ROOT / "vidreward").rglob("*.py")):
        rel = path.relative_to(ROOT)
        dotted = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        if path.name in ("__init__.py", "__main__.py"):
            continue
        if str(rel.as_posix()) not in named and not any(
                n == dotted or n.startswith(dotted + ".") for n in named):
            absent.append(rel.as_posix())
    assert not absent, f"modules the doc does not mention: {absent}"
