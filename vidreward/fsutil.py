"""File hashing, and outputs written under a temporary name in their own folder and moved into place
when complete: the one home of both jobs.

``sha256_file`` / ``md5_file`` hash one file's bytes; ``hash_path`` hashes a file or a directory the
way provenance records and ``vidreward.verify`` do.

Writes: a failure or a kill before the end leaves the previous file (or directory) untouched and
nothing partial at the final name. Temporary names are hidden siblings of the destination::

    .<name>.<random>.tmp<suffix>     file being written (``suffix`` keeps e.g. ``.mp4`` for writers
                                     that pick the format from the extension)
    .<name>.<random>.tmp             directory being written
    .<name>.<random>.old             previous directory, removed right after the swap

Files are published with ``os.replace`` (atomic on one filesystem). A directory cannot be replaced
atomically while it exists: the old one is renamed away, the new one renamed in, the old one
removed, so only the instant between the two renames has no directory at the final name.

Leftovers of a killed writer (a kill cannot run cleanup) are removed the next time the same
destination is written. ``atomic_write_text`` writes a whole text file this way (flushed to disk
before the rename).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Iterable, Iterator

_TAG_LEN = 8
#: bytes read at a time when hashing a file
CHUNK = 1 << 20


def _file_digest(path: str | Path, h: "hashlib._Hash") -> str:
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of one file's bytes."""
    return _file_digest(path, hashlib.sha256())


def md5_file(path: str | Path) -> str:
    """Hex md5 of one file's bytes (DVC 3's file hash, ``hash: md5``)."""
    return _file_digest(path, hashlib.md5())


def _tag() -> str:
    return secrets.token_hex(_TAG_LEN // 2)


def temp_sibling(dest: str | Path, suffix: str = "", kind: str = "tmp") -> Path:
    """A fresh hidden name next to ``dest``: ``.<name>.<random>.<kind><suffix>``."""
    dest = Path(dest)
    return dest.parent / f".{dest.name}.{_tag()}.{kind}{suffix}"


def _leftover_pattern(dest: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(dest.name)}\.[0-9a-f]{{{_TAG_LEN}}}\.(tmp|old)(\.[^/]*)?$")


def leftovers(dest: str | Path) -> list[Path]:
    """Temporary siblings of ``dest`` written by this module (e.g. by a writer that was killed)."""
    dest = Path(dest)
    if not dest.parent.is_dir():
        return []
    pattern = _leftover_pattern(dest)
    return sorted(p for p in dest.parent.iterdir() if pattern.match(p.name))


def remove_path(path: str | Path) -> None:
    """Remove a file, link or directory tree; a missing path is fine."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_leftovers(dest: str | Path) -> None:
    for path in leftovers(dest):
        remove_path(path)


def dir_files(path: Path) -> list[tuple[str, Path]]:
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
        for rel, full in dir_files(path):
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
        out[relative_posix(full, root)] = hash_path(full)
    return out


def relative_posix(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as a POSIX string (with ``..`` when it lies outside)."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path.resolve(), root)).as_posix()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish_file(tmp: str | Path, dest: str | Path) -> None:
    """Move the finished ``tmp`` onto ``dest`` (atomic) with normal (umask) permissions."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, dest)


def publish_dir(tmp: str | Path, dest: str | Path) -> None:
    """Swap the finished directory ``tmp`` in at ``dest``: old one renamed away, new one renamed in,
    old one removed."""
    tmp, dest = Path(tmp), Path(dest)
    old = None
    if dest.exists() or dest.is_symlink():
        old = temp_sibling(dest, kind="old")
        os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except BaseException:
        if old is not None:
            os.rename(old, dest)  # put the previous directory back
        raise
    if old is not None:
        remove_path(old)


@contextlib.contextmanager
def atomic_file(dest: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; on normal exit move it onto ``dest``.

    The temporary name ends with ``dest``'s extension unless ``suffix`` is given. On an exception
    the temporary file is removed and ``dest`` is left as it was.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(dest)
    tmp = temp_sibling(dest, suffix=dest.suffix if suffix is None else suffix)
    try:
        yield tmp
        publish_file(tmp, dest)
    finally:
        remove_path(tmp)


@contextlib.contextmanager
def atomic_dir(dest: str | Path) -> Iterator[Path]:
    """Yield a fresh empty temporary directory next to ``dest``; on normal exit swap it in.

    On an exception the temporary directory is removed and ``dest`` is left as it was.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(dest)
    tmp = temp_sibling(dest)
    tmp.mkdir()
    try:
        yield tmp
        publish_dir(tmp, dest)
    finally:
        remove_path(tmp)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_file`, flushed to disk before the
    rename."""
    with atomic_file(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())


class Staged:
    """Several outputs staged together and published together (``commit``), or none (``discard``).

    ``file(dest)`` / ``dir(dest)`` return the temporary path to write ``dest`` into. ``commit``
    publishes them in the order they were staged (put the most important output last), and
    ``discard`` (also on leaving a ``with`` block by an exception) removes every temporary.
    """

    def __init__(self) -> None:
        self._items: list[tuple[Path, Path, bool]] = []  # (tmp, dest, is_dir)

    def __enter__(self) -> "Staged":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.discard()

    def file(self, dest: str | Path, suffix: str | None = None) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(dest)
        tmp = temp_sibling(dest, suffix=dest.suffix if suffix is None else suffix)
        self._items.append((tmp, dest, False))
        return tmp

    def dir(self, dest: str | Path) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(dest)
        tmp = temp_sibling(dest)
        tmp.mkdir()
        self._items.append((tmp, dest, True))
        return tmp

    def commit(self) -> None:
        """Publish every staged output; each must have been written completely."""
        for tmp, dest, is_dir in self._items:
            if not (tmp.is_dir() if is_dir else tmp.is_file()):
                raise FileNotFoundError(f"{dest}: nothing was written to publish ({tmp} missing)")
        items, self._items = self._items, []
        try:
            for tmp, dest, is_dir in items:
                (publish_dir if is_dir else publish_file)(tmp, dest)
        finally:
            for tmp, _, _ in items:
                remove_path(tmp)

    def discard(self) -> None:
        items, self._items = self._items, []
        for tmp, _, _ in items:
            remove_path(tmp)


def atomic_copy(src: str | Path, dest: str | Path) -> None:
    """Copy a file or a directory tree to ``dest`` through :func:`atomic_file` / :func:`atomic_dir`
    (``dest`` is replaced whole, or left as it was on an error)."""
    src = Path(src)
    if src.is_dir():
        with atomic_dir(dest) as tmp:
            shutil.copytree(src, tmp, dirs_exist_ok=True)
    else:
        with atomic_file(dest) as tmp:
            shutil.copy2(src, tmp)
