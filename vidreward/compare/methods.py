"""The compared methods as presets: the run settings (critic, rewriter, selection) each one means,
offline and online.

Offline, every method runs with no network; where the paper's method needs a model or a person,
an analytic or oracle part stands in, and :attr:`Method.offline_stand_in` says which (it is
recorded with the run's results). Online, the model parts call OpenAI-compatible endpoints (the
matrix's ``lm`` settings). No baseline gets evidence it would not have had in the paper:

=============  ===================================  ======================================  ==============
method         upper level (critic)                 lower level (rewriter)                  selection
=============  ===================================  ======================================  ==============
``bilevel``    a VLM compares the two videos         an LLM edits the code from the feedback  measured gap
               (offline: the analytic critic)        (offline: the analytic rewriter)
``eureka``     none: training statistics only        LLM, task text + statistics              mean return
               (Eureka's reflection; no video)       (offline: analytic rewriter)
``eureka_gt``  as ``eureka``                         as ``eureka``                            imitation
                                                                                                 score
``human_vlm``  a person watches and writes feedback  LLM (offline: analytic rewriter)         measured gap
               (offline: the oracle critic reads the
               clip's truth in the person's place)
``single_vlm`` none: one VLM sees both videos and    the same model writes the code          measured gap
               writes the code                       (offline: analytic rewriter from the
                                                     measurement, without feedback parts)
=============  ===================================  ======================================  ==============
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

MODES = ("offline", "online")
"""How a matrix runs its methods: ``offline`` (no network) or ``online`` (model endpoints)."""


@dataclass(frozen=True)
class Method:
    """One compared method: what it is, and the run settings it sets in each mode."""

    name: str
    paper: str
    """What the method is in the paper (one line)."""
    offline: dict[str, Any]
    """Run settings (``critic``, ``rewriter``, ``search.selection``) offline."""
    online: dict[str, Any]
    """Run settings online; ``critic.lm`` / ``rewriter.lm`` come from the matrix's ``lm``."""
    offline_stand_in: str = ""
    """Which analytic or oracle part stands in offline for a model or a person ("" for none)."""
    lm_parts: tuple[str, ...] = field(default=())
    """The sections (``critic``, ``rewriter``) that call a model online."""

    @property
    def needs_truth_offline(self) -> bool:
        """Whether the offline preset reads the clip's truth file (its critic is the oracle)."""
        return self.offline["critic"]["backend"] == "oracle"

    def settings(self, mode: str, lm: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run settings of this method in ``mode``, with the matrix's ``lm`` settings merged
        into the sections that call a model online."""
        preset = copy.deepcopy(self.offline if mode == "offline" else self.online)
        if mode == "online":
            for part in self.lm_parts:
                preset[part] = {**copy.deepcopy(lm or {}), **preset[part]}
        return preset


def _sel(objective: str) -> dict[str, Any]:
    return {"selection": objective}


def _eureka(name: str, paper: str, objective: str) -> Method:
    """Eureka or a variant: the statistics critic (no video), a code-writing rewriter, selection by
    ``objective``."""
    critic = {"backend": "statistics", "evidence": "none"}
    return Method(
        name, paper,
        offline={"critic": dict(critic), "rewriter": {"backend": "analytic"}, "search": _sel(objective)},
        online={"critic": dict(critic), "rewriter": {"backend": "openai"}, "search": _sel(objective)},
        offline_stand_in="analytic rewriter for the LLM",
        lm_parts=("rewriter",),
    )


METHODS: dict[str, Method] = {m.name: m for m in (
    Method(
        "bilevel",
        "the bi-level loop: a VLM critiques the robot's video against the expert's, an LLM rewrites",
        offline={"critic": {"backend": "analytic"}, "rewriter": {"backend": "analytic"},
                 "search": _sel("gap")},
        online={"critic": {"backend": "openai"}, "rewriter": {"backend": "openai"}, "search": _sel("gap")},
        offline_stand_in="analytic critic (classical computer vision) for the VLM, analytic rewriter "
                         "for the LLM",
        lm_parts=("critic", "rewriter"),
    ),
    _eureka("eureka", "Eureka: K samples from the task text, fitness from training statistics, "
            "reflection on them", "mean_return"),
    _eureka("eureka_gt", "Eureka-GT: Eureka with a ground-truth fitness (here the imitation score)",
            "imitation"),
    Method(
        "human_vlm",
        "Human-as-VLM: a person watches both videos and writes the four-part feedback",
        offline={"critic": {"backend": "oracle"}, "rewriter": {"backend": "analytic"},
                 "search": _sel("gap")},
        online={"critic": {"backend": "human", "evidence": "none"}, "rewriter": {"backend": "openai"},
                "search": _sel("gap")},
        offline_stand_in="oracle critic (the clip's truth file) for the person, analytic rewriter "
                         "for the LLM",
        lm_parts=("rewriter",),
    ),
    Method(
        "single_vlm",
        "Single-VLM ablation: one VLM sees both videos and writes the reward code, no separate critic",
        offline={"critic": {"backend": "analytic"}, "rewriter": {"backend": "analytic_single"},
                 "search": _sel("gap")},
        online={"critic": {"backend": "analytic"}, "rewriter": {"backend": "single_model"},
                "search": _sel("gap")},
        offline_stand_in="analytic rewriter editing from the measurement alone (no four-part feedback)",
        lm_parts=("rewriter",),
    ),
)}
"""The method registry (the schema's ``matrix.methods`` enum is generated from it)."""
