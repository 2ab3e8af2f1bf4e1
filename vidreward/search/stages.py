"""The workflow stages of the search within an iteration: propose K reward candidates, unpack one,
score one, cut after screening (successive halving) and select the winner. Each Snakemake script
of these rules calls exactly one of these functions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vidreward.backends import make_rewriter
from vidreward.config import RunSettings
from vidreward.critic.base import Critique, CritiqueInput
from vidreward.errors import CritiqueError
from vidreward.fsutil import atomic_copy
from vidreward.layout import SCREEN_DIR, SCREEN_SELECTED, SELECTED, IterationPaths
from vidreward.reflection import training_statistics
from vidreward.reward.env_context import environment_context
from vidreward.reward.loader import reward_digest
from vidreward.reward.validate import validate_reward_code
from vidreward.rewriter.base import RewriteVideos, TaskSpec
from vidreward.search import selection as sel
from vidreward.search.proposals import read_proposals, write_candidate_reward, write_proposals
from vidreward.sim.robots import use_models

log = logging.getLogger("vidreward.search")


@dataclass
class PreviousIteration:
    """What a rewrite reads of the iteration before: its selected reward, critique, training log,
    rollout and selection record."""

    reward: str
    critique: str
    train_log: str
    rollout: str
    selection: str


def propose_rewards_stage(settings: RunSettings, iteration: int, expert_clip: str, lm_dir: str,
                          proposals_out: str, previous: PreviousIteration | None = None,
                          lm_cache_dir: str | None = None) -> None:
    """``search.candidates`` distinct reward candidates, each validated, into ``proposals.json``."""
    if lm_cache_dir is not None:
        Path(lm_cache_dir).mkdir(parents=True, exist_ok=True)  # DVC tracks it even when unused
    task = TaskSpec(robot=settings.robot, description=settings.task)
    rewriter = make_rewriter(settings.rewriter, Path(lm_dir))
    k = settings.search.candidates
    context = environment_context(task.robot)
    if previous is None:
        proposals = rewriter.propose_initial(task, context, Path(expert_clip), k)
    else:
        proposals = rewriter.propose_rewrites(
            task,
            Path(previous.reward).read_text(),
            Critique.load(previous.critique),
            context,
            training_statistics(previous.train_log),
            RewriteVideos(Path(expert_clip), Path(previous.rollout), Path(lm_dir)),
            k,
            sel.history_of(sel.load_json(previous.selection, "selection record")),
        )
    for j, p in enumerate(proposals):
        if p.report is None or p.report.sha256 != reward_digest(p.code):
            p.report = validate_reward_code(p.code, task.robot, origin=f"{proposals_out} candidate {j}")
    write_proposals(proposals_out, proposals, rewriter.name, iteration)
    log.info("proposed %d candidates: %s", len(proposals), "; ".join(p.label for p in proposals))


def candidate_reward_stage(proposals: str, candidate: int, reward_out: str, validation_out: str) -> None:
    entry = write_candidate_reward(proposals, candidate, reward_out, validation_out)
    log.info("candidate %d: %s", candidate, entry["label"])


def measuring_critic(settings: RunSettings, truth: str | None = None):
    """The critic whose measurement scores candidates: the oracle when the run's critic is the
    oracle (it reads the clip's truth file), else the analytic critic (video against video)."""
    if settings.critic.backend == "oracle":
        from vidreward.critic.oracle import OracleCritic

        return OracleCritic(truth)
    from vidreward.critic.analytic import AnalyticCritic

    return AnalyticCritic()


def imitation_of(critique, inp: CritiqueInput, truth: str | None) -> tuple[float | None, str | None]:
    """The candidate's imitation score (:mod:`vidreward.imitation`) and what it compares with: the
    clip's truth file where the clip has one (``"truth"``), else the clip's motion evidence against
    the rollout's (``"video"``, the measuring critique's descriptors); None when nothing compares."""
    from vidreward.critic.oracle import OracleCritic
    from vidreward.imitation import imitation_score

    measured = critique.descriptors.get("imitation") or {}
    if "score" in measured:  # the oracle critique scored the truth already
        return float(measured["score"]), "truth"
    if truth:
        return OracleCritic(truth).imitation(inp), "truth"
    expert, robot = critique.descriptors.get("expert"), critique.descriptors.get("robot")
    if not expert or not robot:
        return None, None
    try:
        return imitation_score(expert, robot), "video"
    except CritiqueError:
        return None, None


def reuse_screening(survivors: str | None, candidate: int, what: str,
                    outputs: dict[str, str | Path]) -> bool:
    """Under successive halving, a candidate stopped after screening (``survivors``) takes its
    screening rung's artifacts as its own: ``outputs`` maps layout names to the candidate's files,
    and the screening run's file of each name (``<candidate dir>/screen/``) is copied onto it.
    Returns whether it was stopped (None ``survivors``: no halving, nothing copied)."""
    if survivors is None or not sel.stopped_after_screening(survivors, candidate):
        return False
    for name, out in outputs.items():
        atomic_copy(IterationPaths.in_dir(Path(out).parent / SCREEN_DIR, name), out)
    log.info("candidate %d stopped after screening: its %s is its result", candidate, what)
    return True


def score_stage(settings: RunSettings, candidate: int, expert_clip: str, rollout_video: str,
                trajectory: str, reward_path: str, train_log: str, score_out: str,
                critique_out: str, markdown_out: str, critic_dir: str, rung: str | None = None,
                truth: str | None = None, survivors: str | None = None) -> dict:
    """Measure one candidate's rollout: its critique (kept for the iteration's critique when it
    wins) and ``score.json`` with the selection objective. Under successive halving a candidate
    stopped after screening (``survivors``) has its screening rollout, so its screening score,
    critique and critic directory are copied, not measured again; its ``rung`` stays ``screen``:
    it trained the screening budget only."""
    import pandas as pd

    if reuse_screening(survivors, candidate, "screening score", {
            "score": score_out, "critique": critique_out, "critique_md": markdown_out,
            "critic_dir": critic_dir}):
        return sel.load_json(score_out, "candidate score")
    Path(critic_dir).mkdir(parents=True, exist_ok=True)
    use_models(settings.robot_model)
    inp = CritiqueInput(
        expert_clip=Path(expert_clip), rollout_video=Path(rollout_video),
        trajectory=Path(trajectory), reward_code=Path(reward_path).read_text(),
        train_log=Path(train_log), out_dir=Path(critic_dir), robot=settings.robot, task=settings.task,
    )
    critique = measuring_critic(settings, truth).critique(inp)
    critique.save(critique_out, markdown_out)
    table = pd.read_csv(train_log)
    mean_return = float(table["mean_return"].iloc[-1]) if len(table) and "mean_return" in table else None
    imitation, source = imitation_of(critique, inp, truth)
    record = sel.score_record(settings.search, candidate, critique.gap, mean_return,
                              critique.backend, critique.descriptors.get("robot"), rung,
                              imitation=imitation, imitation_source=source)
    sel.write_record(score_out, record)
    log.info("candidate %d (%s): gap %s, mean return %s", candidate, rung or "full",
             critique.gap, mean_return)
    return record


def halve_stage(settings: RunSettings, screen_scores: list[str], survivors_out: str) -> dict:
    scores = [sel.load_json(p, "screening score") for p in screen_scores]
    record = sel.survivors(settings.search, scores)
    sel.write_record(survivors_out, record)
    log.info("after screening: %s continue, %s stop", record["keep"], record["stopped"])
    return record


def select_stage(settings: RunSettings, run: str, iteration: int, proposals: str,
                 scores: list[str], selection_out: str, outputs: dict[str, str],
                 incumbent_selection: str | None = None, screen_scores: list[str] | None = None) -> dict:
    """Pick the winner of the iteration (or keep the incumbent) and copy its reward, validation,
    policy, training log, rollout and trajectory to the iteration's own paths (``outputs``). Under
    successive halving ``screen_scores`` are the screening scores: a candidate whose screening
    checkpoint measured better than its full training competes with that checkpoint
    (:func:`vidreward.search.selection.best_checkpoint`), whose reward is the candidate's own."""
    props = {int(c["candidate"]): c for c in read_proposals(proposals)["candidates"]}
    it = IterationPaths(run, iteration)
    screened = {int(s["candidate"]): s for s in (sel.load_json(p, "screening score")
                                                  for p in screen_scores or [])}
    candidates = []
    for path in scores:
        score = sel.load_json(path, "candidate score")
        k = int(score["candidate"])
        candidates.append({"candidate": k, "label": props[k]["label"], "digest": props[k]["digest"],
                           "dir": str(it.cand(k).dir), "score": score, "screen_score": screened.get(k)})
    incumbent = None
    if incumbent_selection is not None:
        incumbent = {"selection": sel.load_json(incumbent_selection, "selection record"),
                     "dir": str(it.previous.dir)}
    record = sel.select(settings.search, iteration, candidates, incumbent)
    source = Path(record["winner"]["dir"])
    for name in SELECTED:
        # a screening checkpoint's directory holds its run's files; the reward is the candidate's
        where = source.parent if source.name == SCREEN_DIR and name not in SCREEN_SELECTED else source
        atomic_copy(IterationPaths.in_dir(where, name), outputs[name])
    sel.write_record(selection_out, record)
    log.info("selection: %s", record["why"])
    return record
