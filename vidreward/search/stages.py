"""The workflow stages of the search within an iteration: propose K reward candidates, unpack one,
score one, cut after screening (successive halving) and select the winner. Each Snakemake script
of these rules calls exactly one of these functions."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from vidreward.backends import make_rewriter
from vidreward.config import RunSettings
from vidreward.critic.base import Critique, CritiqueInput
from vidreward.errors import ConfigError, CritiqueError
from vidreward.fsutil import atomic_copy
from vidreward.layout import RUNNER_UP_DIR, SCREEN_DIR, SCREEN_SELECTED, SELECTED, IterationPaths
from vidreward.reflection import training_statistics
from vidreward.reward.confine import confine_process
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
    rollout and selection record (and, for the runner-up, the policy its revisions start from)."""

    reward: str
    critique: str
    train_log: str
    rollout: str
    selection: str
    policy: str | None = None


def propose_rewards_stage(settings: RunSettings, iteration: int, expert_clip: str, lm_dir: str,
                          proposals_out: str, previous: PreviousIteration | None = None,
                          lm_cache_dir: str | None = None) -> None:
    """``search.candidates`` distinct reward candidates, each validated, into ``proposals.json``.

    After an iteration that kept its incumbent, ``search.runner_up_candidates()`` of them revise
    the runner-up (:func:`runner_up_of`) by its own critique, labelled as such and recorded with
    the runner-up as their parent (whose policy they warm-start from), and the rest move on from
    the incumbent; no two are the same candidate."""
    if lm_cache_dir is not None:
        Path(lm_cache_dir).mkdir(parents=True, exist_ok=True)  # DVC tracks it even when unused
    task = TaskSpec(robot=settings.robot, description=settings.task)
    rewriter = make_rewriter(settings.rewriter, Path(lm_dir))
    k = settings.search.candidates
    context = environment_context(task.robot)
    if previous is None:
        proposals, parents = rewriter.propose_initial(task, context, Path(expert_clip), k), None
    else:
        selection = sel.load_json(previous.selection, "selection record")
        history = sel.history_of(selection)
        runner_up = runner_up_of(selection, previous.selection)
        n_runner = settings.search.runner_up_candidates() if runner_up is not None else 0

        def revise(rw, source: PreviousIteration, n: int, hist, out_dir: Path):
            return rw.propose_rewrites(
                task, Path(source.reward).read_text(), Critique.load(source.critique), context,
                training_statistics(source.train_log),
                RewriteVideos(Path(expert_clip), Path(source.rollout), out_dir), n, hist)

        proposals = revise(rewriter, previous, k - n_runner, history, Path(lm_dir))
        parents = [None] * len(proposals)
        if n_runner:
            # the runner-up's own critique revises its reward; its model exchanges are kept apart
            runner_dir = Path(lm_dir) / RUNNER_UP_DIR
            pending = dataclasses.replace(history, incumbent_kept=False,
                                          pending=frozenset(p.digest for p in proposals))
            extra = revise(make_rewriter(settings.rewriter, runner_dir), runner_up, n_runner, pending,
                           runner_dir)
            record = selection["runner_up"]
            for p in extra:
                p.label = (f"from the runner-up (iteration {record['iteration']}'s cand_{record['candidate']}, "
                           f"{selection['objective']} {record['value']:.3f}): {p.label}")
            proposals += extra
            parents += [{"kind": "runner_up", "iteration": record["iteration"],
                         "candidate": record["candidate"], "policy": runner_up.policy}] * len(extra)
    for j, p in enumerate(proposals):
        if p.report is None or p.report.sha256 != reward_digest(p.code):
            p.report = validate_reward_code(p.code, task.robot, origin=f"{proposals_out} candidate {j}")
    write_proposals(proposals_out, proposals, rewriter.name, iteration, parents)
    log.info("proposed %d candidates: %s", len(proposals), "; ".join(p.label for p in proposals))


def runner_up_of(selection: dict, selection_path: str) -> PreviousIteration | None:
    """The runner-up a selection record names (the best candidate that lost to the kept incumbent)
    as a source to revise: its reward, and the critique, training log and rollout it was measured
    by and its policy (those of its screening run when its screening checkpoint competed); None
    when there is none."""
    record = selection.get("runner_up")
    if not record:
        return None
    measured = Path(record["dir"])
    candidate = measured.parent if measured.name == SCREEN_DIR else measured
    iteration_dir = Path(selection_path).parent
    if candidate.parent.resolve() != iteration_dir.resolve():
        raise ConfigError(f"{selection_path}: runner_up.dir {record['dir']!r} is not a candidate "
                          f"directory of {iteration_dir}")
    return PreviousIteration(
        reward=str(IterationPaths.in_dir(candidate, "reward")),
        critique=str(IterationPaths.in_dir(measured, "critique")),
        train_log=str(IterationPaths.in_dir(measured, "train_log")),
        rollout=str(IterationPaths.in_dir(measured, "rollout")),
        selection=selection_path,
        policy=str(IterationPaths.in_dir(measured, "policy")),
    )


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
                truth: str | None = None, survivors: str | None = None,
                policy: str | None = None, expert_evidence: str | None = None,
                expert_measurement: str | None = None) -> dict:
    """Measure one candidate's rollout: its critique (kept for the iteration's critique when it
    wins) and ``score.json`` with the selection objective. With ``search.episodes`` > 1 the
    candidate's ``policy`` is rolled out again from the next reset seeds (filmed like its own
    rollout: ``expert_evidence`` picks the camera) and measured over all of them
    (:func:`more_episodes`). ``expert_measurement``: the clip's record of rule ``clip_evidence``,
    which the analytic critic reads instead of measuring the clip again. Under successive halving a candidate stopped after screening
    (``survivors``) has its screening rollout, so its screening score, critique and critic
    directory are copied, not measured again; its ``rung`` stays ``screen``: it trained the
    screening budget only."""
    import pandas as pd

    if reuse_screening(survivors, candidate, "screening score", {
            "score": score_out, "critique": critique_out, "critique_md": markdown_out,
            "critic_dir": critic_dir}):
        return sel.load_json(score_out, "candidate score")
    Path(critic_dir).mkdir(parents=True, exist_ok=True)
    use_models(settings.robot_model)
    episodes: tuple[tuple[Path, Path], ...] = ()
    if settings.search.episodes > 1:
        writes = {Path(p).parent for p in (score_out, critique_out, markdown_out)} | {Path(critic_dir)}
        confine_process(write_dirs=sorted(writes))  # before the reward code is loaded to replay
        episodes = more_episodes(settings, policy, reward_path, Path(critic_dir) / EPISODES_DIR,
                                 expert_evidence)
    inp = CritiqueInput(
        expert_clip=Path(expert_clip), rollout_video=Path(rollout_video),
        trajectory=Path(trajectory), reward_code=Path(reward_path).read_text(),
        train_log=Path(train_log), out_dir=Path(critic_dir), robot=settings.robot, task=settings.task,
        episodes=episodes,
        expert_measurement=Path(expert_measurement) if expert_measurement else None,
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


EPISODES_DIR = "episodes"  # under a candidate's critic/: its further rollouts, seed_<s>/ each


def more_episodes(settings: RunSettings, policy: str | None, reward_path: str, out_dir: Path,
                  expert_evidence: str | None) -> tuple[tuple[Path, Path], ...]:
    """``search.episodes - 1`` more rollouts of a candidate's policy, from the reset seeds after
    the run's rollout seed, into ``out_dir/seed_<s>/``: ``(video, trajectory)`` each."""
    from vidreward.config import rollout_seed
    from vidreward.search.robustness import episode_seeds
    from vidreward.stages import replay_episode_into, rollout_camera

    if policy is None:
        raise ConfigError(f"config runs.{settings.name}.search.episodes={settings.search.episodes}: "
                          "scoring more than one rollout needs the candidate's policy")
    camera = rollout_camera(expert_evidence)
    out = []
    for seed in episode_seeds(rollout_seed(settings.seed), settings.search.episodes)[1:]:
        video, trajectory, played = replay_episode_into(settings, policy, reward_path, seed,
                                                        out_dir / f"seed_{seed}", camera)
        log.info("episode from seed %d: %d steps%s", seed, played["steps"],
                 ", fell" if played["terminated"] else "")
        out.append((video, trajectory))
    return tuple(out)


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
