# Input functions and helpers shared by the rules. No rule logic lives here.
from pathlib import Path

from vidreward.config import ClipConfig, RunSettings, runs_to_build
from vidreward.layout import (
    DOWNLOAD_CACHE_DIR,
    ClipPaths,
    IterationPaths,
    RunPaths,
    feedback_file,
    shipped_clip,
)

# Training spreads the simulation over every core (Snakemake caps this at --cores).
TRAIN_THREADS = os.cpu_count() or 1


wildcard_constraints:
    run=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    i=r"\d+",
    clip=r"[A-Za-z0-9][A-Za-z0-9_.-]*",


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


def run_clip_sidecar(wildcards):
    return ClipPaths(clip_of_run(wildcards)).path("sidecar")


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
        for i in range(n):
            targets += IterationPaths(run, i).recorded()
        paths = RunPaths(run)
        targets += [paths.path("summary_csv"), paths.path("summary_json")]
        targets += paths.report_pages(n)
    return targets


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
