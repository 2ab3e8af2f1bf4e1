"""Sampling reward code from a language model, shared by the model rewriter backends.

:class:`CodeWriter` sends a conversation to the model, extracts the code from the answer and
validates it (:func:`vidreward.reward.validate.validate_reward_code`); when extraction or validation
fails, the error is appended to the conversation and the model asked again, up to
``LMConfig.max_tries`` answers. If every answer fails, ``RewardCodeError`` lists each try's error.

K candidates (:meth:`CodeWriter.propose`): each candidate is a *sample*, its own conversation sent
with the configured temperature and its own ``seed`` (``CodeWriter.seed_base + draw``, draw 0, 1,
2, ...; the seed is part of the request hash, so the LM cache keeps samples apart and a rerun
replays the same K). A sample whose code is a duplicate (:func:`vidreward.rewriter.base.code_digest`)
of an earlier sample of the call or of a candidate in the search history is dropped, and so is a
sample that stays invalid after its tries; another seed is drawn instead, up to ``2K + 2`` samples.
Fewer than K distinct valid candidates then is a ``RewardCodeError`` naming the model, the endpoint,
K and how many were distinct. K > 1 with temperature 0 is a ``ConfigError`` before any request.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from vidreward.errors import ConfigError, RewardCodeError
from vidreward.lm import render_prompt
from vidreward.lm.client import LMClient
from vidreward.lm.config import LMConfig
from vidreward.rewriter.base import Proposal, code_digest
from vidreward.rewriter.extract import extract_code

LABEL_MAX_CHARS = 120


def returned_components(code: str) -> list[str] | None:
    """Component names of ``compute_reward``'s returned dict when the code spells them out (a dict
    literal with string keys returned directly or through a local name, plus ``d["name"] = ...``
    assignments); None when they cannot be read without running the code."""
    try:
        tree = ast.parse(code or "")
    except (SyntaxError, ValueError):
        return None
    func = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "compute_reward"), None)
    if func is None:
        return None

    def literal_keys(node: ast.AST) -> list[str] | None:
        if isinstance(node, ast.Dict) and all(
            isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys
        ):
            return [k.value for k in node.keys]  # type: ignore[union-attr]
        return None

    for ret in (n for n in ast.walk(func) if isinstance(n, ast.Return)):
        value = ret.value
        if not (isinstance(value, ast.Tuple) and len(value.elts) == 2):
            continue
        comps = value.elts[1]
        keys = literal_keys(comps)
        if keys is not None:
            return keys
        if isinstance(comps, ast.Name):
            names: list[str] = []
            found = False
            for node in ast.walk(func):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id == comps.id:
                            got = literal_keys(node.value)
                            if got is None:
                                return None
                            names += got
                            found = True
                        elif (
                            isinstance(target, ast.Subscript)
                            and isinstance(target.value, ast.Name)
                            and target.value.id == comps.id
                            and isinstance(target.slice, ast.Constant)
                            and isinstance(target.slice.value, str)
                        ):
                            names.append(target.slice.value)
            if found:
                return list(dict.fromkeys(names))
    return None


def _clean_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "", str(name))[:40]


def sample_label(
    sample: int, seed: int, components: Iterable[str] | None, previous: Iterable[str] | None = None
) -> str:
    """One line naming a sample and what its code returns: ``sample 2 (seed 1001): a, b; +b -c``
    (the ``+``/``-`` part against the ``previous`` reward's components when both are known).
    Component names are reduced to identifier characters and the line to
    :data:`LABEL_MAX_CHARS` characters, so no raw model text reaches tables or prompts."""
    label = f"sample {sample} (seed {seed})"
    comps = [c for c in (_clean_name(c) for c in (components or [])) if c]
    if comps:
        label += ": " + ", ".join(comps)
        if previous is not None:
            prev = [c for c in (_clean_name(c) for c in previous) if c]
            added = [c for c in comps if c not in prev]
            removed = [c for c in prev if c not in comps]
            diff = " ".join([f"+{c}" for c in added] + [f"-{c}" for c in removed])
            label += f"; {diff}" if diff else "; same components"
    if len(label) > LABEL_MAX_CHARS:
        label = label[: LABEL_MAX_CHARS - 3].rstrip(" ,;") + "..."
    return label


@dataclass
class TryRecord:
    """One answer of the model and what became of it."""

    attempt: int
    request_hash: str
    check: str | None  # None when the code passed validation
    error: str | None
    sample: int = 1
    seed: int | None = None


@dataclass
class SampleRecord:
    """One sample of a :meth:`CodeWriter.propose` call: its seed, its tries and its outcome
    (``accepted``, ``duplicate`` of an earlier sample or of the history, or ``invalid``)."""

    sample: int
    seed: int
    outcome: str
    tries: list[TryRecord] = field(default_factory=list)
    digest: str | None = None


class CodeWriter:
    """Ask a model for reward code until an answer validates (shared by the rewriter backends)."""

    seed_base = 1000
    """Seed of the first sample of every call; draw ``j`` is sent with ``seed_base + j``."""

    def __init__(
        self,
        cfg: LMConfig,
        record_dir: Path | None = None,
        validate_timeout_s: float = 10.0,
        validate_memory_mb: int = 2048,
    ):
        self.cfg = cfg
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self.validate_timeout_s = validate_timeout_s
        self.validate_memory_mb = validate_memory_mb
        self.tries: list[TryRecord] = []
        self.samples: list[SampleRecord] = []
        self.last_report: Any = None

    def generate(
        self, messages: list[dict[str, Any]], kind: str, robot: str, record_dir: Path | None = None
    ) -> str:
        """Valid reward code for ``robot`` from the model (one sample); ``RewardCodeError`` listing
        every try if none is valid."""
        return self.propose(messages, kind, robot, 1, record_dir=record_dir, max_draws=1)[0].code

    @staticmethod
    def max_draws_for(k: int) -> int:
        """How many samples a call for ``k`` candidates may draw: ``2k + 2``."""
        return 2 * k + 2

    def check_k(self, k: int, who: str) -> None:
        """``ConfigError`` when ``k`` is not a positive integer, or when k > 1 at temperature 0."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"{who}: the number of reward candidates k must be an integer >= 1 (got {k!r})")
        if k > 1 and self.cfg.temperature <= 0:
            raise ConfigError(
                f"{who}: {k} reward candidates were asked of {self.cfg.model!r} with temperature "
                f"{self.cfg.temperature}; at temperature 0 every seed gives the same answer, so the "
                f"candidates would all be duplicates. Set the rewriter's temperature above 0 "
                f"(0.7-1.0 gives varied candidates) or ask for one candidate."
            )

    def propose(
        self,
        messages: list[dict[str, Any]],
        kind: str,
        robot: str,
        k: int,
        exclude: Iterable[str] = (),
        record_dir: Path | None = None,
        max_draws: int | None = None,
        label: Callable[[int, int, str, Any], str] | None = None,
    ) -> list[Proposal]:
        """``k`` distinct valid reward candidates for ``robot``, each from its own sample of the
        conversation ``messages`` (see the module docstring). ``exclude`` holds the
        :func:`code_digest` of candidates already tried; ``label(sample, seed, code, report)``
        writes each proposal's label (default :func:`sample_label` of the validated components)."""
        self.check_k(k, f"rewriter {kind!r}")
        record_dir = record_dir if record_dir is not None else self.record_dir
        max_draws = self.max_draws_for(k) if max_draws is None else max(int(max_draws), k)
        excluded = set(exclude)
        seen: set[str] = set()
        proposals: list[Proposal] = []
        self.tries = []
        self.samples = []
        self.last_report = None
        with LMClient(self.cfg, record_dir=record_dir) as client:
            endpoint = client.endpoint
            for draw in range(max_draws):
                if len(proposals) >= k:
                    break
                record, accepted = self._draw(client, messages, kind, robot, draw, excluded, seen)
                if accepted is not None:
                    proposals.append(self._accept(record, *accepted, seen, label))
        if len(proposals) >= k:
            self.last_report = proposals[0].report
            return proposals[:k]
        raise self._too_few(kind, robot, endpoint, k, len(proposals), max_draws)

    def _draw(
        self,
        client: LMClient,
        messages: list[dict[str, Any]],
        kind: str,
        robot: str,
        draw: int,
        excluded: set[str],
        seen: set[str],
    ) -> tuple[SampleRecord, tuple[str, str, Any] | None]:
        """One sample (seed ``seed_base + draw``) and its tries: its record, plus ``(code, digest,
        report)`` when an answer validated and is no duplicate of ``excluded`` or ``seen``."""
        from vidreward.reward.validate import validate_reward_code

        sample_no = draw + 1
        seed = self.seed_base + draw
        record = SampleRecord(sample_no, seed, "invalid")
        self.samples.append(record)
        convo = list(messages)
        max_tries = self.cfg.max_tries
        for attempt in range(1, max_tries + 1):
            resp = client.chat(convo, purpose=f"rewriter_{kind}_sample{sample_no}_try{attempt}", seed=seed)
            origin = (
                f"answer {attempt}/{max_tries} of {self.cfg.model!r} for sample {sample_no} "
                f"(seed {seed}, request {resp.request_hash[:16]})"
            )
            try:
                code = extract_code(resp.text, source=origin)
                digest = code_digest(code)
                if digest in excluded or digest in seen:
                    where = "the search history" if digest in excluded else "an earlier sample"
                    self._record_try(record, attempt, resp.request_hash, "duplicate",
                                     f"same code as {where} (digest {digest[:12]})")
                    record.outcome = "duplicate"
                    record.digest = digest
                    return record, None
                report = validate_reward_code(
                    code, robot, origin=origin,
                    timeout_s=self.validate_timeout_s, memory_mb=self.validate_memory_mb,
                )
            except RewardCodeError as exc:
                self._record_try(record, attempt, resp.request_hash, exc.check, str(exc))
                convo = convo + self._fix_messages(resp.text, attempt, exc)
                continue
            self._record_try(record, attempt, resp.request_hash, None, None)
            return record, (code, digest, report)
        return record, None

    def _record_try(
        self, record: SampleRecord, attempt: int, request_hash: str, check: str | None, error: str | None
    ) -> None:
        try_rec = TryRecord(attempt, request_hash, check, error, record.sample, record.seed)
        self.tries.append(try_rec)
        record.tries.append(try_rec)

    def _fix_messages(self, answer: str, attempt: int, exc: RewardCodeError) -> list[dict[str, Any]]:
        """The failed answer and the request to fix it, appended to the sample's conversation."""
        fix = render_prompt(
            "rewriter_fix", try_number=attempt, max_tries=self.cfg.max_tries, check=exc.check, error=str(exc)
        )
        return [{"role": "assistant", "content": answer}, {"role": "user", "content": fix}]

    def _accept(
        self,
        record: SampleRecord,
        code: str,
        digest: str,
        report: Any,
        seen: set[str],
        label: Callable[[int, int, str, Any], str] | None,
    ) -> Proposal:
        """Mark ``record`` accepted, remember its digest and make its labelled proposal."""
        record.outcome = "accepted"
        record.digest = digest
        seen.add(digest)
        text = label(record.sample, record.seed, code, report) if label else sample_label(
            record.sample, record.seed, getattr(report, "components", None))
        return Proposal(code=code, label=self._redact(text), report=report)

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.cfg.api_key_env, "")
        if key and len(key) >= 4:
            text = text.replace(key, "[redacted]")
        return text[:LABEL_MAX_CHARS]

    def _too_few(self, kind: str, robot: str, endpoint: str, k: int, distinct: int, max_draws: int) -> RewardCodeError:
        where = f"{self.cfg.model!r} at {endpoint} ({kind} reward for robot {robot!r})"
        invalid = [s for s in self.samples if s.outcome == "invalid"]
        duplicates = [s for s in self.samples if s.outcome == "duplicate"]
        checks = [t.check for s in invalid for t in s.tries if t.check]
        check = checks[-1] if checks else "duplicate"
        if k == 1 and len(self.samples) == 1 and invalid:
            listing = "; ".join(f"try {t.attempt} [{t.check}]: {t.error}" for t in invalid[0].tries)
            return RewardCodeError(
                f"{where}: no valid reward code after {self.cfg.max_tries} tries: {listing}", check=check
            )
        parts = []
        for s in self.samples:
            if s.outcome == "invalid":
                errs = "; ".join(f"try {t.attempt} [{t.check}]: {t.error}" for t in s.tries)
                parts.append(f"sample {s.sample} (seed {s.seed}) invalid: {errs}")
            elif s.outcome == "duplicate":
                parts.append(f"sample {s.sample} (seed {s.seed}) {s.tries[-1].error}")
        return RewardCodeError(
            f"{where}: only {distinct} distinct valid reward candidate(s) of K={k} after "
            f"{len(self.samples)} samples (at most {max_draws} drawn): {len(duplicates)} duplicate(s), "
            f"{len(invalid)} invalid (temperature {self.cfg.temperature}; a higher temperature gives "
            f"more varied samples). " + " | ".join(parts),
            check=check,
        )
