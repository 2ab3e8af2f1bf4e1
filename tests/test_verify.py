"""Run verification against provenance.json and dvc.lock (vidreward.verify)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # conftest_helpers under any import mode

from conftest_helpers.fake_run import make_run
from vidreward.fsutil import hash_path, hash_paths, md5_file
from vidreward.verify import VerifyError, main, verify_run

ITER_OUTPUTS = ("reward.py", "rollout.mp4", "critique.json", "critique.md", "train_log.csv",
                "storyboard")


def _write_provenance(root: Path, run_dir: Path) -> None:
    """What the workflow does: hash_path of each output, paths relative to the repo root."""
    clip = root / "data" / "clips" / "expert.mp4"
    for iter_dir in sorted(run_dir.glob("iter_*")):
        outputs = hash_paths([iter_dir / n for n in ITER_OUTPUTS], root)
        inputs = hash_paths([clip], root)
        (iter_dir / "provenance.json").write_text(json.dumps(
            {"outputs": outputs, "inputs": inputs, "seeds": {"run": 0}}, indent=2))


@pytest.fixture()
def run(tmp_path):
    run_dir, _ = make_run(tmp_path)
    _write_provenance(tmp_path, run_dir)
    return tmp_path, run_dir


def _status(result, path_suffix: str) -> set[str]:
    return {c.status for c in result.checks if c.path.endswith(path_suffix)}


# --------------------------------------------------------------------------- hashing


def test_hash_path_file_and_directory_definition(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"hello")
    assert hash_path(f) == hashlib.sha256(b"hello").hexdigest()
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "z.bin").write_bytes(b"z")
    (d / "sub" / "y.txt").write_bytes(b"y")
    (d / ".snakemake_timestamp").write_bytes(b"ignored")
    expected = hashlib.sha256()
    for rel, data in sorted([("sub/y.txt", b"y"), ("z.bin", b"z")]):
        expected.update(rel.encode() + b"\0" + hashlib.sha256(data).hexdigest().encode() + b"\n")
    assert hash_path(d) == expected.hexdigest()
    # A rename changes the hash even though the contents are the same.
    before = hash_path(d)
    (d / "z.bin").rename(d / "w.bin")
    assert hash_path(d) != before
    (tmp_path / "empty").mkdir()
    assert hash_path(tmp_path / "empty") == hashlib.sha256().hexdigest()
    with pytest.raises(FileNotFoundError, match="no such file"):
        hash_path(tmp_path / "missing")


def test_hash_paths_are_relative_to_repo_root(run):
    root, run_dir = run
    got = hash_paths([run_dir / "iter_0" / "reward.py", "results/demo/iter_0/storyboard"], root)
    assert set(got) == {"results/demo/iter_0/reward.py", "results/demo/iter_0/storyboard"}


def test_provenance_written_by_workflow_module_verifies(run, monkeypatch):
    """vidreward.provenance.write_provenance (the workflow's writer) produces what verify reads."""
    from vidreward.config import ClipConfig, RunSettings
    from vidreward.provenance import write_provenance
    from vidreward.train.config import TrainConfig

    root, run_dir = run
    monkeypatch.chdir(root)
    it = Path("results/demo/iter_0")
    (it / "benchmarks").mkdir()
    write_provenance(
        it / "provenance.json",
        inputs={"clip": "data/clips/expert.mp4", "reward": str(it / "reward.py"),
                "rollout": str(it / "rollout.mp4"), "storyboard": str(it / "storyboard")},
        settings=RunSettings(name="demo", clip="expert", robot="ant", task="t", iterations=1, seed=3,
                             train=TrainConfig()),
        clip=ClipConfig(name="expert", source={"shipped": "expert.mp4"}, start=0.0, end=1.0),
        iteration=0, benchmarks_dir=it / "benchmarks")
    record = json.loads((it / "provenance.json").read_text())
    assert record["seeds"] == {"run": 3, "train": 3, "train_candidates": [3], "rollout": 3}
    result = verify_run(Path("results/demo"), root, None)
    assert result.ok, result.format_table()
    assert _status(result, "iter_0/storyboard") == {"match"}
    assert _status(result, "data/clips/expert.mp4") == {"match"}


# --------------------------------------------------------------------------- provenance


def test_clean_run_passes(run, capsys):
    root, run_dir = run
    result = verify_run(run_dir, root, None)
    assert result.ok, result.format_table()
    counts = result.counts()
    assert counts["match"] == 2 * (len(ITER_OUTPUTS) + 1)
    assert "unrecorded" not in counts
    assert main([str(run_dir), "--repo-root", str(root), "--no-dvc"]) == 0
    out = capsys.readouterr().out
    assert "results/demo: OK" in out and "results/demo/iter_1/rollout.mp4" in out


def test_modified_artifact_fails_and_is_named(run, capsys):
    root, run_dir = run
    with open(run_dir / "iter_1" / "reward.py", "a") as fh:
        fh.write("# edited after the run\n")
    result = verify_run(run_dir, root, None)
    assert not result.ok
    bad = [c.path for c in result.failures]
    assert bad == ["results/demo/iter_1/reward.py"]
    assert result.failures[0].status == "differs"
    assert main([str(run_dir), "--repo-root", str(root), "--no-dvc", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERS" in out and "results/demo/iter_1/reward.py" in out and "FAILED" in out
    assert "MATCH" not in out  # --quiet lists problems only


def test_modified_file_inside_directory_output_fails(run):
    root, run_dir = run
    (run_dir / "iter_0" / "storyboard" / "frame_001.png").write_bytes(b"not a png")
    result = verify_run(run_dir, root, None)
    assert [c.path for c in result.failures] == ["results/demo/iter_0/storyboard"]


def test_missing_artifact_reported(run):
    root, run_dir = run
    (run_dir / "iter_0" / "rollout.mp4").unlink()
    result = verify_run(run_dir, root, None)
    assert not result.ok
    (miss,) = result.failures
    assert miss.status == "missing" and miss.path == "results/demo/iter_0/rollout.mp4"
    assert "MISSING" in result.format_table()


def test_inputs_checked_unless_outputs_only(run):
    root, run_dir = run
    (root / "data" / "clips" / "expert.mp4").write_bytes(b"another clip")
    result = verify_run(run_dir, root, None)
    assert {c.path for c in result.failures} == {"data/clips/expert.mp4"}
    assert {c.kind for c in result.failures} == {"input"}
    assert verify_run(run_dir, root, None, outputs_only=True).ok


def test_unrecorded_files_listed_but_not_failing(run):
    root, run_dir = run
    (run_dir / "iter_1" / "notes.txt").write_text("scratch")
    (run_dir / "logs").mkdir()
    (run_dir / "logs" / "train.log").write_text("log lines")
    result = verify_run(run_dir, root, None)
    assert result.ok
    unrecorded = [c.path for c in result.checks if c.status == "unrecorded"]
    assert unrecorded == ["results/demo/iter_1/notes.txt"]


def test_usage_errors(tmp_path, run, capsys):
    root, run_dir = run
    with pytest.raises(VerifyError, match="does not exist"):
        verify_run(tmp_path / "nope", root, None)
    (tmp_path / "results" / "empty").mkdir()
    with pytest.raises(VerifyError, match="no provenance.json"):
        verify_run(tmp_path / "results" / "empty", root, None)
    assert main([str(tmp_path / "nope"), "--repo-root", str(root)]) == 2
    (run_dir / "iter_0" / "provenance.json").write_text("{not json")
    with pytest.raises(VerifyError, match="cannot read provenance"):
        verify_run(run_dir, root, None)


def test_json_report(run, tmp_path):
    root, run_dir = run
    out = tmp_path / "v" / "verify.json"
    assert main([str(run_dir), "--repo-root", str(root), "--no-dvc", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["ok"] is True and data["counts"]["match"] > 0
    assert {"source", "kind", "path", "status", "expected", "actual", "note"} <= set(data["checks"][0])


def test_cli_module_entry_point(run):
    root, run_dir = run
    proc = subprocess.run([sys.executable, "-m", "vidreward.verify", "results/demo", "--no-dvc"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "results/demo: OK" in proc.stdout


# --------------------------------------------------------------------------- dvc.lock


def _hand_lock(root: Path, entries: list[dict]) -> Path:
    import yaml

    lock = root / "dvc.lock"
    lock.write_text(yaml.safe_dump({"schema": "2.0", "stages": {
        "iteration@demo-0": {"cmd": "python scripts/x.py", "outs": entries}}}))
    return lock


def test_dvc_lock_file_entries(run):
    root, run_dir = run
    reward = run_dir / "iter_0" / "reward.py"
    lock = _hand_lock(root, [
        {"path": "results/demo/iter_0/reward.py", "hash": "md5", "md5": md5_file(reward), "size": 1},
        {"path": "results/demo/iter_0/train_log.csv", "hash": "md5", "md5": "0" * 32, "size": 1},
        {"path": "results/demo/iter_0/storyboard", "hash": "md5", "md5": "ab" * 16 + ".dir"},
        {"path": "results/demo/iter_0/critique.md", "md5": "ab" * 16},
        {"path": "results/other/iter_0/reward.py", "hash": "md5", "md5": "0" * 32},
    ])
    result = verify_run(run_dir, root, lock)
    dvc = {c.path: c for c in result.checks if c.kind.startswith("dvc")}
    assert dvc["results/demo/iter_0/reward.py"].status == "match"
    assert dvc["results/demo/iter_0/train_log.csv"].status == "differs"
    assert dvc["results/demo/iter_0/storyboard"].status == "skipped"
    assert "not in the local DVC cache" in dvc["results/demo/iter_0/storyboard"].note
    assert dvc["results/demo/iter_0/critique.md"].status == "skipped"  # DVC 2 hash
    assert "results/other/iter_0/reward.py" not in dvc  # another run's entry
    assert [c.path for c in result.failures] == ["results/demo/iter_0/train_log.csv"]
    assert result.failures[0].source == "dvc.lock:iteration@demo-0"


def test_missing_dvc_lock_is_a_note(run):
    root, run_dir = run
    result = verify_run(run_dir, root, root / "dvc.lock")
    assert result.ok and any("dvc.lock not found" in n for n in result.notes)


needs_dvc = pytest.mark.skipif(
    not (shutil.which("git") and (shutil.which("dvc") or (Path(sys.executable).parent / "dvc").exists())),
    reason="git and dvc are needed for the real dvc.lock test")


MAKE_RUN_PY = (
    "import sys\n"
    "from pathlib import Path\n"
    "d = Path('results') / sys.argv[1] / 'iter_0'\n"
    "(d / 'storyboard').mkdir(parents=True, exist_ok=True)\n"
    "(d / 'reward.py').write_text('def compute_reward():\\n    pass\\n')\n"
    "for i in range(2): (d / 'storyboard' / f'f{i}.png').write_bytes(bytes([i]) * 10)\n")


def _dvc_repo(root: Path, outs: list[str], run: str = "r") -> tuple[str, dict]:
    """git + dvc repo at ``root`` with one stage running make.py; returns (dvc exe, env)."""
    dvc = shutil.which("dvc") or str(Path(sys.executable).parent / "dvc")
    root.mkdir()
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
    subprocess.run([dvc, "init", "-q"], cwd=root, check=True, env=env)
    (root / "make.py").write_text(MAKE_RUN_PY)
    outs_yaml = "".join(f"    - {o}:\n        persist: true\n" for o in outs)
    (root / "dvc.yaml").write_text(
        f"stages:\n  iter:\n    cmd: python make.py {run}\n    deps:\n    - make.py\n"
        f"    outs:\n{outs_yaml}")
    proc = subprocess.run([dvc, "repro", "-q"], cwd=root, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return dvc, env


@needs_dvc
def test_real_dvc_lock_with_directory_out(tmp_path):
    """dvc repro writes dvc.lock and the .dir manifest; verify checks each file of the dir out."""
    root = tmp_path / "repo"
    _dvc_repo(root, ["results/r/iter_0/reward.py", "results/r/iter_0/storyboard"])
    run_dir = root / "results" / "r"
    it = run_dir / "iter_0"
    (it / "provenance.json").write_text(json.dumps(
        {"outputs": hash_paths([it / "reward.py", it / "storyboard"], root)}))

    result = verify_run(run_dir, root, root / "dvc.lock")
    assert result.ok, result.format_table()
    files = {c.path: c.status for c in result.checks if c.kind == "dvc-dir-file"}
    assert files == {"results/r/iter_0/storyboard/f0.png": "match",
                     "results/r/iter_0/storyboard/f1.png": "match"}
    assert _status(result, "iter_0/reward.py") == {"match"}

    # A file changed inside the dvc directory out, and one added to it.
    (it / "storyboard" / "f1.png").write_bytes(b"changed")
    (it / "storyboard" / "f2.png").write_bytes(b"new")
    result = verify_run(run_dir, root, root / "dvc.lock", outputs_only=True)
    failing = {(c.kind, c.path) for c in result.failures}
    assert ("dvc-dir-file", "results/r/iter_0/storyboard/f1.png") in failing
    assert ("dvc-dir-file", "results/r/iter_0/storyboard/f2.png") in failing
    assert ("output", "results/r/iter_0/storyboard") in failing  # provenance disagrees too


@needs_dvc
def test_real_dvc_lock_whole_results_dir_out(tmp_path):
    """The workflow's dvc.yaml has one ``results`` out: verify checks the run's files in its manifest."""
    root = tmp_path / "repo"
    dvc, env = _dvc_repo(root, ["results"])
    run_dir = root / "results" / "r"
    it = run_dir / "iter_0"
    (it / "provenance.json").write_text(json.dumps({"outputs": hash_paths([it / "reward.py"], root)}))
    subprocess.run([dvc, "commit", "-f", "-q"], cwd=root, check=True, env=env, timeout=300)
    result = verify_run(run_dir, root, root / "dvc.lock")
    files = {c.path: c.status for c in result.checks if c.kind == "dvc-dir-file"}
    assert files == {"results/r/iter_0/reward.py": "match",
                     "results/r/iter_0/provenance.json": "match",
                     "results/r/iter_0/storyboard/f0.png": "match",
                     "results/r/iter_0/storyboard/f1.png": "match"}
    assert result.ok, result.format_table()

    (it / "storyboard" / "f0.png").write_bytes(b"changed")
    result = verify_run(run_dir, root, root / "dvc.lock")
    assert [(c.kind, c.path) for c in result.failures] == [
        ("dvc-dir-file", "results/r/iter_0/storyboard/f0.png")]

    # A run the lock file has not recorded yet: one "skipped" row saying so, not a failure per file.
    other = root / "results" / "new_run" / "iter_0"
    other.mkdir(parents=True)
    (other / "reward.py").write_text("x = 1\n")
    (other / "provenance.json").write_text(json.dumps(
        {"outputs": hash_paths([other / "reward.py"], root)}))
    result = verify_run(root / "results" / "new_run", root, root / "dvc.lock")
    assert result.ok
    (skipped,) = [c for c in result.checks if c.source.startswith("dvc.lock")]
    assert skipped.status == "skipped" and "dvc commit" in skipped.note
