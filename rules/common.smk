# Input functions and helpers shared by the rules. No rule logic lives here.
import json
from pathlib import Path

from vidreward.config import RunSettings, runs_to_build

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


def run_clip_video(wildcards):
    return f"data/clips/{clip_of_run(wildcards)}.mp4"


def run_clip_evidence(wildcards):
    return f"data/clips/evidence/{clip_of_run(wildcards)}.json"


def run_clip_sidecar(wildcards):
    return f"data/clips/{clip_of_run(wildcards)}.json"


def iter_dir(wildcards, offset=0):
    return f"results/{wildcards.run}/iter_{int(wildcards.i) + offset}"


def previous(name):
    """Input function: artifact ``name`` of the previous iteration."""

    def fn(wildcards):
        return f"{iter_dir(wildcards, -1)}/{name}"

    return fn


def warm_start_policy(wildcards):
    """The previous iteration's policy when the run warm-starts, else nothing."""
    run = config["runs"][wildcards.run]
    if int(wildcards.i) > 0 and run.get("warm_start", True):
        return f"{iter_dir(wildcards, -1)}/policy.pth"
    return []


def human_feedback(wildcards):
    """The person's feedback file, once written (human critic backend only)."""
    run = config["runs"][wildcards.run]
    if run.get("critic", {}).get("backend") != "human":
        return []
    path = f"{config['feedback_dir']}/{wildcards.run}/iter_{wildcards.i}.md"
    return [path] if os.path.exists(path) else []


def clip_source_input(wildcards):
    """A local source file is an input of fetch_clip so edits to it rerun the fetch."""
    source = config["clips"][wildcards.clip]["source"]
    if "file" in source:
        return source["file"]
    if "shipped" in source:
        return f"data/shipped/{source['shipped']}"
    return []


def iteration_artifacts(run, i):
    """Every artifact of one iteration that its provenance.json records, and the record itself."""
    base = f"results/{run}/iter_{i}"
    return [
        f"{base}/reward.py",
        f"{base}/reward_validation.json",
        f"{base}/policy.pth",
        f"{base}/train_log.csv",
        f"{base}/tb",
        f"{base}/rollout.mp4",
        f"{base}/trajectory.npz",
        f"{base}/critique.json",
        f"{base}/critique.md",
        f"{base}/critic",
        f"{base}/provenance.json",
    ]


def all_iterations(wildcards):
    n = config["runs"][wildcards.run]["iterations"]
    return [f"results/{wildcards.run}/iter_{i}/provenance.json" for i in range(n)]


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
        for i in range(config["runs"][run]["iterations"]):
            targets += iteration_artifacts(run, i)
        targets += [f"results/{run}/summary.csv", f"results/{run}/summary.json"]
        targets += report_pages(run)
    return targets


def section(wildcards, key):
    """One section of the run's settings as canonical JSON (a stable params value)."""
    settings = run_settings(wildcards)
    return json.dumps(getattr(settings, key), sort_keys=True)


def previous_reward_if_any(wildcards):
    return [previous("reward.py")(wildcards)] if int(wildcards.i) > 0 else []


def previous_iter_dir_if_any(wildcards):
    return iter_dir(wildcards, -1) if int(wildcards.i) > 0 else None


def report_code(wildcards):
    """The page-building code, so edits to it rebuild the pages."""
    return [
        "vidreward/report/pages.py",
        "vidreward/report/plots.py",
        "vidreward/report/templates/iteration.html",
        "vidreward/report/templates/run.html",
        "vidreward/report/templates/style.css",
    ]


def report_pages(run):
    n = config["runs"][run]["iterations"]
    pages = [f"results/{run}/report/iter_{i}" for i in range(n)]
    return pages + [
        f"results/{run}/report/overview",
        f"results/{run}/report/summary.png",
    ]
