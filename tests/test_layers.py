"""No module of the ``vidreward`` package imports from a higher layer (docs/ARCHITECTURE.md, "Layers").

Imports are read with ``ast`` (the modules are not imported), including imports inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vidreward"

#: lowest first; a module may import from its own layer and the ones below it
LAYERS: list[tuple[str, ...]] = [
    ("vidreward", "vidreward.errors", "vidreward.fsutil", "vidreward.gl", "vidreward.logutil",
     "vidreward.layout"),
    ("vidreward.video",),
    ("vidreward.lm",),
    ("vidreward.sim",),
    ("vidreward.reward",),
    ("vidreward.perception",),
    ("vidreward.critic", "vidreward.imitation", "vidreward.reflection"),
    ("vidreward.rewriter",),
    ("vidreward.train",),
    ("vidreward.backends", "vidreward.search"),
    ("vidreward.config", "vidreward.config_schema", "vidreward.verify", "vidreward.provenance",
     "vidreward.summary", "vidreward.report", "vidreward.compare"),
    ("vidreward.stages", "vidreward.search.stages", "vidreward.search.robustness", "vidreward.cli"),
]


def layer_of(module: str) -> int | None:
    """Index of the layer holding ``module`` (the longest matching unit), None when none does."""
    best, best_len = None, -1
    for index, units in enumerate(LAYERS):
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and len(unit) > best_len:
                best, best_len = index, len(unit)
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``vidreward`` import in ``path`` (``from vidreward import x``
    counts as ``vidreward.x`` when ``x`` is a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                is_module = (PACKAGE.parent / Path(*sub.split("."))).with_suffix(".py").is_file() or (
                    PACKAGE.parent / Path(*sub.split("."))).is_dir()
                found.append((node.lineno, sub if is_module else base))
    return [(line, name) for line, name in found if name == "vidreward" or name.startswith("vidreward.")]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    missing = [module_name(p) for p in MODULES if layer_of(module_name(p)) is None]
    assert not missing, f"modules in no layer (add them to LAYERS and the doc): {missing}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_import_from_a_higher_layer(path: Path):
    module = module_name(path)
    own = layer_of(module)
    assert own is not None
    upward = []
    for line, target in sorted(set(imported_modules(path, module))):
        target_layer = layer_of(target)
        if target_layer is None:
            upward.append(f"line {line}: {target} (in no layer)")
        elif target_layer > own:
            upward.append(f"line {line}: {target} (layer {target_layer} > {own})")
    assert not upward, f"{module} imports from a higher layer: " + "; ".join(upward)


def test_layers_match_the_doc():
    doc = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = doc.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and line[2:3].isdigit()]
    documented = [tuple(part.strip(" `") for part in row.split("|")[2].split(",")) for row in rows]
    assert documented == LAYERS
