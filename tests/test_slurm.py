"""The quick workflow through Snakemake's SLURM executor on a real single-node SLURM.

``tools/local_slurm.sh`` starts munged, MariaDB, slurmdbd, slurmctld and slurmd (Debian's
packages, one node on 127.0.0.1, state under a pytest temp directory, ports of their own) and stops
them in the fixture's finalizer. The quick workflow runs twice, each in its own copy of the
repository, at the same time: once with ``--profile profiles/slurm`` (every non-local job an sbatch
job) and once locally. The scheduler's accounting (``sacct``) must list every job Snakemake
submitted, by rule, and the two runs must give byte-identical reward code and summary (but for
summary.csv's wall_s column, the one timing field) and the same policy weights.

The config is config/quick.yaml with an overlay: two reward candidates per iteration instead of
one, so that an iteration's candidates show as separate SLURM jobs, and two iterations instead of
three: iteration 1 already covers the rewrite from a critique and the warm start, and every
iteration adds three SLURM steps of 36 s or more (each job starts Snakemake twice and the plugin
polls sacct 2, 14, 36 s after a submission). Measured: 8 min on a 2-core machine busy with other
runs. Training gets one thread in both runs: the profile's 4 do not fit this 2-CPU node, one lets
an iteration's two candidates train side by side, and both runs must use the same count (a PPO
update's floating-point result may depend on it).

Skips, with the reason, where the SLURM, munge or MariaDB packages are not installed
(``tools/local_slurm.sh install`` apt-gets them; ``make test`` runs it first); under ``CI=true``
a missing SLURM fails instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import torch

from workflow_helpers import BIN, REPO, copy_repo, env, jobs_run

SCRIPT = REPO / "tools" / "local_slurm.sh"
RUN = "ant_quick"
ITERATIONS = 2
CANDIDATES = 2
OVERLAY = (f"runs:\n  {RUN}:\n    iterations: {ITERATIONS}\n"
           f"    search:\n      candidates: {CANDIDATES}\n")
# one PPO thread per training in both runs: an iteration's candidates then train side by side on
# the node's 2 CPUs (as they would on two nodes)
THREADS = ["--set-threads", "train_candidate=1", "screen_candidate=1"]
CONFIG = ["--configfile", "config/quick.yaml", "config/slurm_test_overlay.yaml"]
# the rules of this config that become SLURM jobs; the others are local rules (`localrule: True`
# in rules/: they may call a model or the network, or are seconds of bookkeeping)
REMOTE_RULES = ("trim_clip", "clip_evidence", "train_candidate", "render_candidate",
                "score_candidate")
# the only field of summary.csv that is not a result: the wall time of the iteration's jobs
TIMING_COLUMNS = {"wall_s"}
NEEDED = ("slurmctld", "slurmd", "slurmdbd", "sbatch", "squeue", "sacct", "sacctmgr", "scontrol",
          "munged", "munge")
CI = os.environ.get("CI", "").lower() == "true"

pytestmark = pytest.mark.timeout(1200)


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def _missing() -> list[str]:
    missing = [n for n in NEEDED if _which(n) is None]
    if _which("mariadbd") is None and _which("mysqld") is None:
        missing.append("mariadbd")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        missing.append("snakemake-executor-plugin-slurm (pip install -r requirements.txt)")
    return missing


def _sh(*args: str, env_: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=env_, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running local SLURM: the environment that reaches it (SLURM_CONF), stopped at the end."""
    missing = _missing()
    if missing:
        reason = (f"SLURM not installed (missing: {', '.join(missing)}); run "
                  "tools/local_slurm.sh install (apt-get, needs root)")
        if CI:
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm")
    e = env()
    e.update(VIDREWARD_SLURM_DIR=str(state), VIDREWARD_SLURM_PORT_BASE="17817",
             SLURM_CONF=str(state / "etc" / "slurm.conf"))
    t0 = time.monotonic()
    proc = _sh("start", env_=e)
    started_s = time.monotonic() - t0
    if proc.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                         for p in sorted((state / "log").glob("*.log")))
        _sh("stop", env_=e)
        pytest.fail(f"local SLURM did not start:\n{proc.stdout}\n{proc.stderr}\n{logs}")
    print(f"local SLURM started in {started_s:.1f} s:\n{proc.stdout}")
    yield {"env": e, "state": state, "start": proc}
    stop = _sh("stop", env_=e)
    assert stop.returncode == 0, stop.stdout + stop.stderr


def _sacct(e: dict[str, str]) -> list[dict[str, str]]:
    fields = ["JobID", "JobName", "Comment", "State", "ExitCode", "NodeList", "AllocCPUS",
              "ReqMem", "Start", "End"]
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-a", "-S", "now-1days", "-o", ",".join(fields)],
        env=e, capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line.strip()]


def _rule_of(comment: str) -> str:
    """The rule from the plugin's job comment: rule_<rule> or rule_<rule>_wildcards_<values>."""
    assert comment.startswith("rule_"), comment
    return comment.removeprefix("rule_").split("_wildcards_")[0]


@pytest.fixture(scope="module")
def runs(slurm, tmp_path_factory):
    """The same config through the SLURM executor and locally, side by side (the SLURM run mostly
    waits on the scheduler, so together they take little more than the SLURM run alone)."""
    e = slurm["env"]
    repos = {}
    for name in ("slurm", "local"):
        repo = copy_repo(tmp_path_factory.mktemp(f"repo_{name}"))
        (repo / "config" / "slurm_test_overlay.yaml").write_text(OVERLAY)
        repos[name] = repo
    sm = str(BIN / "snakemake")
    commands = {
        "slurm": [sm, "--profile", "profiles/slurm", *CONFIG, *THREADS, "--jobs", "4",
                  "--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5"],
        "local": [sm, "--cores", "2", *CONFIG, *THREADS],
    }
    procs, logs, t0, wall = {}, {}, time.monotonic(), {}
    for name in ("slurm", "local"):
        logs[name] = open(repos[name] / f"{name}.log", "w+")
        procs[name] = subprocess.Popen(commands[name], cwd=repos[name], env=e, text=True,
                                       stdout=logs[name], stderr=subprocess.STDOUT)
    while len(wall) < len(procs):
        for name, p in procs.items():
            if name not in wall and p.poll() is not None:
                wall[name] = time.monotonic() - t0
        if time.monotonic() - t0 > 1100:
            for p in procs.values():
                p.kill()
            pytest.fail("the runs took more than 1100 s")
        time.sleep(1)
    out = {}
    for name in procs:
        logs[name].seek(0)
        out[name] = logs[name].read()
        logs[name].close()
        assert procs[name].returncode == 0, f"{name} run failed:\n{out[name][-6000:]}"
    print(f"SLURM run {wall['slurm']:.0f} s, local run {wall['local']:.0f} s (side by side)")
    return {"repos": repos, "out": out, "wall": wall}


def _counts(text: str) -> dict[str, int]:
    class P:  # jobs_run reads a CompletedProcess-like object
        stdout, stderr = text, ""
    return jobs_run(P)


def test_start_is_idempotent_and_the_node_has_this_machines_cpus(slurm):
    e = slurm["env"]
    pids = {p.name: p.read_text() for p in (slurm["state"] / "run").glob("*.pid")}
    again = _sh("start", env_=e)
    assert again.returncode == 0 and "already running" in again.stdout
    assert {p.name: p.read_text() for p in (slurm["state"] / "run").glob("*.pid")} == pids
    assert set(pids) == {f"{d}.pid" for d in ("munged", "mariadb", "slurmdbd", "slurmctld", "slurmd")}
    node = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %c %m %T"], env=e, capture_output=True,
                          text=True, check=True).stdout.split()
    assert node[0] == "localhost" and int(node[1]) == os.cpu_count() and node[3] == "idle"
    with open("/proc/meminfo") as f:
        total_mb = int(f.readline().split()[1]) // 1024
    assert 0.9 * total_mb <= int(node[2]) <= total_mb


def test_slurm_runs_every_compute_job_and_sacct_lists_them(runs, slurm):
    counts = _counts(runs["out"]["slurm"])
    assert counts == _counts(runs["out"]["local"])  # the same DAG, job for job
    assert counts["train_candidate"] == ITERATIONS * CANDIDATES
    remote = Counter({r: counts[r] for r in REMOTE_RULES})
    jobs = _sacct(slurm["env"])
    by_rule = Counter(_rule_of(j["Comment"]) for j in jobs)
    # every remote job went through the scheduler, once, and no local rule did
    assert by_rule == remote, (by_rule, remote)
    assert all(j["State"] == "COMPLETED" and j["ExitCode"] == "0:0" for j in jobs), jobs
    assert {j["NodeList"] for j in jobs} == {"localhost"}
    # the per-rule resources of the profile reached sbatch
    train = [j for j in jobs if _rule_of(j["Comment"]) == "train_candidate"]
    assert {j["AllocCPUS"] for j in train} == {"1"} and {j["ReqMem"] for j in train} == {"4000M"}
    render = [j for j in jobs if _rule_of(j["Comment"]) == "render_candidate"]
    assert {j["AllocCPUS"] for j in render} == {"1"} and {j["ReqMem"] for j in render} == {"3000M"}
    print(f"sacct: {len(jobs)} jobs: {dict(by_rule)}")


def test_each_candidate_of_an_iteration_is_its_own_slurm_job(runs, slurm):
    train = [j for j in _sacct(slurm["env"]) if _rule_of(j["Comment"]) == "train_candidate"]
    assert len({j["JobID"] for j in train}) == len(train)
    # the plugin's comment carries the wildcard values (run, iteration, candidate) joined by "_"
    wildcards = sorted(j["Comment"].split("_wildcards_", 1)[1] for j in train)
    assert wildcards == sorted(f"{RUN}_{i}_{k}" for i in range(ITERATIONS)
                               for k in range(CANDIDATES))
    # and they ran side by side: in some iteration the candidates' trainings overlapped in time
    def span(job):
        return job["Start"], job["End"]  # ISO timestamps: string order is time order

    overlapped = 0
    for i in range(ITERATIONS):
        (s0, e0), (s1, e1) = (span(j) for j in sorted(
            (j for j in train if j["Comment"].endswith(f"_{RUN}_{i}_0") or
             j["Comment"].endswith(f"_{RUN}_{i}_1")), key=lambda j: j["Comment"]))
        overlapped += s1 < e0 and s0 < e1
    assert overlapped >= 1, train


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _summary_without_timing(path: Path) -> str:
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    keep = [c for c in rows[0] if c not in TIMING_COLUMNS]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keep, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return hashlib.sha256(buf.getvalue().encode()).hexdigest()


def test_results_are_identical_to_the_local_run(runs):
    slurm_dir, local_dir = (runs["repos"][n] / "results" / RUN for n in ("slurm", "local"))
    rewards = sorted(p.relative_to(local_dir) for p in local_dir.rglob("reward.py"))
    # the selection of each iteration, and every candidate's reward code
    assert len(rewards) == ITERATIONS * (1 + CANDIDATES)
    assert sorted(p.relative_to(slurm_dir) for p in slurm_dir.rglob("reward.py")) == rewards
    for rel in rewards:
        assert _sha(slurm_dir / rel) == _sha(local_dir / rel), rel
    assert _sha(slurm_dir / "summary.json") == _sha(local_dir / "summary.json")
    assert _summary_without_timing(slurm_dir / "summary.csv") == \
        _summary_without_timing(local_dir / "summary.csv")
    for i in range(ITERATIONS):
        rel = Path(f"iter_{i}") / "selection.json"
        assert _sha(slurm_dir / rel) == _sha(local_dir / rel), rel
        # the selected policy's weights too (the checkpoint file's bytes differ run to run)
        rel = Path(f"iter_{i}") / "policy.pth"
        _same_tensors(torch.load(slurm_dir / rel, map_location="cpu", weights_only=False),
                      torch.load(local_dir / rel, map_location="cpu", weights_only=False), str(rel))


def _same_tensors(a, b, where: str) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _same_tensors(a[key], b[key], f"{where}/{key}")
    elif torch.is_tensor(a):
        assert torch.equal(a, b), where


def test_stop_shuts_every_daemon_down(slurm, runs):
    e = slurm["env"]
    pids = [int(p.read_text()) for p in (slurm["state"] / "run").glob("*.pid")]
    assert len(pids) == 5
    stop = _sh("stop", env_=e)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", pid
    assert _sh("status", env_=e).returncode != 0
    assert "stopped" in _sh("stop", env_=e).stdout  # a second stop is a no-op
