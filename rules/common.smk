# Input functions and helpers shared by the rules. No rule logic lives here.
from pathlib import Path

from vidreward.compare.matrix import MatrixConfig
from vidreward.config import ClipConfig, RunSettings, runs_to_build
from vidreward.layout import (
    DOWNLOAD_CACHE_DIR,
    RECORDED,
    SCREEN_DIR,
    SCREEN_SELECTED,
    SELECTED,
    SUITE_FILES,
    ClipPaths,
    ComparisonPaths,
    IterationPaths,
    RunPaths,
    feedback_file,
    ratings_file,
    shipped_clip,
)

# Training spreads the simulation over every core (Snakemake caps this at --cores).
TRAIN_THREADS = os.cpu_count() or 1


wildcard_constraints:
    run=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    i=r"\d+",
    clip=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    k=r"\d+",
    suite_clip=r"(quad|human)_[a-z_]+",
    name=r"[A-Za-z0-9][A-Za-z0-9_-]*",


def run_settings(wildcards):
    return RunSettings.from_config(config, wildcards.run)


def clip_of_run(wildcards):
    return config["runs"][wildcards.run]["clip"]


def clip_config(wildcards):
    return ClipConfig.from_config(config, wildcards.clip)


def clip_config_of_run(wildcards):
    return ClipConfig.from_config(config, clip_of_run(wildcards))


def iteration_index(wildcards):
    return int(wildcards.i)


def run_clip_video(wildcards):
    return ClipPaths(clip_of_run(wildcards)).path("video")


def run_clip_evidence(wildcards):
    return ClipPaths(clip_of_run(wildcards)).path("evidence")


def run_clip_measurement(wildcards):
    return ClipPaths(clip_of_run(wildcards)).path("measurement")


def run_clip_sidecar(wildcards):
    return ClipPaths(clip_of_run(wildcards)).path("sidecar")


def candidate_index(wildcards):
    return int(wildcards.k)


def run_clip_truth(wildcards):
    """The clip's truth file where it declares one: the oracle critic reads it, and every
    candidate's imitation score compares with it."""
    truth = getattr(clip_config_of_run(wildcards), "truth", None)
    return [truth] if truth else []


def candidates_of(wildcards):
    return range(run_settings(wildcards).search.candidates)


def halving_of(wildcards):
    return run_settings(wildcards).search.halving is not None


def candidate_train_inputs(wildcards):
    """A candidate's reward, its warm start and, under successive halving, the cut and its
    screening run (the final rung continues from it or keeps it)."""
    it = iteration_paths(wildcards)
    k = int(wildcards.k)
    inputs = candidate_warm_start_inputs(wildcards)
    if halving_of(wildcards):
        screen = it.cand(k, SCREEN_DIR)
        inputs["survivors"] = str(it.path("survivors"))
        # the screening job's files (its tb/ directory comes with them and is read by the stage,
        # but a directory's mtime moves whenever anything restores it, e.g. `dvc checkout`, and
        # would retrain every candidate)
        inputs["screen"] = [str(screen.path(n)) for n in ("policy", "train_log")]
    return inputs


def candidate_warm_start_inputs(wildcards):
    """A candidate's reward and warm start: the incumbent's policy and, where the iteration may
    revise the runner-up, the proposals (which say whose revision the candidate is) and the
    previous iteration's candidate policies a runner-up's revision starts from."""
    it = iteration_paths(wildcards)
    inputs = {
        "reward": str(it.cand(int(wildcards.k)).path("reward")),
        "init": warm_start_policy(wildcards),
    }
    policies = runner_up_sources(wildcards, ("policy",)) if inputs["init"] else []
    if policies:
        inputs.update(proposals=str(it.path("proposals")), runner_up_policies=policies)
    return inputs


def _screening_inputs(wildcards, names):
    """Under successive halving, the cut and the screening run's ``names`` (a candidate stopped
    after screening takes them as its own: the stage finds them in its screen/ directory, they are
    declared so that the job waits for them); nothing without halving."""
    if not halving_of(wildcards):
        return {}
    it = iteration_paths(wildcards)
    screen = it.cand(int(wildcards.k), SCREEN_DIR)
    inputs = {"survivors": str(it.path("survivors"))}
    inputs.update({f"screen_{n}": str(screen.path(n)) for n in names})
    return inputs


def candidate_render_inputs(wildcards):
    """A candidate's policy, reward and the clip's evidence (the rollout camera), and under
    halving the screening rollout a stopped candidate keeps."""
    it = iteration_paths(wildcards)
    k = int(wildcards.k)
    inputs = {
        "policy": str(it.cand(k).path("policy")),
        "reward": str(it.cand(k).path("reward")),
        "evidence": run_clip_evidence(wildcards),
    }
    inputs.update(_screening_inputs(wildcards, ("rollout", "trajectory")))
    return inputs


def candidate_score_inputs(wildcards):
    """What scoring a candidate reads (its policy and the clip's evidence for the further
    rollouts of ``search.episodes``), and under halving the screening score a stopped
    candidate keeps (its critique and critic/ directory come with it, same job)."""
    it = iteration_paths(wildcards)
    k = int(wildcards.k)
    inputs = {
        n: str(it.cand(k).path(n))
        for n in ("rollout", "trajectory", "reward", "train_log", "policy")
    }
    inputs.update(
        clip=run_clip_video(wildcards),
        truth=run_clip_truth(wildcards),
        evidence=run_clip_evidence(wildcards),
        measurement=run_clip_measurement(wildcards),
    )
    inputs.update(_screening_inputs(wildcards, ("score", "critique", "critique_md")))
    return inputs


def screen_scores(wildcards):
    it = iteration_paths(wildcards)
    return [str(it.cand(k, SCREEN_DIR).path("score")) for k in candidates_of(wildcards)]


def incumbent_selection(wildcards):
    """The previous iteration's selection record (the incumbent), none for iteration 0."""
    return [previous("selection")(wildcards)] if int(wildcards.i) > 0 else []


def selection_inputs(wildcards):
    """Every candidate's score and selectable artifacts, and the incumbent's."""
    it = iteration_paths(wildcards)
    inputs = {
        "proposals": str(it.path("proposals")),
        "incumbent": incumbent_selection(wildcards),
    }
    inputs["scores"] = [str(it.cand(k).path("score")) for k in candidates_of(wildcards)]
    if halving_of(wildcards):
        # a candidate's screening checkpoint competes when it measured better than its full run
        inputs["screen_scores"] = screen_scores(wildcards)
        for name in SCREEN_SELECTED:
            inputs[f"screen_{name}"] = [
                str(it.cand(k, SCREEN_DIR).path(name)) for k in candidates_of(wildcards)
            ]
    for name in SELECTED:
        inputs[f"cand_{name}"] = [
            str(it.cand(k).path(name)) for k in candidates_of(wildcards)
        ]
        if int(wildcards.i) > 0:
            inputs[f"incumbent_{name}"] = previous(name)(wildcards)
    return inputs


def measured_runs(wildcards, it):
    """Every run of iteration ``it`` that has a measured rollout: each candidate's final run and,
    under successive halving, its screening run."""
    runs = [it.cand(k) for k in candidates_of(wildcards)]
    if halving_of(wildcards):
        runs += [it.cand(k, SCREEN_DIR) for k in candidates_of(wildcards)]
    return runs


def critique_inputs(wildcards):
    """The selection, the selected rollout and the measured critiques it may come from."""
    it = iteration_paths(wildcards)
    inputs = {
        name: str(it.path(name))
        for name in ("selection", "rollout", "trajectory", "reward", "train_log")
    }
    inputs["clip"] = run_clip_video(wildcards)
    inputs["feedback"] = human_feedback(wildcards)
    sources = measured_runs(wildcards, it)
    if int(wildcards.i) > 0:
        sources.append(it.previous)
    # each measured critique's critic/ directory comes with it (same job) and is copied by the
    # stage; a directory is not declared: its mtime moves whenever it is restored (dvc checkout)
    inputs["measured"] = [str(s.path("critique")) for s in sources]
    return inputs


RUNNER_UP_SOURCES = ("reward", "critique", "train_log", "rollout")


def runner_up_sources(wildcards, names=RUNNER_UP_SOURCES):
    """What a rewrite may revise besides the incumbent (``names`` of each): every candidate of the
    previous iteration (and its screening run) whose selection may name it the runner-up; none in
    iteration 0 or when the run proposes nothing from a runner-up (search.runner_up_share).
    """
    if (
        int(wildcards.i) == 0
        or run_settings(wildcards).search.runner_up_candidates() == 0
    ):
        return []
    sources = measured_runs(wildcards, iteration_paths(wildcards, -1))
    return [
        str(s.path(name))
        for s in sources
        for name in names
        if name != "reward" or s.rung is None
    ]


def candidate_rollouts(wildcards):
    it = iteration_paths(wildcards)
    return [str(it.cand(k).path("rollout")) for k in candidates_of(wildcards)]


def provenance_inputs(wildcards):
    """What the provenance record of an iteration holds: its own artifacts, every candidate's, the clip
    and the warm start."""
    it = iteration_paths(wildcards)
    inputs = {name: str(it.path(name)) for name in RECORDED if name != "provenance"}
    inputs["candidates"] = [
        p
        for k in candidates_of(wildcards)
        for p in it.candidate_recorded(k, halving_of(wildcards))
    ]
    if halving_of(wildcards):
        inputs["survivors"] = str(it.path("survivors"))
    inputs.update(
        clip=run_clip_video(wildcards),
        sidecar=run_clip_sidecar(wildcards),
        init=warm_start_policy(wildcards),
    )
    return inputs


def iteration_paths(wildcards, offset=0):
    return IterationPaths(wildcards.run, int(wildcards.i) + offset)


def previous(name):
    """Input function: artifact ``name`` of the previous iteration."""

    def fn(wildcards):
        return str(iteration_paths(wildcards, -1).path(name))

    return fn


def warm_start_policy(wildcards):
    """The previous iteration's policy when the run warm-starts, else nothing."""
    if int(wildcards.i) > 0 and run_settings(wildcards).warm_start:
        return str(iteration_paths(wildcards, -1).path("policy"))
    return []


def human_feedback(wildcards):
    """The person's feedback file, once written (human critic backend only)."""
    if run_settings(wildcards).critic.backend != "human":
        return []
    path = feedback_path(wildcards)
    return [path] if os.path.exists(path) else []


def feedback_path(wildcards):
    return feedback_file(config["feedback_dir"], wildcards.run, wildcards.i)


def clip_source_input(wildcards):
    """A local source file is an input of fetch_clip so edits to it rerun the fetch."""
    source = config["clips"][wildcards.clip]["source"]
    if "file" in source:
        return source["file"]
    if "shipped" in source:
        return shipped_clip(source["shipped"])
    return []


def all_iterations(wildcards):
    n = config["runs"][wildcards.run]["iterations"]
    return [str(IterationPaths(wildcards.run, i).path("provenance")) for i in range(n)]


def robustness_inputs(wildcards):
    """Each iteration's selected policy, reward, training log and critique, the run's clip, its
    evidence (the rollout camera) and, where the clip has one, its truth file."""
    n = config["runs"][wildcards.run]["iterations"]
    its = [IterationPaths(wildcards.run, i) for i in range(n)]
    plural = {"policy": "policies", "reward": "rewards", "critique": "critiques"}
    inputs = {key: [str(it.path(name)) for it in its] for name, key in plural.items()}
    inputs["train_logs"] = [str(it.path("train_log")) for it in its]
    inputs.update(
        clip=run_clip_video(wildcards),
        evidence=run_clip_evidence(wildcards),
        measurement=run_clip_measurement(wildcards),
        truth=run_clip_truth(wildcards),
    )
    return inputs


def drop_stale_backups():
    """Remove Snakemake's backups of this run's update() outputs that a killed job left behind.

    Snakemake copies an update() output to .snakemake/backups/ before its job starts and removes
    the copy when the job ends; a SIGKILL leaves it there, and the next job for that output then
    fails in copytree (FileExistsError) for a directory output such as tb/. No job of this
    invocation runs yet and Snakemake's lock covers these outputs, so any backup of them is stale.
    The outputs themselves were left intact: the training and rollout code write them under
    temporary names and move them into place only when done.
    """
    from snakemake.io import is_flagged

    for job in workflow.dag.jobs:
        for f in job.output:
            if is_flagged(f, "update"):
                workflow.persistence.cleanup_backup(Path(f))


def final_targets():
    """Default target: each run's summary and review pages and every iteration's artifacts.

    The artifacts are listed themselves, not only through the summary that depends on them:
    Snakemake does not rebuild a missing file whose consumers are all up to date, so without
    this a deleted policy.pth or trajectory.npz would stay missing after a plain run.
    """
    targets = []
    for run in runs_to_build(config):
        n = config["runs"][run]["iterations"]
        search = RunSettings.from_config(config, run).search
        for i in range(n):
            it = IterationPaths(run, i)
            targets += it.recorded()
            for k in range(search.candidates):
                targets += it.candidate_recorded(k, search.halving is not None)
        paths = RunPaths(run)
        targets += [paths.path("summary_csv"), paths.path("summary_json")]
        targets += paths.report_pages(n)
    matrix = MatrixConfig.from_config(config)
    if matrix is not None:
        targets += ComparisonPaths(matrix.name).targets()
    return targets


def matrix_of(wildcards):
    """The config's matrix, which ``wildcards.name`` must name."""
    matrix = MatrixConfig.from_config(config)
    if matrix is None or matrix.name != wildcards.name:
        raise ValueError(f"no matrix named {wildcards.name!r} in the config")
    return matrix


def matrix_summaries(wildcards):
    """Every cell's run summary table, in the matrix's cell order."""
    return [RunPaths(c.run).path("summary_csv") for c in matrix_of(wildcards).cells()]


def matrix_final_rollouts(wildcards):
    """Every cell's final selected rollout, in the matrix's cell order."""
    return [
        IterationPaths(c.run, config["runs"][c.run]["iterations"] - 1).path("rollout")
        for c in matrix_of(wildcards).cells()
    ]


def matrix_expert_clips(wildcards):
    """Every cell's trimmed expert clip, in the matrix's cell order."""
    return [
        ClipPaths(config["runs"][c.run]["clip"]).path("video")
        for c in matrix_of(wildcards).cells()
    ]


def matrix_ratings_file(wildcards):
    """Where the rating page saves the matrix's ratings (config ``ratings_dir``)."""
    return ratings_file(config.get("ratings_dir", "ratings"), wildcards.name)


def matrix_ratings_if_any(wildcards):
    """The saved ratings of the matrix, once someone has rated (an input only when it exists, so
    saving ratings reruns the aggregation)."""
    path = matrix_ratings_file(wildcards)
    return [path] if Path(path).is_file() else []


def matrix_cells_field(field):
    """An input function: ``field`` (task, method, seed or run) of every cell, in cell order."""

    def values(wildcards):
        return [getattr(c, field) for c in matrix_of(wildcards).cells()]

    return values


def matrix_rating_seed(wildcards):
    return matrix_of(wildcards).rating_seed


def previous_reward_if_any(wildcards):
    return [previous("reward")(wildcards)] if int(wildcards.i) > 0 else []


def iteration_dir_of_input(wildcards, input):
    """The iteration directory, as the one holding the rule's reward code."""
    return str(Path(input.reward).parent)


def run_dir_of_input(wildcards, input):
    """The run directory, as the one holding the rule's summary table."""
    return str(Path(input.summary).parent)


def previous_iter_dir_if_any(wildcards):
    return str(iteration_paths(wildcards, -1).dir) if int(wildcards.i) > 0 else None


def report_code(wildcards):
    """The page-building code, so edits to it rebuild the pages."""
    return [
        "vidreward/report/iteration_page.py",
        "vidreward/report/markup.py",
        "vidreward/report/pagefiles.py",
        "vidreward/report/run_page.py",
        "vidreward/report/plots.py",
        "vidreward/report/templates/iteration.html",
        "vidreward/report/templates/run.html",
        "vidreward/report/templates/style.css",
    ]
