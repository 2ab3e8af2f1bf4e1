"""Compact training statistics per reward component, for the rewriter (Eureka-style reflection)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def training_statistics(train_log: str | Path, points: int = 6) -> str:
    """Summarise ``train_log.csv``: per reward component and for the return, values sampled over
    training plus min/max/mean, so a rewriter can see which terms grew, stalled or dominate."""
    table = pd.read_csv(train_log)
    if table.empty:
        return "No training epochs were logged."
    idx = sorted({round(k * (len(table) - 1) / max(points - 1, 1)) for k in range(points)})
    lines = [
        f"Training ran {len(table)} epochs, {int(table['env_steps'].iloc[-1])} environment steps.",
        "Values at evenly spaced epochs (per-step means for reward components):",
    ]
    columns = ["mean_return", "mean_episode_length"] + [
        c for c in table.columns if c.startswith("reward/")
    ]
    for column in columns:
        if column not in table:
            continue
        series = table[column]
        sampled = ", ".join(f"{series.iloc[i]:.3g}" for i in idx)
        lines.append(
            f"- {column}: [{sampled}]  min {series.min():.3g}, max {series.max():.3g}, "
            f"mean {series.mean():.3g}"
        )
    return "\n".join(lines)
