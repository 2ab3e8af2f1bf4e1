"""Scoring the candidates of an iteration and selecting the winner, best-so-far.

Each candidate's ``score.json`` holds the selection objective measured on its rollout (the critic's
measured gap to the clip, ``gap``; the final mean episode return, ``mean_return``). The selection of
iteration ``i`` ranks its candidates by the objective of ``search.selection``; with
``search.keep_best`` the incumbent (iteration ``i-1``'s selection, whose rollout is the same file,
so its score is comparable) stays unless a candidate beats it. ``selection.json`` records every
candidate's label, digest and scores, the incumbent, the winner, why it won, the best value so far
(non-increasing gap), the runner-up when the incumbent is kept (the best candidate that lost, which
the next iteration also revises: ``search.runner_up_share``) and the run's whole candidate history
(what the next rewrite sees).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from vidreward.errors import ConfigError
from vidreward.fsutil import atomic_write_text
from vidreward.layout import SCREEN_DIR
from vidreward.rewriter.base import CandidateRecord, SearchHistory
from vidreward.search.config import COMPARABLE_ACROSS_REWARDS as COMPARABLE
from vidreward.search.config import OBJECTIVES, SearchConfig


def score_record(search: SearchConfig, k: int, gap: float | None, mean_return: float | None,
                 backend: str, robot: dict[str, float] | None = None,
                 rung: str | None = None, imitation: float | None = None,
                 imitation_source: str | None = None) -> dict[str, Any]:
    """A candidate's ``score.json``: every objective and the one that selects (``value``).
    ``imitation_source`` says what the imitation score compares the robot with: ``truth`` (the
    clip's truth file) or ``video`` (the clip's motion evidence)."""
    values = {"gap": gap, "mean_return": mean_return, "imitation": imitation}
    return {
        "candidate": k,
        "rung": rung or "full",
        "objective": search.selection,
        "value": _finite(values[search.selection]),
        "gap": _finite(gap),
        "mean_return": _finite(mean_return),
        "imitation": _finite(imitation),
        "imitation_source": imitation_source,
        "critic": backend,
        "robot": dict(robot or {}),
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def load_json(path: str | Path, what: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}") from exc


def rank(search: SearchConfig, scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scores best first (a missing value last, ties by candidate index)."""
    def key(s):
        v = s.get("value")
        if v is None:
            return (1, 0.0, s["candidate"])
        return (0, v if search.lower_wins else -v, s["candidate"])

    return sorted(scores, key=key)


def survivors(search: SearchConfig, screen_scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Successive halving: which candidates continue after screening, and why."""
    n = search.halving.survivors(len(screen_scores))
    ranked = rank(search, screen_scores)
    keep = sorted(s["candidate"] for s in ranked[:n])
    return {
        "objective": search.selection,
        "keep": keep,
        "stopped": sorted(s["candidate"] for s in ranked[n:]),
        "screen": [{"candidate": s["candidate"], "value": s.get("value")} for s in screen_scores],
        "why": f"the best {n} of {len(screen_scores)} by {search.selection} after screening",
    }


def stopped_after_screening(survivors_path: str | Path, candidate: int) -> bool:
    """Whether successive halving stopped ``candidate`` after screening (``survivors.json``): its
    screening run, rollout and score are then its result."""
    record = load_json(survivors_path, "successive-halving cut")
    if candidate not in record.get("keep", []) and candidate not in record.get("stopped", []):
        raise ConfigError(f"{survivors_path}: candidate {candidate} is neither kept nor stopped")
    return candidate in record["stopped"]


def best_checkpoint(search: SearchConfig, candidate: dict[str, Any]) -> dict[str, Any]:
    """The candidate as it is selected: under successive halving with ``best_checkpoint``, a
    candidate that trained on to the full budget but whose screening checkpoint measured better
    (its ``screen_score``, the same reward's policy earlier in the same training) is its screening
    checkpoint: that score, with ``full_value`` the full training's, and its screening directory
    (``<dir>/screen``), whose policy, rollout and critique the selection then takes. Otherwise the
    candidate unchanged."""
    full, screen = candidate["score"], candidate.get("screen_score")
    if (screen is None or search.halving is None or not search.halving.best_checkpoint
            or full.get("rung", "full") == SCREEN_DIR or not search.better(screen.get("value"), full.get("value"))):
        return candidate
    return {**candidate, "score": {**screen, "full_value": full.get("value")},
            "dir": str(Path(candidate["dir"]) / SCREEN_DIR)}


def select(search: SearchConfig, iteration: int, candidates: list[dict[str, Any]],
           incumbent: dict[str, Any] | None) -> dict[str, Any]:
    """The selection record of one iteration.

    ``candidates``: per candidate ``{"candidate", "label", "digest", "dir", "score"}`` and, under
    successive halving, its ``screen_score`` (:func:`best_checkpoint`); ``incumbent``: the previous
    iteration's selection record and directory (``{"selection", "dir"}``) or None for iteration 0."""
    candidates = [best_checkpoint(search, c) for c in candidates]
    scores = [dict(c["score"], candidate=c["candidate"]) for c in candidates]
    best = rank(search, scores)[0]
    by_k = {c["candidate"]: c for c in candidates}
    winner_c = by_k[best["candidate"]]
    rows = [{"candidate": c["candidate"], "label": c["label"], "digest": c["digest"],
             "gap": c["score"].get("gap"), "mean_return": c["score"].get("mean_return"),
             "imitation": c["score"].get("imitation"),
             "imitation_source": c["score"].get("imitation_source"),
             "value": c["score"].get("value"), "rung": c["score"].get("rung", "full"),
             **({"full_value": c["score"]["full_value"]} if "full_value" in c["score"] else {})}
            for c in candidates]
    inc = None
    if incumbent is not None:
        prev = incumbent["selection"]
        inc = {"from_iteration": iteration - 1, "value": prev["best_value"],
               "label": prev["winner"]["label"], "dir": str(incumbent["dir"])}
    values = ", ".join(_fmt(r["value"]) for r in rows)
    what = f"cand_{best['candidate']} ({winner_c['label']})"
    runner_up = None
    if inc is not None and search.keeps_best and not search.better(best.get("value"), inc["value"]):
        winner = {"kind": "incumbent", "candidate": None, "label": inc["label"],
                  "dir": inc["dir"], "value": inc["value"], "from_iteration": iteration - 1}
        why = (f"no candidate beats the incumbent: the best, {what}, has {search.selection} "
               f"{_fmt(best.get('value'))} against the incumbent's {_fmt(inc['value'])} (iteration "
               f"{iteration - 1}'s selection), so its reward and policy carry over")
        if best.get("value") is not None and search.runner_up_candidates() > 0:
            runner_up = {"candidate": best["candidate"], "label": winner_c["label"],
                         "digest": winner_c["digest"], "dir": str(winner_c["dir"]),
                         "value": best.get("value"), "iteration": iteration}
            why += (f"; cand_{best['candidate']} is the runner-up: the next iteration proposes "
                    f"{search.runner_up_candidates()} of its candidates from its reward and critique")
    else:
        winner = {"kind": "candidate", "candidate": best["candidate"], "label": winner_c["label"],
                  "dir": str(winner_c["dir"]), "value": best.get("value"), "from_iteration": iteration}
        why = f"{what} has the best {search.selection} of the {len(rows)} candidates ({values})"
        if inc is not None:
            why += (f" and beats the incumbent's {_fmt(inc['value'])}" if search.keeps_best
                    else " (the incumbent is not compared: best-so-far is off or the objective "
                         "does not compare across rewards)")
    earlier = [f"cand_{r['candidate']}'s screening checkpoint ({_fmt(r['value'])}) measured better than "
               f"its full training ({_fmt(r['full_value'])}), so that policy is the candidate's"
               for r in rows if "full_value" in r]
    if earlier:
        why += "; " + "; ".join(earlier)
    history = list((incumbent or {}).get("selection", {}).get("history", []))
    history += [dataclasses.asdict(CandidateRecord(
        iteration=iteration, candidate=r["candidate"], label=r["label"], digest=r["digest"],
        gap=r["gap"] if search.selection == "gap" else None,
        fitness=r["mean_return"] if search.selection == "gap" else r["value"],
        won=winner["kind"] == "candidate" and winner["candidate"] == r["candidate"]))
        for r in rows]
    return {
        "iteration": iteration,
        "objective": search.selection,
        "objective_meaning": OBJECTIVES[search.selection],
        "keep_best": search.keep_best,
        "candidates": rows,
        "incumbent": inc,
        "winner": winner,
        "incumbent_kept": winner["kind"] == "incumbent",
        "runner_up": runner_up,
        "why": why,
        "best_value": winner["value"],
        "history": history,
    }


def write_record(path: str | Path, record: dict[str, Any]) -> None:
    """Write a search record (score, survivors, selection) as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")


def history_of(selection: dict[str, Any] | None) -> SearchHistory:
    """What the next rewrite knows of the search so far."""
    if not selection:
        return SearchHistory()
    return SearchHistory(
        candidates=[CandidateRecord(**h) for h in selection.get("history", [])],
        incumbent_kept=bool(selection.get("incumbent_kept")),
    )


def search_markdown(selection: dict[str, Any]) -> str:
    """The selection for a critique: every candidate's change and score, the winner and why.

    With the ``gap`` objective the table shows the gap and the mean return; with any other it
    shows only that objective's values, so a run selected by a fitness (Eureka's) is not shown the
    gap measured on the video."""
    objective = selection["objective"]
    columns = ["gap", "mean_return"] if objective == "gap" else [objective]
    heads = " | ".join(c.replace("_", " ") for c in columns)
    lines = [f"Selection by {objective} ({selection['objective_meaning']}).", "",
             f"| candidate | change | {heads} | stage | selected |",
             "|---:|---|" + "---:|" * len(columns) + "---|---|"]
    w = selection["winner"]
    for r in selection["candidates"]:
        mark = "yes" if w["kind"] == "candidate" and w["candidate"] == r["candidate"] else ""
        cells = " | ".join(_fmt(r.get(c) if c != objective else r["value"]) for c in columns)
        stage = r["rung"] + (f" checkpoint (full training {_fmt(r['full_value'])})" if "full_value" in r else "")
        lines.append(f"| {r['candidate']} | {r['label']} | {cells} | {stage} | {mark} |")
    inc = selection.get("incumbent")
    if inc is not None:
        kept = "kept" if w["kind"] == "incumbent" else "replaced"
        cells = " | ".join(_fmt(inc["value"]) if c == objective and objective in COMPARABLE else ""
                           for c in columns)
        lines.append(f"| incumbent | iteration {inc['from_iteration']}'s selection ({inc['label']}) | "
                     f"{cells} | | {kept} |")
    lines += ["", f"Why: {selection['why']}."]
    return "\n".join(lines)


def _fmt(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, (int, float)) else "-"
