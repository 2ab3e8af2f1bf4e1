"""Checks of one ``provenance.json`` (its ``outputs`` and ``inputs``) against the files on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vidreward.fsutil import relative_posix
from vidreward.verify.result import Check, VerifyError, check_hash, resolve_path


def _load_provenance(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise VerifyError(f"{path}: cannot read provenance: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("outputs", {}), dict):
        raise VerifyError(f"{path}: provenance must be an object with an 'outputs' mapping")
    return data


def check_provenance(prov_path: Path, repo_root: Path, outputs_only: bool = False) -> list[Check]:
    """Checks for one ``provenance.json``."""
    data = _load_provenance(prov_path)
    source = relative_posix(prov_path, repo_root)
    checks = []
    sections = [("outputs", "output")] + ([] if outputs_only else [("inputs", "input")])
    for key, kind in sections:
        entries = data.get(key) or {}
        if not isinstance(entries, dict):
            raise VerifyError(f"{prov_path}: '{key}' must map paths to sha256 strings")
        for rel, expected in sorted(entries.items()):
            if expected is not None and not isinstance(expected, str):
                raise VerifyError(f"{prov_path}: {key}[{rel!r}] is not a sha256 string")
            checks.append(check_hash(source, kind, rel, resolve_path(rel, repo_root), expected))
    return checks
