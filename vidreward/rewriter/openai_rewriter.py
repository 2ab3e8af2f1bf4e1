"""Rewriter backend: a language model at an OpenAI-compatible endpoint writes the reward code.

The prompt carries the rules for reward code, the environment context, the previous reward, the
critic's four-part feedback and compact per-component training statistics (Eureka-style
reflection). The code is extracted from the answer and validated
(:func:`vidreward.reward.validate.validate_reward_code`); when extraction or validation fails, the
error is appended to the conversation and the model asked again, up to ``LMConfig.max_tries``
answers. If every answer fails, ``RewardCodeError`` lists each try's error and nothing is returned,
so the caller keeps the previous artifacts intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidreward.critic.base import Critique
from vidreward.errors import RewardCodeError
from vidreward.lm import render_prompt
from vidreward.lm.client import LMClient
from vidreward.lm.config import LMConfig
from vidreward.rewriter.base import RewriteVideos, TaskSpec
from vidreward.rewriter.extract import extract_code
from vidreward.sim.fields import STATE_FIELDS


def state_field_list(indent: str = "     ") -> str:
    """The state fields reward code may ask for, one per line, for the rules in the prompt."""
    return "\n".join(f"{indent}- {f.name} {f.shape}: {f.meaning}" for f in STATE_FIELDS)


def critique_text(critique: Critique) -> str:
    """The four-part feedback (and any measured descriptors) as Markdown for a prompt."""
    lines = critique.to_markdown().splitlines()
    if lines and lines[0].startswith("# Critique"):
        lines = lines[1:]
    return "\n".join(lines).strip()


@dataclass
class TryRecord:
    """One answer of the model and what became of it."""

    attempt: int
    request_hash: str
    check: str | None  # None when the code passed validation
    error: str | None


class CodeWriter:
    """Ask a model for reward code until an answer validates (shared by the rewriter backends)."""

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
        self.last_report: Any = None

    def generate(
        self, messages: list[dict[str, Any]], kind: str, robot: str, record_dir: Path | None = None
    ) -> str:
        """Valid reward code for ``robot`` from the model; ``RewardCodeError`` listing every try if
        none is valid."""
        from vidreward.reward.validate import validate_reward_code

        record_dir = record_dir if record_dir is not None else self.record_dir
        self.tries = []
        self.last_report = None
        messages = list(messages)
        max_tries = self.cfg.max_tries
        with LMClient(self.cfg, record_dir=record_dir) as client:
            for attempt in range(1, max_tries + 1):
                resp = client.chat(messages, purpose=f"rewriter_{kind}_try{attempt}")
                origin = f"answer {attempt}/{max_tries} of {self.cfg.model!r} (request {resp.request_hash[:16]})"
                try:
                    code = extract_code(resp.text, source=origin)
                    report = validate_reward_code(
                        code,
                        robot,
                        origin=origin,
                        timeout_s=self.validate_timeout_s,
                        memory_mb=self.validate_memory_mb,
                    )
                except RewardCodeError as exc:
                    self.tries.append(TryRecord(attempt, resp.request_hash, exc.check, str(exc)))
                    messages = messages + [
                        {"role": "assistant", "content": resp.text},
                        {
                            "role": "user",
                            "content": render_prompt(
                                "rewriter_fix",
                                try_number=attempt,
                                max_tries=max_tries,
                                check=exc.check,
                                error=str(exc),
                            ),
                        },
                    ]
                    continue
                self.tries.append(TryRecord(attempt, resp.request_hash, None, None))
                self.last_report = report
                return code
            endpoint = client.endpoint
        listing = "; ".join(f"try {t.attempt} [{t.check}]: {t.error}" for t in self.tries)
        raise RewardCodeError(
            f"{self.cfg.model!r} at {endpoint} ({kind} reward for robot {robot!r}): no valid "
            f"reward code after {max_tries} tries: {listing}",
            check=self.tries[-1].check or "validation",
        )


class OpenAIRewriter:
    """``Rewriter`` backed by a language model; see the module docstring.

    ``record_dir`` is where raw requests/answers of this iteration are copied (the iteration's
    ``lm/`` folder); when it is None and ``videos`` is given to :meth:`rewrite`, ``videos.out_dir/lm``
    is used. The robot and the task come with each call, as its :class:`TaskSpec`.
    """

    name = "openai"
    system_prompt = "rewriter_system"

    def __init__(
        self,
        cfg: LMConfig,
        record_dir: Path | None = None,
        validate_timeout_s: float = 10.0,
        validate_memory_mb: int = 2048,
    ):
        self.cfg = cfg
        self.writer = CodeWriter(cfg, record_dir, validate_timeout_s, validate_memory_mb)

    @property
    def tries(self) -> list[TryRecord]:
        """The answers of the last call and their validation outcome."""
        return self.writer.tries

    @property
    def last_report(self) -> Any:
        """ValidationReport of the code last returned."""
        return self.writer.last_report

    def _system(self, robot: str) -> dict[str, Any]:
        return {
            "role": "system",
            "content": render_prompt(self.system_prompt, robot=robot, state_fields=state_field_list()),
        }

    def initial(self, task: TaskSpec, env_context: str, expert_clip: Path | None = None) -> str:
        user = render_prompt(
            "rewriter_initial", task=task.description, robot=task.robot, env_context=env_context.strip()
        )
        messages = [self._system(task.robot), {"role": "user", "content": user}]
        return self.writer.generate(messages, "initial", task.robot)

    def rewrite(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: RewriteVideos | None = None,
    ) -> str:
        user = render_prompt(
            "rewriter_rewrite",
            task=task.description,
            robot=task.robot,
            env_context=env_context.strip(),
            previous_code=previous_code.strip(),
            train_stats=train_stats.strip() or "(no training statistics available)",
            critique=critique_text(critique),
        )
        record_dir = None
        if self.writer.record_dir is None and videos is not None:
            record_dir = Path(videos.out_dir) / "lm"
        messages = [self._system(task.robot), {"role": "user", "content": user}]
        return self.writer.generate(messages, "rewrite", task.robot, record_dir)
