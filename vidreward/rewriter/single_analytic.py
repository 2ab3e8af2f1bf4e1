"""The Single-VLM ablation offline: the analytic rewriter editing from the measurement alone.

In the ablation one model looks at both videos and writes the code, with no four-part feedback in
between. Offline the analytic rewriter stands in for that model: it gets the measured descriptors of
the expert and the robot (what the model would see in the two videos) but none of the critic's
Problems / Rewrite / Remove / New items, so every candidate is a search move (scale line search,
target and term-set changes) led by the descriptor with the largest gap, never an edit the critic
asked for.
"""

from __future__ import annotations

import dataclasses

from vidreward.critic.base import Critique
from vidreward.rewriter.analytic import AnalyticRewriter
from vidreward.rewriter.base import (
    CandidateRecord,
    Proposal,
    RewriteVideos,
    SearchHistory,
    TaskSpec,
    code_digest,
)


def measurement_only(critique: Critique) -> Critique:
    """The critique with its four parts dropped: only the backend, gap and descriptors remain."""
    return Critique(backend=critique.backend, gap=critique.gap,
                    descriptors={k: dict(v) for k, v in critique.descriptors.items()
                                 if k in ("expert", "robot")})


class SingleAnalyticRewriter(AnalyticRewriter):
    """``analytic_single``: :class:`AnalyticRewriter` given :func:`measurement_only` critiques."""

    name = "analytic_single"

    def propose_rewrites(self, task: TaskSpec, previous_code: str, critique: Critique,
                         env_context: str = "", train_stats: str = "",
                         videos: RewriteVideos | None = None, k: int = 1,
                         history: SearchHistory | None = None) -> list[Proposal]:
        # without the critic's edits "as asked" is the previous code: never a candidate here
        history = history or SearchHistory()
        previous = CandidateRecord(iteration=-1, candidate=-1, label="the previous reward",
                                   digest=code_digest(previous_code))
        history = dataclasses.replace(history, candidates=[*history.candidates, previous])
        return super().propose_rewrites(task, previous_code, measurement_only(critique), env_context,
                                        train_stats, videos, k, history)

