"""Run summary: a row per iteration (summary.csv) and headline metrics for DVC (summary.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from vidreward.critic.base import Critique
from vidreward.layout import IterationPaths, iteration_index


def iteration_row(iter_dir: Path, iteration: int) -> dict[str, Any]:
    critique = Critique.load(IterationPaths.in_dir(iter_dir, "critique"))
    train_log = pd.read_csv(IterationPaths.in_dir(iter_dir, "train_log"))
    last = train_log.iloc[-1] if len(train_log) else {}
    components = [c.removeprefix("reward/") for c in train_log.columns if c.startswith("reward/")]
    provenance = json.loads(IterationPaths.in_dir(iter_dir, "provenance").read_text())
    row: dict[str, Any] = {
        "iteration": iteration,
        "gap": critique.gap,
        "critic": critique.backend,
        "n_problems": len(critique.problems),
        "n_edits": len(critique.rewrite) + len(critique.remove) + len(critique.new),
        "env_steps": int(last.get("env_steps", 0)) if len(train_log) else 0,
        "mean_return": float(last.get("mean_return", float("nan"))) if len(train_log) else None,
        "mean_episode_length": float(last.get("mean_episode_length", float("nan")))
        if len(train_log)
        else None,
        "reward_components": " ".join(components),
        "wall_s": round(sum(provenance.get("wall_time_s", {}).values()), 2),
    }
    imitation = critique.descriptors.get("imitation") or {}
    if "score" in imitation:  # the oracle critic scores the selection against the clip's truth
        row["imitation_score"] = imitation["score"]
        row["imitation_source"] = "truth"
    row.update(search_columns(iter_dir))
    for who in ("expert", "robot"):
        for key, value in sorted(critique.descriptors.get(who, {}).items()):
            row[f"{who}/{key}"] = value
    return row


def search_columns(iter_dir: Path) -> dict[str, Any]:
    """The iteration's search: K, what was selected, and each candidate's gap and change (none
    for an iteration directory of a single reward, without a selection record)."""
    path = IterationPaths.in_dir(iter_dir, "selection")
    if not path.is_file():
        return {}
    record = json.loads(path.read_text())
    winner = record["winner"]
    cols: dict[str, Any] = {
        "candidates": len(record["candidates"]),
        **selected_imitation(record),
        "selected": IterationPaths.candidate_name(winner["candidate"]) if winner["kind"] == "candidate"
        else f"incumbent (iteration {winner['from_iteration']})",
        "selected_change": winner["label"],
    }
    trained = 0
    for c in record["candidates"]:
        cand_dir = IterationPaths.candidate_in_dir(iter_dir, c["candidate"])
        log = pd.read_csv(IterationPaths.in_dir(cand_dir, "train_log"))
        trained += int(log["env_steps"].iloc[-1]) if len(log) and "env_steps" in log else 0
    cols["search_env_steps"] = trained  # every candidate's training (the selection's is env_steps)
    for c in record["candidates"]:
        name = IterationPaths.candidate_name(c["candidate"])
        cols[f"{name}/gap"] = c["gap"]
        cols[f"{name}/imitation"] = c.get("imitation")
        cols[f"{name}/change"] = c["label"]
    return cols


def selected_imitation(record: dict[str, Any]) -> dict[str, Any]:
    """The selection's imitation score and its source (``truth`` or ``video``): the winning
    candidate's, or for a kept incumbent the value it had (filled in by :func:`write_summary`)."""
    winner = record["winner"]
    if winner["kind"] != "candidate":
        return {}
    row = next(c for c in record["candidates"] if c["candidate"] == winner["candidate"])
    if row.get("imitation") is None:
        return {}
    return {"imitation_score": row["imitation"], "imitation_source": row.get("imitation_source")}


def write_summary(
    provenance_files: list[str | Path], table_out: str | Path, metrics_out: str | Path
) -> pd.DataFrame:
    """A row per iteration, one for each iteration's ``provenance.json`` (the rule's inputs)."""
    iter_dirs = sorted((Path(p).parent for p in provenance_files), key=iteration_index)
    rows = [iteration_row(d, iteration_index(d)) for d in iter_dirs]
    for before, row in zip(rows, rows[1:]):  # a kept incumbent scores what it scored before
        if row.get("imitation_score") is None and str(row.get("selected", "")).startswith("incumbent"):
            for key in ("imitation_score", "imitation_source"):
                if before.get(key) is not None:
                    row[key] = before[key]
    iterations = len(rows)
    table = pd.DataFrame(rows)
    table.to_csv(table_out, index=False)
    gaps = [r["gap"] for r in rows if r["gap"] is not None]
    metrics: dict[str, Any] = {
        "iterations": iterations,
        "final_mean_return": rows[-1]["mean_return"],
        "total_env_steps": int(sum(r.get("search_env_steps", r["env_steps"]) for r in rows)),
        "candidates": int(rows[-1].get("candidates", 1)),
    }
    scores = [r["imitation_score"] for r in rows if r.get("imitation_score") is not None]
    if scores:
        metrics.update(final_imitation_score=scores[-1], best_imitation_score=max(scores))
    if gaps:
        metrics.update(
            initial_gap=gaps[0],
            final_gap=gaps[-1],
            best_gap=min(gaps),
            gap_reduction=(gaps[0] - gaps[-1]) / gaps[0] if gaps[0] else 0.0,
        )
    Path(metrics_out).write_text(json.dumps(metrics, indent=2) + "\n")
    return table
