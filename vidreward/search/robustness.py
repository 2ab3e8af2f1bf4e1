"""Robustness of a run's selections: each iteration's selected policy replayed from other starts.

The search measures every candidate on ONE rollout, from the run seed's reset state. A policy
that hops for two seconds and then stands, or that falls from most other reset states, can win
on that one rollout. This stage replays each iteration's selected policy (its ``policy.pth`` and
``reward.py``) from ``episodes`` reset seeds (the run's rollout seed, then the next ones), films
and measures each rollout exactly as the run scores a candidate (its measuring critic: the
analytic critic's video-against-video gap, or the oracle's), and tabulates per episode the gap,
the imitation score, whether the robot fell (the episode ended before the rollout's length) and
the measured descriptors. The first seeds are the run's own rollouts: with ``search.episodes``
1 the first row reproduces the iteration's critique; with more, the critique measured the median
over the first ``search.episodes`` seeds' rollouts. Per iteration the summary gives the median,
mean and worst gap over the episodes and the share that fell. An iteration that kept its incumbent (the same policy and
reward files) has the incumbent's episodes, copied, not replayed again.

Opt-in (not part of the default target): ``snakemake results/<run>/robustness/summary.json``;
``robustness_episodes`` in the config sets the number of episodes.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidreward.critic.base import Critique, CritiqueInput
from vidreward.errors import ConfigError
from vidreward.fsutil import atomic_file, atomic_write_text, hash_path

log = logging.getLogger(__name__)

EPISODE_DIR = "iter_{i}/seed_{seed}"  # under the robustness episodes directory


@dataclass(frozen=True)
class SelectedPolicy:
    """What one iteration selected: the files the robustness replay reads."""

    iteration: int
    policy: Path
    reward: Path
    train_log: Path
    critique: Path


def episode_seeds(rollout_seed: int, episodes: int) -> list[int]:
    """The reset seeds replayed: the run's rollout seed first, then the next ``episodes - 1``."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ConfigError(f"robustness_episodes={episodes!r}: must be a positive integer")
    return [rollout_seed + j for j in range(episodes)]


def replay_episode(settings: Any, selected: SelectedPolicy, seed: int, out_dir: Path, camera: str,
                   expert_clip: Path, critic: Any, truth: str | None,
                   expert_measurement: Path | None = None) -> dict[str, Any]:
    """Roll ``selected`` out from reset seed ``seed`` into ``out_dir`` (video, trajectory, the
    measuring ``critic``'s critique) and return the episode's row."""
    from vidreward.layout import IterationPaths
    from vidreward.search.stages import imitation_of
    from vidreward.stages import replay_episode_into
    from vidreward.sim import get_robot

    dt = get_robot(settings.robot).dt
    video, trajectory, played = replay_episode_into(settings, selected.policy, selected.reward, seed,
                                                    out_dir, camera)
    inp = CritiqueInput(
        expert_clip=expert_clip, rollout_video=video, trajectory=trajectory,
        reward_code=selected.reward.read_text(), train_log=selected.train_log,
        out_dir=IterationPaths.in_dir(out_dir, "critic_dir"), robot=settings.robot, task=settings.task,
        expert_measurement=expert_measurement)
    critique = critic.critique(inp)
    critique.save(IterationPaths.in_dir(out_dir, "critique"), IterationPaths.in_dir(out_dir, "critique_md"))
    imitation, source = imitation_of(critique, inp, truth)
    row: dict[str, Any] = {
        "iteration": selected.iteration,
        "seed": seed,
        "steps": int(played["steps"]),
        "seconds": round(int(played["steps"]) * dt, 6),
        "fell": bool(played["terminated"]),
        "gap": critique.gap,
        "imitation_score": imitation,
        "imitation_source": source,
        "critic": critique.backend,
    }
    for key, value in sorted((critique.descriptors.get("robot") or {}).items()):
        row[f"robot/{key}"] = value
    return row


def summarize(rows: list[dict[str, Any]], run_gaps: dict[int, float | None]) -> dict[str, Any]:
    """Per iteration: the run's own gap (its critique) and, over the replayed episodes, the
    median, mean and worst gap, the median imitation score and the share of episodes that fell."""
    import pandas as pd

    table = pd.DataFrame(rows)
    out: dict[str, Any] = {"episodes": int(table.groupby("iteration").size().max()), "iterations": {}}
    for i, part in table.groupby("iteration"):
        gaps = part["gap"].astype(float)
        imitation = part["imitation_score"].dropna().astype(float)
        out["iterations"][str(int(i))] = {
            "run_gap": run_gaps.get(int(i)),
            "seeds": [int(s) for s in part["seed"]],
            "median_gap": float(gaps.median()),
            "mean_gap": float(gaps.mean()),
            "worst_gap": float(gaps.max()),
            "best_gap": float(gaps.min()),
            "fell_share": float(part["fell"].astype(bool).mean()),
            "median_imitation": float(imitation.median()) if len(imitation) else None,
        }
    return out


def evaluate_robustness(settings: Any, selections: list[SelectedPolicy], episodes: int,
                        expert_clip: str | Path, camera: str, episodes_dir: str | Path,
                        table_out: str | Path, summary_out: str | Path,
                        truth: str | None = None,
                        expert_measurement: str | Path | None = None) -> dict[str, Any]:
    """Replay every selection from :func:`episode_seeds` and write the per-episode table
    (``table_out``, CSV) and the per-iteration summary (``summary_out``, JSON); the episodes'
    videos, trajectories and critiques go to ``episodes_dir/iter_<i>/seed_<s>/``. One measuring
    critic measures every episode; ``expert_measurement`` (the clip's record of rule
    ``clip_evidence``) spares it measuring the expert clip again for each."""
    import pandas as pd

    from vidreward.config import rollout_seed
    from vidreward.search.stages import measuring_critic

    if not selections:
        raise ConfigError(f"{settings.name}: no iteration to replay")
    seeds = episode_seeds(rollout_seed(settings.seed), episodes)
    rows, run_gaps = [], {}
    critic = measuring_critic(settings, truth)
    measurement = Path(expert_measurement) if expert_measurement else None
    replayed: dict[tuple[str, str], int] = {}  # (policy, reward) digests -> iteration replayed
    for selected in selections:
        run_gaps[selected.iteration] = Critique.load(selected.critique).gap
        same_as = replayed.setdefault((hash_path(selected.policy), hash_path(selected.reward)),
                                      selected.iteration)
        for seed in seeds:
            out_dir = Path(episodes_dir) / EPISODE_DIR.format(i=selected.iteration, seed=seed)
            if same_as == selected.iteration:
                row = replay_episode(settings, selected, seed, out_dir, camera, Path(expert_clip),
                                     critic, truth, measurement)
                log.info("iteration %d, seed %d: gap %.3f, %s %.2f s", selected.iteration, seed,
                         row["gap"], "fell after" if row["fell"] else "ran the full", row["seconds"])
            else:  # a kept incumbent: the same policy and reward replay the same episodes
                shutil.copytree(Path(episodes_dir) / EPISODE_DIR.format(i=same_as, seed=seed), out_dir)
                row = next(dict(r, iteration=selected.iteration) for r in rows
                           if r["iteration"] == same_as and r["seed"] == seed)
            rows.append(row)
    summary = summarize(rows, run_gaps)
    summary.update(run=settings.name, critic=rows[0]["critic"])
    with atomic_file(table_out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    atomic_write_text(summary_out, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
