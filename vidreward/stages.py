"""One function per workflow stage. Each Snakemake script calls exactly one of these; each of
these wires the concern modules together and writes exactly the outputs its rule declares.

Stages take typed settings (:class:`vidreward.config.RunSettings`, :class:`ClipConfig`) and the
paths the rule declares, which come from :mod:`vidreward.layout`."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from vidreward.backends import make_critic
from vidreward.config import ClipConfig, RunSettings
from vidreward.critic.base import SEARCH_TITLE, Critique, CritiqueInput
from vidreward.fsutil import atomic_copy, atomic_write_text
from vidreward.layout import SCREEN_DIR, SHIPPED_DIR, STORYBOARD, IterationPaths
from vidreward.reward.confine import confine_process
from vidreward.sim.robots import use_models

log = logging.getLogger("vidreward.stages")


def fetch_stage(clip: ClipConfig, video_out: str, info_out: str, cache_dir: str) -> dict:
    from vidreward.video.fetch import fetch_clip

    source = dict(clip.source)
    if "url" in source:
        source.update(start=clip.start, end=clip.end)
    # Shipped clips are read from the workflow's own checkout (the working directory).
    info = fetch_clip(source, Path(video_out), Path(cache_dir), shipped_dir=Path(SHIPPED_DIR))
    atomic_write_text(info_out, json.dumps(info, indent=2, sort_keys=True) + "\n")
    log.info("fetched %s -> %s", source, video_out)
    return info


def trim_stage(
    clip: ClipConfig, video_in: str, info_in: str, video_out: str, sidecar_out: str
) -> dict:
    from vidreward.video.trim import trim_clip

    info = json.loads(Path(info_in).read_text())
    # A URL is fetched for [start, end] only, so the downloaded video starts at `start`.
    offset = float(info["source"]["start"]) if info.get("kind") == "url" else 0.0
    if clip.licence != "unknown":
        info["licence"] = clip.licence
    sidecar = trim_clip(
        video_in,
        video_out,
        start=clip.start - offset,
        end=clip.end - offset,
        fps=clip.fps,
        size=clip.height,
        source_info=info,
    )
    if Path(sidecar_out) != Path(video_out).with_suffix(".json"):
        Path(sidecar_out).write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
    return sidecar


def train_stage(
    settings: RunSettings,
    iteration: int,
    reward_path: str,
    init_checkpoint: str | None,
    policy_out: str,
    train_log_out: str,
    tb_out: str,
    threads: int,
    candidate: int = 0,
    rung: str | None = None,
    survivors: str | None = None,
    proposals: str | None = None,
) -> None:
    """PPO on one candidate's reward. Under successive halving (``search.halving``) the screening
    rung (``rung="screen"``) trains ``screen_fraction`` of the budget; the final rung of a candidate
    that survived the cut (``survivors``) trains the rest from its screening checkpoint, and one
    that did not keeps its screening policy, log and events as its result. A warm-started candidate
    that revises the runner-up (its entry in ``proposals``) starts from the runner-up's policy
    instead of the incumbent's ``init_checkpoint``."""
    from vidreward.search.proposals import warm_start_of
    from vidreward.search.stages import reuse_screening
    from vidreward.train.ppo import train_policy

    cfg = settings.train_config(iteration, candidate)
    halving = settings.search.halving
    screen = None
    if halving is not None:
        screen_steps = max(1, round(halving.screen_fraction * cfg.total_env_steps))
        if rung is not None:
            cfg = dataclasses.replace(cfg, total_env_steps=screen_steps)
        else:
            if reuse_screening(survivors, candidate, "screening run",
                               {"policy": policy_out, "train_log": train_log_out, "tb": tb_out}):
                return
            screen = Path(policy_out).parent / SCREEN_DIR
            cfg = dataclasses.replace(cfg, total_env_steps=cfg.total_env_steps - screen_steps)
            init_checkpoint = str(IterationPaths.in_dir(screen, "policy"))
    if proposals is not None and screen is None:  # a continued survivor starts from its screening run
        init_checkpoint = warm_start_of(proposals, candidate, init_checkpoint)
    use_models(settings.robot_model)
    out_dirs = {Path(p).parent for p in (policy_out, train_log_out, tb_out)}
    confine_process(write_dirs=sorted(out_dirs))  # before any reward code is loaded
    train_policy(
        reward_path,
        settings.robot,
        cfg,
        policy_out=policy_out,
        train_log_out=train_log_out,
        tb_out=tb_out,
        init_checkpoint=init_checkpoint,
        threads=threads,
    )
    if screen is not None:
        _prepend_screen_log(IterationPaths.in_dir(screen, "train_log"), train_log_out)


def _prepend_screen_log(screen_log: Path, train_log: str) -> None:
    """A continued candidate's log from env step 0: the screening rows, then its own (offset)."""
    import pandas as pd

    first, rest = pd.read_csv(screen_log), pd.read_csv(train_log)
    if "env_steps" in rest and len(first):
        rest["env_steps"] += int(first["env_steps"].iloc[-1])
    atomic_write_text(train_log, pd.concat([first, rest], ignore_index=True).to_csv(index=False))


def render_stage(
    settings: RunSettings,
    policy_path: str,
    reward_path: str,
    video_out: str,
    trajectory_out: str,
    expert_evidence: str | None = None,
    candidate: int = 0,
    survivors: str | None = None,
) -> dict | None:
    """The deterministic rollout of a policy: video and trajectory. Under successive halving a
    candidate stopped after screening (``survivors``) keeps its screening policy, so its screening
    rollout (the same policy, seed and camera) is copied, not rendered again (returns None then)."""
    from vidreward.config import rollout_seed
    from vidreward.search.stages import reuse_screening

    if reuse_screening(survivors, candidate, "screening rollout",
                       {"rollout": video_out, "trajectory": trajectory_out}):
        return None
    camera = rollout_camera(expert_evidence)
    use_models(settings.robot_model)
    confine_process(write_dirs=sorted({Path(video_out).parent, Path(trajectory_out).parent}))
    return replay_rollout(settings, policy_path, reward_path, rollout_seed(settings.seed), video_out,
                          trajectory_out, camera)


def replay_rollout(settings: RunSettings, policy: str | Path, reward: str | Path, seed: int,
                   video: str | Path, trajectory: str | Path, camera: str) -> dict[str, Any]:
    """The run's rollout of ``policy`` (its length and frame size, ``camera``) from reset seed
    ``seed``, written to ``video`` and ``trajectory``: ``rollout_policy``'s statistics. Every
    rollout of a run (the rendered candidate's, its further scoring episodes, the robustness
    replays) is this one."""
    from vidreward.sim import get_robot
    from vidreward.train.rollout import rollout_policy

    steps = max(1, round(settings.rollout.seconds / get_robot(settings.robot).dt))
    return rollout_policy(policy, reward, settings.robot, video_out=video, trajectory_out=trajectory,
                          steps=steps, seed=seed, render_size=settings.rollout.render_size,
                          camera=camera)


def replay_episode_into(settings: RunSettings, policy: str | Path, reward: str | Path, seed: int,
                        out_dir: Path, camera: str) -> tuple[Path, Path, dict[str, Any]]:
    """:func:`replay_rollout` into ``out_dir``'s rollout video and trajectory (the layout's
    names): ``(video, trajectory, statistics)``. A candidate's further scoring episodes and the
    robustness replays are written this way."""
    from vidreward.layout import IterationPaths

    video = IterationPaths.in_dir(out_dir, "rollout")
    trajectory = IterationPaths.in_dir(out_dir, "trajectory")
    played = replay_rollout(settings, policy, reward, seed, video, trajectory, camera)
    return video, trajectory, played


def rollout_camera(expert_evidence: str | None) -> str:
    """The rollout is filmed like the expert: from a fixed camera when the clip's camera stood
    still, else from the robot's tracking camera."""
    if expert_evidence is None:
        return "tracking"
    record = json.loads(Path(expert_evidence).read_text())
    style = record.get("quantities", {}).get("camera_motion", {}).get("value")
    camera = "fixed" if style == "fixed" else "tracking"
    log.info("expert clip's camera: %s -> rollout camera %s", style, camera)
    return camera


def clip_evidence_stage(video: str, evidence_out: str, measurement_out: str) -> None:
    """Motion evidence of the trimmed expert clip (what its camera does, among the rest), and the
    same measurement's record with its overlays (``measurement_out``) that the analytic critic of
    every candidate reads instead of measuring the clip again."""
    from vidreward.critic.analytic import measure_expert_clip

    evidence = measure_expert_clip(video, measurement_out)
    atomic_write_text(Path(evidence_out), evidence.to_json() + "\n")
    log.info("%s: camera %s", video, evidence.value("camera_motion"))


MEASURING_CRITICS = ("analytic", "oracle")
"""Critics whose critique is the measurement itself (made when a candidate is scored)."""


def _search_part(settings: RunSettings, record: dict) -> dict:
    """What the critique says of the iteration's search (``record``: its selection)."""
    from vidreward.search.selection import search_markdown

    if (settings.critic.evidence == "none" and settings.critic.backend not in MEASURING_CRITICS
            and settings.search.selection == "gap"):
        # the critic's own words only: the search table's measured gaps would be evidence (a
        # fitness, Eureka's, is what that method sees: its table shows only the fitness)
        return {"winner": record["winner"]}
    return {"winner": record["winner"], "why": record["why"], "text": search_markdown(record)}


def critique_stage(
    settings: RunSettings,
    feedback_path: str,
    expert_clip: str,
    rollout_video: str,
    trajectory: str,
    reward_path: str,
    train_log: str,
    selection: str,
    critique_out: str,
    markdown_out: str,
    critic_dir: str,
) -> Critique:
    """The critique of one iteration's selection (the winning candidate or the kept incumbent).

    The measurement of the selection was made when it was scored (its directory, named by
    ``selection.json``, holds that critique and storyboard). The analytic and oracle critics'
    critique is that measurement; a model or human critic looks at the selected rollout, and with
    ``critic.evidence: measured`` the measured gap, descriptors and cross-check are added to its
    critique (and so reach the rewriter), with ``none`` it stays as the critic wrote it. With
    measured evidence the critique carries the search: every candidate's change and score, and why
    the winner won; with ``none`` only which candidate was selected (the scores are measurements)."""
    from vidreward.search.selection import load_json

    record = load_json(selection, "selection record")
    source = Path(record["winner"]["dir"])
    measured = Critique.load(IterationPaths.in_dir(source, "critique"))
    if settings.critic.backend in MEASURING_CRITICS:
        atomic_copy(IterationPaths.in_dir(source, "critic_dir"), critic_dir)
        critique = measured
    else:
        Path(critic_dir).mkdir(parents=True, exist_ok=True)
        use_models(settings.robot_model)
        inp = CritiqueInput(
            expert_clip=Path(expert_clip),
            rollout_video=Path(rollout_video),
            trajectory=Path(trajectory),
            reward_code=Path(reward_path).read_text(),
            train_log=Path(train_log),
            out_dir=Path(critic_dir),
            robot=settings.robot,
            task=settings.task,
        )
        critique = make_critic(settings.critic, Path(feedback_path)).critique(inp)
        if critique.gap is None and settings.critic.evidence == "measured":
            critique.gap, critique.descriptors = measured.gap, measured.descriptors
            critique.crosscheck = measured.crosscheck
            board = source / STORYBOARD  # the measurement's overlays, beside the model's frames
            if board.is_dir():
                shutil.copytree(board, Path(critic_dir).parent / STORYBOARD, dirs_exist_ok=True)
    critique.search = _search_part(settings, record)
    if settings.critic.backend in MEASURING_CRITICS:
        # the measured critique's own markdown (the oracle's opening note among it), plus the search
        critique.save(critique_out)
        measured_md = IterationPaths.in_dir(source, "critique_md").read_text()
        head = measured_md.split(f"\n## {SEARCH_TITLE}", 1)[0].rstrip("\n")
        atomic_write_text(markdown_out, f"{head}\n\n## {SEARCH_TITLE}\n\n{critique.search['text'].strip()}\n")
    else:
        critique.save(critique_out, markdown_out)
    return critique


def robustness_stage(settings: RunSettings, policies: list[str], rewards: list[str],
                     train_logs: list[str], critiques: list[str], expert_clip: str,
                     expert_evidence: str, episodes: int, episodes_dir: str, table_out: str,
                     summary_out: str, truth: str | None = None,
                     expert_measurement: str | None = None) -> dict:
    """Each iteration's selected policy replayed from ``episodes`` reset seeds and measured as the
    run scores a candidate (:mod:`vidreward.search.robustness`; ``expert_measurement``: the clip's
    record of rule ``clip_evidence``, read instead of measuring the clip for every episode)."""
    from vidreward.search.robustness import SelectedPolicy, evaluate_robustness

    files = list(zip(policies, rewards, train_logs, critiques, strict=True))
    selections = [SelectedPolicy(i, Path(p), Path(r), Path(t), Path(c))
                  for i, (p, r, t, c) in enumerate(files)]
    camera = rollout_camera(expert_evidence)
    use_models(settings.robot_model)
    out_dirs = {Path(episodes_dir), Path(table_out).parent, Path(summary_out).parent}
    confine_process(write_dirs=sorted(out_dirs))  # before any reward code is loaded
    summary = evaluate_robustness(settings, selections, episodes, expert_clip, camera, episodes_dir,
                                  table_out, summary_out, truth=truth,
                                  expert_measurement=expert_measurement)
    for i, part in summary["iterations"].items():
        log.info("iteration %s: run gap %s; over %d episodes median %.3f, worst %.3f, fell %.0f%%",
                 i, part["run_gap"], summary["episodes"], part["median_gap"], part["worst_gap"],
                 100 * part["fell_share"])
    return summary
