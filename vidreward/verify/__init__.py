"""Check a finished run's artifacts against its provenance records and ``dvc.lock``.

Two independent sources of truth are checked:

* every ``provenance.json`` under the run directory (one per iteration, plus a run-level one if the
  workflow writes it): ``{"outputs": {"<path relative to repo root>": "<sha256>"}, "inputs": {...}}``.
  Hashes are ``vidreward.fsutil.hash_path`` values (sha256 of a file; for a directory, sha256 over
  its sorted ``(relative path, file sha256)`` pairs). The workflow writes provenance with the same
  function. Checked by ``provenance.py``.
* ``dvc.lock`` entries (outs and deps) whose path lies inside the run directory: DVC 3 md5 of files;
  directory entries (md5 ending in ``.dir``) are checked file by file against the ``.dir`` manifest in
  the DVC cache when it is present locally, otherwise reported as skipped. Checked by ``dvc_lock.py``.

Every comparison is a ``Check`` in a ``VerifyResult`` (``result.py``); files of the run that no record
covers are listed as unrecorded.

CLI::

    python -m vidreward.verify results/<run> [--repo-root .] [--dvc-lock dvc.lock | --no-dvc]
                               [--outputs-only] [--json verify.json]

Exit status: 0 when nothing differs or is missing, 1 when something does, 2 on a usage error
(run directory or provenance absent).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vidreward.fsutil import dir_files, relative_posix
from vidreward.layout import ITERATION_FILES
from vidreward.verify.dvc_lock import check_dvc_lock
from vidreward.verify.provenance import check_provenance
from vidreward.verify.result import Check, VerifyError, VerifyResult, resolve_path

#: files under a run directory that are never artifacts (logs change on re-runs; provenance is the record)
NOT_ARTIFACTS = ("logs", "benchmarks")


def _recorded_cover(checks: list[Check], repo_root: Path) -> list[Path]:
    return [resolve_path(c.path, repo_root).resolve() for c in checks if c.kind != "input"]


def _unrecorded(run_dir: Path, repo_root: Path, covered: list[Path]) -> list[Check]:
    out = []
    covered_set = set(covered)
    for rel, full in dir_files(run_dir):
        first = rel.split("/", 1)[0]
        if first in NOT_ARTIFACTS or full.name == ITERATION_FILES["provenance"]:
            continue
        resolved = full.resolve()
        if resolved in covered_set or any(p in covered_set for p in resolved.parents):
            continue
        out.append(Check("-", "unrecorded", relative_posix(full, repo_root), "unrecorded",
                         note="in no provenance.json or dvc.lock entry"))
    return out


# --------------------------------------------------------------------------- entry points


def verify_run(run_dir: Path, repo_root: Path, dvc_lock: Path | None,
               outputs_only: bool = False) -> VerifyResult:
    """Recompute every recorded hash of the run under ``run_dir`` and compare.

    ``run_dir`` may be relative to ``repo_root`` or to the working directory. ``dvc_lock=None`` skips
    the DVC check. ``outputs_only`` leaves the provenance ``inputs`` unchecked (e.g. when the code the
    run used has since changed on purpose).
    """
    repo_root = Path(repo_root).resolve()
    run_dir = Path(run_dir)
    if not run_dir.is_absolute() and not run_dir.exists():
        run_dir = repo_root / run_dir
    run_dir = run_dir.resolve()
    if not run_dir.is_dir():
        raise VerifyError(f"{run_dir}: run directory does not exist")
    result = VerifyResult(run_dir=relative_posix(run_dir, repo_root))

    prov_files = sorted(p for p in run_dir.rglob(ITERATION_FILES["provenance"])
                        if p.relative_to(run_dir).parts[0] not in NOT_ARTIFACTS)
    if not prov_files:
        raise VerifyError(f"{run_dir}: no provenance.json found; is the run finished?")
    for prov in prov_files:
        result.checks.extend(check_provenance(prov, repo_root, outputs_only=outputs_only))

    if dvc_lock is not None:
        dvc_lock = Path(dvc_lock)
        if not dvc_lock.is_absolute():
            dvc_lock = repo_root / dvc_lock
        if dvc_lock.is_file():
            checks, notes = check_dvc_lock(dvc_lock, run_dir, repo_root)
            result.checks.extend(checks)
            result.notes.extend(notes)
        else:
            result.notes.append(f"{relative_posix(dvc_lock, repo_root)} not found; DVC check skipped")
    else:
        result.notes.append("DVC check not requested")

    result.checks.extend(_unrecorded(run_dir, repo_root, _recorded_cover(result.checks, repo_root)))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vidreward.verify",
        description="Recompute the hashes of a finished run's artifacts and compare them with the "
                    "run's provenance.json files and dvc.lock.")
    parser.add_argument("run_dir", type=Path, help="results/<run>")
    parser.add_argument("--repo-root", type=Path, default=Path.cwd(),
                        help="repository root the recorded paths are relative to (default: cwd)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--dvc-lock", type=Path, default=None,
                       help="dvc.lock to check (default: <repo-root>/dvc.lock)")
    group.add_argument("--no-dvc", action="store_true", help="do not check dvc.lock")
    parser.add_argument("--outputs-only", action="store_true",
                        help="check recorded outputs only, not recorded inputs")
    parser.add_argument("--quiet", action="store_true", help="list only rows that are not matches")
    parser.add_argument("--json", type=Path, default=None, help="also write the result as JSON here")
    args = parser.parse_args(argv)

    dvc_lock = None if args.no_dvc else (args.dvc_lock or args.repo_root / "dvc.lock")
    try:
        result = verify_run(args.run_dir, args.repo_root, dvc_lock, outputs_only=args.outputs_only)
    except VerifyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.format_table(show_matches=not args.quiet))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return 0 if result.ok else 1

