"""Eureka's reflection as a critic: feedback from the training statistics alone, no video.

The Eureka baseline writes reward code from the task text and the environment, and after each
round is told only how training went: every reward component's per-step value over training and
the fitness. This critic writes that feedback in the four parts, with machine-readable items the
analytic rewriter applies, following Eureka's reflection advice:

* a component whose value barely moved during training (range under ``FLAT_RANGE`` of its mean
  magnitude) could not be optimised: its scale doubles (``rewrite``), or it is dropped when it was
  also negligible (under ``NEGLIGIBLE`` of the reward) and is not the last term (``remove``); the
  survival bonus and the action cost are flat by design and left alone (``BY_DESIGN_FLAT``);
* a component that dominates the reward (over ``DOMINANT_SHARE`` of the last epoch's magnitude,
  with other terms present) is halved (``rewrite``);
* a return that did not grow is reported as a problem.

It never reads the expert clip or the rollout video: its critique has no gap and no descriptors, so
nothing measured on video reaches a rewriter through it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vidreward.critic.base import Critique, CritiqueInput, Item
from vidreward.critic.reward_terms import terms_from_code
from vidreward.errors import CritiqueError
from vidreward.reflection import training_statistics

FLAT_RANGE = 0.05
"""A component is flat when (max - min) over training is under this share of its mean |value|."""
NEGLIGIBLE = 0.01
"""A flat component is dropped when its share of the reward's magnitude is under this."""
DOMINANT_SHARE = 0.6
"""A component dominates when it holds more than this share of the last epoch's magnitude."""
BY_DESIGN_FLAT = frozenset({"alive", "action_cost"})
"""Terms that are flat by design (the survival bonus, the action cost of saturated actions): a flat
value is no sign that RL failed on them, so the reflection leaves them alone unless they dominate."""


def _scale(params: dict, name: str) -> float | None:
    value = params.get(name, {}).get("scale")
    return float(value) if isinstance(value, (int, float)) else None


class StatisticsCritic:
    """Feedback from ``train_log.csv`` and the reward code's ``TERMS`` only (module docstring)."""

    name = "statistics"

    def critique(self, inp: CritiqueInput) -> Critique:
        if inp.train_log is None or not Path(inp.train_log).is_file():
            raise CritiqueError(f"statistics critic: no training log at {inp.train_log}")
        try:
            table = pd.read_csv(inp.train_log)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise CritiqueError(f"{inp.train_log}: cannot read train log ({exc})") from exc
        params = terms_from_code(inp.reward_code) or {}  # the scales, from the TERMS literal
        crit = Critique(backend=self.name)
        columns = sorted(c for c in table.columns if c.startswith("reward/"))
        if table.empty or not columns:
            crit.problems.append(Item("Training logged no reward component; rewrite the reward."))
            crit.raw_text = crit.to_markdown()
            return crit
        self._return_trend(crit, table)
        last = {c.removeprefix("reward/"): abs(float(table[c].iloc[-1])) for c in columns}
        total = sum(last.values()) or 1.0
        removable = [n for n in last if n not in BY_DESIGN_FLAT]
        for column in columns:
            name = column.removeprefix("reward/")
            series = table[column].astype(float)
            share = last[name] / total
            spread, level = float(series.max() - series.min()), float(series.abs().mean())
            scale = _scale(params, name)
            if name not in BY_DESIGN_FLAT and (level == 0 or spread < FLAT_RANGE * level):
                text = (f"{name} stayed at {series.mean():.3g} per step throughout training (range "
                        f"{spread:.3g}): RL could not optimise it.")
                crit.problems.append(Item(text, component=name))
                if share < NEGLIGIBLE and name in removable and len(removable) > 1:
                    removable.remove(name)
                    crit.remove.append(Item(f"{name} is {share:.1%} of the reward and flat; drop it.",
                                            component=name))
                elif scale is not None:
                    crit.rewrite.append(Item(f"Double the scale of {name} ({scale:g} -> {2 * scale:g}) "
                                             "so its changes matter to the policy.", component=name,
                                             params={"scale": round(2 * scale, 6)}))
            elif share > DOMINANT_SHARE and len(columns) > 1:
                crit.problems.append(Item(f"{name} is {share:.0%} of the reward's magnitude: it drowns "
                                          "the other components.", component=name))
                if scale is not None:
                    crit.rewrite.append(Item(f"Halve the scale of {name} ({scale:g} -> {scale / 2:g}).",
                                             component=name, params={"scale": round(scale / 2, 6)}))
        crit.raw_text = crit.to_markdown() + "\n## Training statistics\n\n" + training_statistics(inp.train_log)
        return crit

    @staticmethod
    def _return_trend(crit: Critique, table: pd.DataFrame) -> None:
        if "mean_return" not in table or len(table) < 2:
            return
        first, final = float(table["mean_return"].iloc[0]), float(table["mean_return"].iloc[-1])
        if final <= first:
            crit.problems.append(Item(f"The mean return did not grow during training ({first:.3g} -> "
                                      f"{final:.3g})."))
