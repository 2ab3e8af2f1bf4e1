"""Rewriter backend: a language model at an OpenAI-compatible endpoint writes the reward code.

The prompt carries the rules for reward code, the environment context, the previous reward, the
critic's four-part feedback, compact per-component training statistics (Eureka-style reflection)
and the search history (every earlier candidate, what it changed and how it scored). The code is
extracted from the answer and validated (:func:`vidreward.reward.validate.validate_reward_code`);
when extraction or validation fails, the error is appended to the conversation and the model asked
again, up to ``LMConfig.max_tries`` answers. If every answer fails, ``RewardCodeError`` lists each
try's error and nothing is returned, so the caller keeps the previous artifacts intact.

K candidates (:meth:`OpenAIRewriter.propose_initial`, :meth:`OpenAIRewriter.propose_rewrites`; the
sampling is :class:`vidreward.rewriter.codewriter.CodeWriter`'s): each candidate is a *sample*, its
own conversation sent with the configured temperature and its own ``seed``
(``CodeWriter.seed_base + draw``, draw 0, 1, 2, ...; the seed is part of the request hash, so the LM cache keeps samples
apart and a rerun replays the same K). A sample whose code is a duplicate
(:func:`vidreward.rewriter.base.code_digest`) of an earlier sample of the call or of a candidate in
the search history is dropped, and so is a sample that stays invalid after its tries; another seed
is drawn instead, up to ``2K + 2`` samples. Fewer than K distinct valid candidates then is a
``RewardCodeError`` naming the model, the endpoint, K and how many were distinct. K > 1 with
temperature 0 is a ``ConfigError`` before any request: greedy decoding gives the same answer for
every seed, so the samples would all be duplicates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidreward.critic.base import Critique
from vidreward.lm import render_prompt
from vidreward.lm.config import LMConfig
from vidreward.rewriter.base import Proposal, RewriteVideos, SearchHistory, TaskSpec
from vidreward.rewriter.codewriter import (  # noqa: F401 (re-exported: tests import them from here)
    LABEL_MAX_CHARS,
    CodeWriter,
    SampleRecord,
    TryRecord,
    returned_components,
    sample_label,
)
from vidreward.sim.fields import STATE_FIELDS

NO_HISTORY = "(no earlier candidates)"
"""What the prompts show in place of the search history when there is none."""


def state_field_list(indent: str = "     ") -> str:
    """The state fields reward code may ask for, one per line, for the rules in the prompt."""
    return "\n".join(f"{indent}- {f.name} {f.shape}: {f.meaning}" for f in STATE_FIELDS)


def critique_text(critique: Critique) -> str:
    """The four-part feedback (and any measured descriptors) as Markdown for a prompt."""
    lines = critique.to_markdown().splitlines()
    if lines and lines[0].startswith("# Critique"):
        lines = lines[1:]
    return "\n".join(lines).strip()


def history_text(history: SearchHistory | None) -> str:
    """The search history as the prompts show it: its Markdown table, or :data:`NO_HISTORY`."""
    text = history.to_markdown().strip() if history is not None else ""
    return text or NO_HISTORY


class OpenAIRewriter:
    """``Rewriter`` backed by a language model; see the module docstring.

    ``record_dir`` is where raw requests/answers of this iteration are copied (the iteration's
    ``lm/`` folder; one file per answer, ``rewriter_<kind>_sample<n>_try<t>-<hash16>.json``); when it
    is None and ``videos`` is given to :meth:`rewrite`, ``videos.out_dir/lm`` is used. The robot and
    the task come with each call, as its :class:`TaskSpec`.
    """

    name = "openai"
    system_prompt = "rewriter_system"
    initial_kind = "initial"
    rewrite_kind = "rewrite"

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
        """The answers of the last call (every sample's) and their validation outcome."""
        return self.writer.tries

    @property
    def samples(self) -> list[SampleRecord]:
        """The samples of the last call: seed, tries and outcome of each."""
        return self.writer.samples

    @property
    def last_report(self) -> Any:
        """ValidationReport of the code last returned (the first proposal of a ``propose_*`` call)."""
        return self.writer.last_report

    def _system(self, robot: str) -> dict[str, Any]:
        return {
            "role": "system",
            "content": render_prompt(self.system_prompt, robot=robot, state_fields=state_field_list()),
        }

    # -- prompts ------------------------------------------------------------------------------

    def _initial_messages(
        self, task: TaskSpec, env_context: str, expert_clip: Path | None
    ) -> list[dict[str, Any]]:
        user = render_prompt(
            "rewriter_initial", task=task.description, robot=task.robot, env_context=env_context.strip()
        )
        return [self._system(task.robot), {"role": "user", "content": user}]

    def _rewrite_messages(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: RewriteVideos | None,
        history: SearchHistory | None,
    ) -> tuple[list[dict[str, Any]], Path | None]:
        """The conversation of a rewrite and the record folder it asks for (None: the writer's)."""
        user = render_prompt(
            "rewriter_rewrite",
            task=task.description,
            robot=task.robot,
            env_context=env_context.strip(),
            previous_code=previous_code.strip(),
            train_stats=train_stats.strip() or "(no training statistics available)",
            critique=critique_text(critique),
            history=history_text(history),
        )
        record_dir = None
        if self.writer.record_dir is None and videos is not None:
            record_dir = Path(videos.out_dir) / "lm"
        return [self._system(task.robot), {"role": "user", "content": user}], record_dir

    # -- Rewriter -----------------------------------------------------------------------------

    def propose_initial(
        self, task: TaskSpec, env_context: str, expert_clip: Path | None, k: int
    ) -> list[Proposal]:
        """``k`` distinct iteration-0 candidates, one sample (seed) each."""
        self.writer.check_k(k, f"rewriter {self.name!r}")
        messages = self._initial_messages(task, env_context, expert_clip)
        return self.writer.propose(messages, self.initial_kind, task.robot, k)

    def propose_rewrites(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: RewriteVideos | None,
        k: int,
        history: SearchHistory,
    ) -> list[Proposal]:
        """``k`` distinct next-iteration candidates, none a candidate of ``history``; the prompt
        shows ``history``. Each label names the sample and the components added/removed against
        ``previous_code`` (where both can be read)."""
        self.writer.check_k(k, f"rewriter {self.name!r}")
        history = history if history is not None else SearchHistory()
        messages, record_dir = self._rewrite_messages(
            task, previous_code, critique, env_context, train_stats, videos, history
        )
        previous = returned_components(previous_code)

        def label(sample: int, seed: int, code: str, report: Any) -> str:
            return sample_label(sample, seed, getattr(report, "components", None), previous)

        return self.writer.propose(
            messages, self.rewrite_kind, task.robot, k, exclude=history.tried(),
            record_dir=record_dir, label=label,
        )

    def initial(self, task: TaskSpec, env_context: str, expert_clip: Path | None = None) -> str:
        """One candidate, one sample: ``propose_initial(..., k=1)`` without drawing a second seed
        when the first sample stays invalid."""
        messages = self._initial_messages(task, env_context, expert_clip)
        return self.writer.generate(messages, self.initial_kind, task.robot)

    def rewrite(
        self,
        task: TaskSpec,
        previous_code: str,
        critique: Critique,
        env_context: str,
        train_stats: str,
        videos: RewriteVideos | None = None,
    ) -> str:
        """One candidate, one sample, with an empty search history."""
        messages, record_dir = self._rewrite_messages(
            task, previous_code, critique, env_context, train_stats, videos, SearchHistory()
        )
        return self.writer.generate(messages, self.rewrite_kind, task.robot, record_dir)
