"""One function per workflow stage. Each Snakemake script calls exactly one of these; each of
these wires the concern modules together and writes exactly the outputs its rule declares.

Stages take typed settings (:class:`vidreward.config.RunSettings`, :class:`ClipConfig`) and the
paths the rule declares, which come from :mod:`vidreward.layout`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from vidreward.backends import make_critic, make_rewriter
from vidreward.config import ClipConfig, RunSettings
from vidreward.critic.base import Critique, CritiqueInput
from vidreward.fsutil import atomic_write_text
from vidreward.layout import SHIPPED_DIR
from vidreward.reflection import training_statistics
from vidreward.reward.confine import confine_process
from vidreward.reward.env_context import environment_context
from vidreward.reward.loader import reward_digest
from vidreward.reward.validate import validate_reward_code
from vidreward.rewriter.base import RewriteVideos, TaskSpec
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


def _accept_reward(
    code: str, robot: str, reward_out: str, validation_out: str, report=None
) -> None:
    """Write reward code that passed validation. Code a model rewriter already validated (its
    ``last_report`` is of this very code) is not sandboxed a second time."""
    if report is None or report.sha256 != reward_digest(code):
        report = validate_reward_code(code, robot, origin=reward_out)
    atomic_write_text(reward_out, code)
    atomic_write_text(validation_out, json.dumps(report.to_dict(), indent=2) + "\n")
    log.info("accepted %s with components %s", reward_out, report.components)


def initial_reward_stage(
    settings: RunSettings,
    expert_clip: str,
    lm_cache_dir: str,
    lm_dir: str,
    reward_out: str,
    validation_out: str,
) -> None:
    Path(lm_cache_dir).mkdir(parents=True, exist_ok=True)  # DVC tracks it even when unused
    task = TaskSpec(robot=settings.robot, description=settings.task)
    rewriter = make_rewriter(settings.rewriter, Path(lm_dir))
    code = rewriter.initial(task, environment_context(task.robot), expert_clip=Path(expert_clip))
    _accept_reward(code, task.robot, reward_out, validation_out, getattr(rewriter, "last_report", None))


def rewrite_reward_stage(
    settings: RunSettings,
    previous_reward: str,
    critique_path: str,
    train_log: str,
    expert_clip: str,
    rollout_video: str,
    lm_dir: str,
    reward_out: str,
    validation_out: str,
) -> None:
    task = TaskSpec(robot=settings.robot, description=settings.task)
    rewriter = make_rewriter(settings.rewriter, Path(lm_dir))
    code = rewriter.rewrite(
        task,
        Path(previous_reward).read_text(),
        Critique.load(critique_path),
        environment_context(task.robot),
        training_statistics(train_log),
        videos=RewriteVideos(Path(expert_clip), Path(rollout_video), Path(lm_dir)),
    )
    _accept_reward(code, task.robot, reward_out, validation_out, getattr(rewriter, "last_report", None))


def train_stage(
    settings: RunSettings,
    iteration: int,
    reward_path: str,
    init_checkpoint: str | None,
    policy_out: str,
    train_log_out: str,
    tb_out: str,
    threads: int,
) -> None:
    from vidreward.train.ppo import train_policy

    cfg = settings.train_config(iteration)
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


def render_stage(
    settings: RunSettings,
    policy_path: str,
    reward_path: str,
    video_out: str,
    trajectory_out: str,
    expert_evidence: str | None = None,
) -> dict:
    from vidreward.config import rollout_seed
    from vidreward.sim import get_robot
    from vidreward.train.rollout import rollout_policy

    camera = rollout_camera(expert_evidence)
    use_models(settings.robot_model)
    confine_process(write_dirs=sorted({Path(video_out).parent, Path(trajectory_out).parent}))
    steps = max(1, round(settings.rollout.seconds / get_robot(settings.robot).dt))
    return rollout_policy(
        policy_path,
        reward_path,
        settings.robot,
        video_out=video_out,
        trajectory_out=trajectory_out,
        steps=steps,
        seed=rollout_seed(settings.seed),
        render_size=settings.rollout.render_size,
        camera=camera,
    )


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


def clip_evidence_stage(video: str, evidence_out: str) -> None:
    """Motion evidence of the trimmed expert clip (what its camera does, among the rest)."""
    from vidreward.perception.evidence import analyse_clip

    evidence = analyse_clip(video)
    atomic_write_text(Path(evidence_out), evidence.to_json() + "\n")
    log.info("%s: camera %s", video, evidence.value("camera_motion"))


def critique_stage(
    settings: RunSettings,
    feedback_path: str,
    expert_clip: str,
    rollout_video: str,
    trajectory: str,
    reward_path: str,
    train_log: str,
    critique_out: str,
    markdown_out: str,
    critic_dir: str,
) -> Critique:
    """The critique of one iteration. A model or human critic's critique carries no measurement;
    with ``critic.evidence: measured`` the analytic critic's gap, descriptors and cross-check are
    added to it (and so reach the rewriter), with ``none`` it stays as the critic wrote it."""
    from vidreward.critic.analytic import AnalyticCritic

    Path(critic_dir).mkdir(parents=True, exist_ok=True)
    use_models(settings.robot_model)  # the critic measures the robot's geometry
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
    critic = make_critic(settings.critic, Path(feedback_path))
    critique = critic.critique(inp)
    if critique.gap is None and settings.critic.evidence == "measured":
        measured = AnalyticCritic().critique(inp)
        critique.gap, critique.descriptors = measured.gap, measured.descriptors
        critique.crosscheck = measured.crosscheck
    critique.save(critique_out, markdown_out)
    return critique
