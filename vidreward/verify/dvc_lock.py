"""Checks of the ``dvc.lock`` entries inside a run directory: DVC 3 md5 of files; directory entries
file by file against their ``.dir`` manifest in the local DVC cache (skipped when it is absent)."""

from __future__ import annotations

import configparser
import json
from pathlib import Path
from typing import Any

import yaml

from vidreward.fsutil import dir_files, md5_file, relative_posix
from vidreward.verify.result import Check, VerifyError, check_hash


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
    lock_rel = relative_posix(dvc_lock, repo_root)
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
                rel = relative_posix(full, repo_root)
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
                    checks.append(check_hash(source, kind, rel, full, md5, hasher=md5_file))
                    continue
                checks.extend(_check_dvc_dir(source, kind, rel, full, md5, repo_root,
                                             only_under=run_dir if contains_run else None))
    if not checks:
        notes.append(f"{lock_rel}: no entry covers {relative_posix(run_dir, repo_root)}")
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
        checks.append(Check(source, kind, relative_posix(only_under, repo_root), "skipped", expected=md5,
                            note=f"the DVC manifest of {rel} lists no file of this run (recorded "
                                 f"before the run; `dvc commit` records it)"))
        return checks
    listed = set()
    for item in items:
        relpath = item["relpath"]
        listed.add(relpath)
        checks.append(check_hash(source, "dvc-dir-file", relative_posix(full / relpath, repo_root),
                                  full / relpath, item.get("md5"), hasher=md5_file))
    for sub, path in dir_files(scope):
        if prefix + sub not in listed:
            checks.append(Check(source, "dvc-dir-file", relative_posix(path, repo_root), "differs",
                                expected="(absent)", actual=md5_file(path),
                                note=f"file not in DVC manifest of {rel}"))
    return checks
