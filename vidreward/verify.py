"""Check a finished run's artifacts against its provenance records and ``dvc.lock``.

Two independent sources of truth are checked:

* every ``provenance.json`` under the run directory (one per iteration, plus a run-level one if the
  workflow writes it): ``{"outputs": {"<path relative to repo root>": "<sha256>"}, "inputs": {...}}``.
  Hashes are :func:`hash_path` values (sha256 of a file; for a directory, sha256 over its sorted
  ``(relative path, file sha256)`` pairs). The workflow writes provenance with the same function.
* ``dvc.lock`` entries (outs and deps) whose path lies inside the run directory: DVC 3 md5 of files;
  directory entries (md5 ending in ``.dir``) are checked file by file against the ``.dir`` manifest in
  the DVC cache when it is present locally, otherwise reported as skipped.

CLI::

    python -m vidreward.verify results/<run> [--repo-root .] [--dvc-lock dvc.lock | --no-dvc]
                               [--outputs-only] [--json verify.json]

Exit status: 0 when nothing differs or is missing, 1 when something does, 2 on a usage error
(run directory or provenance absent).
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from vidreward.errors import VidrewardError

CHUNK = 1 << 20

#: statuses that make a verification fail
FAILING = ("differs", "missing")
#: files under a run directory that are never artifacts (logs change on re-runs; provenance is the record)
NOT_ARTIFACTS = ("logs", "benchmarks")


class VerifyError(VidrewardError):
    """The run cannot be verified at all (no run directory, unreadable provenance or dvc.lock)."""


# --------------------------------------------------------------------------- hashing


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of one file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def md5_file(path: str | Path) -> str:
    """Hex md5 of one file's bytes (DVC 3's file hash, ``hash: md5``)."""
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _dir_files(path: Path) -> list[tuple[str, Path]]:
    """Regular files below ``path`` as sorted ``(posix relative path, path)`` pairs.

    Symlinks to files are followed; Snakemake's ``.snakemake_timestamp`` marker is ignored because
    Snakemake writes it into directory outputs after the rule has finished.
    """
    files = []
    for root, dirs, names in os.walk(path, followlinks=False):
        dirs.sort()
        for name in names:
            if name == ".snakemake_timestamp":
                continue
            full = Path(root) / name
            if full.is_file():
                files.append((full.relative_to(path).as_posix(), full))
    files.sort(key=lambda pair: pair[0])
    return files


def hash_path(path: str | Path) -> str:
    """sha256 of a file, or of a directory's sorted ``(relative path, file sha256)`` pairs.

    Directory hash: for each regular file in sorted order of its POSIX path relative to the directory,
    feed ``b"<relpath>\\0<file sha256>\\n"`` into one sha256. An empty directory hashes to
    sha256 of nothing. The workflow MUST use this function when it writes ``provenance.json``.
    """
    path = Path(path)
    if path.is_dir():
        h = hashlib.sha256()
        for rel, full in _dir_files(path):
            h.update(rel.encode("utf-8") + b"\0" + sha256_file(full).encode("ascii") + b"\n")
        return h.hexdigest()
    if path.is_file():
        return sha256_file(path)
    raise FileNotFoundError(f"{path}: cannot hash, no such file or directory")


def hash_paths(paths: Iterable[str | Path], repo_root: str | Path) -> dict[str, str]:
    """``{relative posix path: hash_path(...)}`` for provenance records; paths relative to ``repo_root``."""
    root = Path(repo_root).resolve()
    out = {}
    for p in paths:
        full = Path(p)
        if not full.is_absolute():
            full = root / full
        out[_relpath(full, root)] = hash_path(full)
    return out


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path.resolve(), root)).as_posix()


# --------------------------------------------------------------------------- result model


@dataclass
class Check:
    """One comparison of a recorded hash with the file on disk."""

    source: str  # e.g. "results/r/iter_0/provenance.json" or "dvc.lock:train@r"
    kind: str  # output | input | dvc-out | dvc-dep | dvc-dir-file | unrecorded
    path: str  # relative to repo root
    status: str  # match | differs | missing | skipped | unrecorded
    expected: str = ""
    actual: str = ""
    note: str = ""


@dataclass
class VerifyResult:
    run_dir: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status in FAILING]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self.checks:
            counts[c.status] = counts.get(c.status, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": self.run_dir,
            "ok": self.ok,
            "counts": self.counts(),
            "notes": self.notes,
            "checks": [asdict(c) for c in self.checks],
        }

    def format_table(self, show_matches: bool = True) -> str:
        rows = [c for c in self.checks if show_matches or c.status != "match"]
        header = ("STATUS", "KIND", "PATH", "SOURCE", "DETAIL")
        body = []
        for c in rows:
            if c.status == "differs":
                detail = f"expected {c.expected[:12]}… got {c.actual[:12]}…"
            elif c.status == "match":
                detail = c.expected[:12] + "…"
            else:
                detail = c.note
            if c.note and c.status in ("differs", "match"):
                detail = f"{detail} ({c.note})"
            body.append((c.status.upper(), c.kind, c.path, c.source, detail))
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(4)]
        lines = []
        for r in [header, *body]:
            lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
        counts = self.counts()
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing checked"
        verdict = "OK" if self.ok else f"FAILED ({len(self.failures)} problem(s))"
        lines.append("")
        lines.append(f"{self.run_dir}: {verdict}: {summary}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------- provenance


def _check_hash(source: str, kind: str, rel: str, full: Path, expected: str | None,
                hasher=hash_path) -> Check:
    if not expected:
        return Check(source, kind, rel, "skipped", note="no hash recorded")
    if not full.exists():
        return Check(source, kind, rel, "missing", expected=expected, note="not on disk")
    actual = hasher(full)
    status = "match" if actual == expected else "differs"
    return Check(source, kind, rel, status, expected=expected, actual=actual)


def _resolve(rel: str, root: Path) -> Path:
    p = Path(rel)
    return p if p.is_absolute() else root / p


def _load_provenance(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise VerifyError(f"{path}: cannot read provenance: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("outputs", {}), dict):
        raise VerifyError(f"{path}: provenance must be an object with an 'outputs' mapping")
    return data


def check_provenance(prov_path: Path, repo_root: Path, outputs_only: bool = False) -> list[Check]:
    """Checks for one ``provenance.json``."""
    data = _load_provenance(prov_path)
    source = _relpath(prov_path, repo_root)
    checks = []
    sections = [("outputs", "output")] + ([] if outputs_only else [("inputs", "input")])
    for key, kind in sections:
        entries = data.get(key) or {}
        if not isinstance(entries, dict):
            raise VerifyError(f"{prov_path}: '{key}' must map paths to sha256 strings")
        for rel, expected in sorted(entries.items()):
            if expected is not None and not isinstance(expected, str):
                raise VerifyError(f"{prov_path}: {key}[{rel!r}] is not a sha256 string")
            checks.append(_check_hash(source, kind, rel, _resolve(rel, repo_root), expected))
    return checks


# --------------------------------------------------------------------------- dvc.lock


def _dvc_cache_dir(repo_root: Path) -> Path:
    """The local DVC cache directory (``cache.dir`` from ``.dvc/config[.local]``, else ``.dvc/cache``)."""
    dvc_dir = repo_root / ".dvc"
    cache = dvc_dir / "cache"
    for name in ("config", "config.local"):
        cfg_path = dvc_dir / name
        if not cfg_path.is_file():
            continue
        cfg = configparser.ConfigParser()
        try:
            cfg.read(cfg_path)
        except configparser.Error:
            continue
        if cfg.has_option("cache", "dir"):
            value = Path(cfg.get("cache", "dir").strip().strip("'\""))
            cache = value if value.is_absolute() else (dvc_dir / value)
    return cache


def _dir_manifest(repo_root: Path, dir_md5: str) -> tuple[list[dict[str, Any]] | None, Path | None]:
    """DVC ``.dir`` manifest (list of ``{"relpath", "md5"}``) from the local cache, if present."""
    digest = dir_md5[: -len(".dir")]
    cache = _dvc_cache_dir(repo_root)
    # DVC 3 layout first, DVC 2 layout second.
    for cand in (cache / "files" / "md5" / digest[:2] / (digest[2:] + ".dir"),
                 cache / digest[:2] / (digest[2:] + ".dir")):
        if cand.is_file():
            try:
                return json.loads(cand.read_text()), cand
            except (OSError, json.JSONDecodeError):
                return None, cand
    return None, None


def _stage_wdirs(dvc_yaml: Path) -> dict[str, str]:
    if not dvc_yaml.is_file():
        return {}
    try:
        data = yaml.safe_load(dvc_yaml.read_text()) or {}
    except yaml.YAMLError:
        return {}
    stages = data.get("stages") or {}
    return {name: str(st.get("wdir", ".")) for name, st in stages.items() if isinstance(st, dict)}


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
        return True
    except ValueError:
        return False


def check_dvc_lock(dvc_lock: Path, run_dir: Path, repo_root: Path) -> tuple[list[Check], list[str]]:
    """Checks for the ``dvc.lock`` entries (outs and deps) inside ``run_dir``, and for the files under
    ``run_dir`` of directory entries that contain it (e.g. a single ``results`` out)."""
    try:
        lock = yaml.safe_load(dvc_lock.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise VerifyError(f"{dvc_lock}: cannot read dvc.lock: {exc}") from exc
    stages = lock.get("stages") or {}
    if not isinstance(stages, dict):
        raise VerifyError(f"{dvc_lock}: 'stages' is not a mapping")
    wdirs = _stage_wdirs(dvc_lock.with_name("dvc.yaml"))
    lock_rel = _relpath(dvc_lock, repo_root)
    checks: list[Check] = []
    notes: list[str] = []
    for stage_name, stage in sorted(stages.items()):
        if not isinstance(stage, dict):
            continue
        base = stage_name.split("@", 1)[0]
        wdir = dvc_lock.parent / wdirs.get(stage_name, wdirs.get(base, "."))
        source = f"{lock_rel}:{stage_name}"
        for section, kind in (("outs", "dvc-out"), ("deps", "dvc-dep")):
            for entry in stage.get(section) or []:
                if not isinstance(entry, dict) or "path" not in entry:
                    continue
                full = (wdir / entry["path"])
                contains_run = not _inside(full, run_dir) and _inside(run_dir, full)
                if not (_inside(full, run_dir) or contains_run):
                    continue
                rel = _relpath(full, repo_root)
                if contains_run and not str(entry.get("md5", "")).endswith(".dir"):
                    continue
                md5 = entry.get("md5")
                if not md5:
                    checks.append(Check(source, kind, rel, "skipped",
                                        note=f"no md5 recorded ({', '.join(sorted(entry))})"))
                    continue
                if entry.get("hash") != "md5":
                    checks.append(Check(source, kind, rel, "skipped", expected=md5,
                                        note="DVC 2 (md5-dos2unix) hash; re-run with DVC 3"))
                    continue
                if not md5.endswith(".dir"):
                    checks.append(_check_hash(source, kind, rel, full, md5, hasher=md5_file))
                    continue
                checks.extend(_check_dvc_dir(source, kind, rel, full, md5, repo_root,
                                             only_under=run_dir if contains_run else None))
    if not checks:
        notes.append(f"{lock_rel}: no entry covers {_relpath(run_dir, repo_root)}")
    return checks, notes


def _check_dvc_dir(source: str, kind: str, rel: str, full: Path, md5: str,
                   repo_root: Path, only_under: Path | None = None) -> list[Check]:
    """Check each file of a DVC directory entry against its ``.dir`` manifest.

    ``only_under``: check only the manifest entries and on-disk files below this directory (used when
    the DVC entry is an ancestor of the run directory)."""
    if not full.exists():
        return [Check(source, kind, rel, "missing", expected=md5, note="directory not on disk")]
    manifest, manifest_path = _dir_manifest(repo_root, md5)
    if manifest is None or manifest_path is None:
        why = ("unreadable manifest " + str(manifest_path)) if manifest_path else \
            "its .dir manifest is not in the local DVC cache (dvc fetch/pull brings it)"
        return [Check(source, kind, rel, "skipped", expected=md5, note=why)]
    checks = []
    manifest_md5 = md5_file(manifest_path)
    if manifest_md5 != md5[: -len(".dir")]:
        checks.append(Check(source, kind, rel, "differs", expected=md5, actual=manifest_md5 + ".dir",
                            note=f"DVC cache manifest {manifest_path} does not match its name"))
    scope = full if only_under is None else only_under
    prefix = ""
    if only_under is not None:
        prefix = only_under.resolve().relative_to(full.resolve()).as_posix() + "/"
    items = [i for i in manifest
             if isinstance(i, dict) and str(i.get("relpath", "")).startswith(prefix)]
    if only_under is not None and not items:
        checks.append(Check(source, kind, _relpath(only_under, repo_root), "skipped", expected=md5,
                            note=f"the DVC manifest of {rel} lists no file of this run (recorded "
                                 f"before the run; `dvc commit` records it)"))
        return checks
    listed = set()
    for item in items:
        relpath = item["relpath"]
        listed.add(relpath)
        checks.append(_check_hash(source, "dvc-dir-file", _relpath(full / relpath, repo_root),
                                  full / relpath, item.get("md5"), hasher=md5_file))
    for sub, path in _dir_files(scope):
        if prefix + sub not in listed:
            checks.append(Check(source, "dvc-dir-file", _relpath(path, repo_root), "differs",
                                expected="(absent)", actual=md5_file(path),
                                note=f"file not in DVC manifest of {rel}"))
    return checks


# --------------------------------------------------------------------------- unrecorded files


def _recorded_cover(checks: list[Check], repo_root: Path) -> list[Path]:
    return [_resolve(c.path, repo_root).resolve() for c in checks if c.kind != "input"]


def _unrecorded(run_dir: Path, repo_root: Path, covered: list[Path]) -> list[Check]:
    out = []
    covered_set = set(covered)
    for rel, full in _dir_files(run_dir):
        first = rel.split("/", 1)[0]
        if first in NOT_ARTIFACTS or full.name == "provenance.json":
            continue
        resolved = full.resolve()
        if resolved in covered_set or any(p in covered_set for p in resolved.parents):
            continue
        out.append(Check("-", "unrecorded", _relpath(full, repo_root), "unrecorded",
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
    result = VerifyResult(run_dir=_relpath(run_dir, repo_root))

    prov_files = sorted(p for p in run_dir.rglob("provenance.json")
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
            result.notes.append(f"{_relpath(dvc_lock, repo_root)} not found; DVC check skipped")
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


if __name__ == "__main__":
    sys.exit(main())
