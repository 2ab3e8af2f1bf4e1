"""The record of a verification: one :class:`Check` per compared hash, gathered in a
:class:`VerifyResult`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vidreward.errors import VidrewardError
from vidreward.fsutil import hash_path

#: statuses that make a verification fail
FAILING = ("differs", "missing")


class VerifyError(VidrewardError):
    """The run cannot be verified at all (no run directory, unreadable provenance or dvc.lock)."""


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


def check_hash(source: str, kind: str, rel: str, full: Path, expected: str | None,
                hasher=hash_path) -> Check:
    if not expected:
        return Check(source, kind, rel, "skipped", note="no hash recorded")
    if not full.exists():
        return Check(source, kind, rel, "missing", expected=expected, note="not on disk")
    actual = hasher(full)
    status = "match" if actual == expected else "differs"
    return Check(source, kind, rel, status, expected=expected, actual=actual)


def resolve_path(rel: str, root: Path) -> Path:
    p = Path(rel)
    return p if p.is_absolute() else root / p
