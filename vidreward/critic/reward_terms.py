"""The current reward's components, as the analytic critic reads them: from the ``TERMS = {...}``
literal at the top of analytically written code (``ast.literal_eval``), else from the
``reward/<name>`` columns of ``train_log.csv``.
"""

from __future__ import annotations

import ast
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidreward.errors import CritiqueError


@dataclass
class RewardTerms:
    """Components of the current reward and what is known about them."""

    names: set[str] = field(default_factory=set)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # from TERMS
    shares: dict[str, float] = field(default_factory=dict)  # |last logged value| / sum, train_log
    source: str = "none"

    def dominant(self, name: str) -> bool:
        if name not in self.names:
            return False
        if self.shares:
            return self.shares.get(name, 0.0) > 0.5
        # TERMS written by vidreward.reward.terms scale each term by params["scale"]
        weights = {k: v.get("scale", v.get("weight")) for k, v in self.params.items() if isinstance(v, dict)}
        weights = {k: abs(float(w)) for k, w in weights.items() if isinstance(w, (int, float))}
        if name in weights:
            return weights[name] >= max(weights.values())
        return False


def terms_from_code(code: str) -> dict[str, dict[str, Any]] | None:
    """The top-level ``TERMS = {...}`` literal of reward code, or None when there is none."""
    try:
        tree = ast.parse(code or "")
    except SyntaxError:
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
        if any(isinstance(t, ast.Name) and t.id == "TERMS" for t in targets):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, SyntaxError):
                return None
            if isinstance(value, dict):
                return {str(k): (v if isinstance(v, dict) else {}) for k, v in value.items()}
            if isinstance(value, (list, tuple, set)):
                return {str(k): {} for k in value}
    return None


def terms_from_train_log(path: Path | None) -> tuple[set[str], dict[str, float]]:
    """Component names (``reward/<name>`` columns) and each one's share of the last row's magnitude."""
    if path is None or not Path(path).exists():
        return set(), {}
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
            header = rows[0].keys() if rows else []
    except (OSError, csv.Error) as exc:
        raise CritiqueError(f"{path}: cannot read train log ({exc})") from exc
    cols = [c for c in header if c and c.startswith("reward/")]
    names = {c.split("/", 1)[1] for c in cols}
    shares: dict[str, float] = {}
    if rows:
        last = {}
        for c in cols:
            try:
                last[c.split("/", 1)[1]] = abs(float(rows[-1][c]))
            except (TypeError, ValueError):
                continue
        total = sum(v for v in last.values() if np.isfinite(v))
        if total > 0:
            shares = {k: v / total for k, v in last.items() if np.isfinite(v)}
    return names, shares


def current_terms(code: str, train_log: Path | None) -> RewardTerms:
    literal = terms_from_code(code)
    names, shares = terms_from_train_log(train_log)
    if literal is not None:
        return RewardTerms(set(literal), literal, shares, "TERMS literal")
    return RewardTerms(names, {}, shares, "train_log columns" if names else "none")
