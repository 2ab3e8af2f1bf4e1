"""An iteration's ``proposals.json``: the K reward candidates the rewriter proposed, each with its
label (what it changes), digest and validation report; :func:`write_candidate_reward` unpacks one
candidate into its ``reward.py`` and ``reward_validation.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vidreward.errors import RewardCodeError
from vidreward.fsutil import atomic_write_text
from vidreward.rewriter.base import Proposal


def write_proposals(path: str | Path, proposals: list[Proposal], backend: str, iteration: int,
                    parents: list[dict[str, Any] | None] | None = None) -> None:
    """Record the proposals; each one's ``report`` must be its code's ValidationReport. ``parents``
    (one per proposal, None: the incumbent) names the reward a proposal revises when it is not the
    incumbent's: the runner-up's iteration, candidate and policy (its warm start)."""
    parents = parents or [None] * len(proposals)
    record = {
        "iteration": iteration,
        "backend": backend,
        "candidates": [
            {"candidate": k, "label": p.label, "digest": p.digest, "code": p.code,
             "validation": p.report.to_dict(), **({"parent": parent} if parent else {})}
            for k, (p, parent) in enumerate(zip(proposals, parents, strict=True))
        ],
    }
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")


def read_proposals(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
        data["candidates"][0]
    except (OSError, json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
        raise RewardCodeError(f"{path}: not a proposals record ({exc})", check="proposals") from exc
    return data


def write_candidate_reward(proposals_path: str | Path, k: int, reward_out: str | Path,
                           validation_out: str | Path) -> dict[str, Any]:
    """Candidate ``k``'s reward code and validation report, as proposed."""
    data = read_proposals(proposals_path)
    entries = {int(c["candidate"]): c for c in data["candidates"]}
    if k not in entries:
        raise RewardCodeError(f"{proposals_path}: has no candidate {k} (it holds {sorted(entries)}); "
                              "search.candidates changed since it was written: rerun the proposal",
                              check="proposals")
    entry = entries[k]
    atomic_write_text(reward_out, entry["code"])
    atomic_write_text(validation_out, json.dumps(entry["validation"], indent=2) + "\n")
    return entry


def warm_start_of(proposals_path: str | Path, k: int, default: str | None) -> str | None:
    """The policy candidate ``k`` warm-starts from: its parent's (a revision of the runner-up starts
    from the runner-up's policy) when the run warm-starts at all (``default`` not None), else
    ``default`` (the incumbent's policy, or None)."""
    if default is None:
        return None
    entries = {int(c["candidate"]): c for c in read_proposals(proposals_path)["candidates"]}
    parent = (entries.get(k) or {}).get("parent") or {}
    return parent.get("policy") or default
