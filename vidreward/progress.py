"""Progress lines for long training runs, written to a stream (stderr, hence the rule's log).

Plain one-line records rather than a redrawn progress bar: rule logs are files, and a carriage-return
bar turns into thousands of fragments there. Example line::

    [train iter_2] 409,600/1,000,000 env steps (41.0%) | return 123.4 | 2,573 steps/s | elapsed 2m39s | ETA 3m49s | epoch=25

Usage::

    progress = TrainingProgress(total_steps=1_000_000, label="train iter_2")
    for epoch in ...:
        progress.update(env_steps, mean_return, epoch=epoch)
    progress.close()

or as a context manager (``with TrainingProgress(...) as progress:``), which calls ``close``.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Callable, TextIO


def format_duration(seconds: float | None) -> str:
    """``3h02m``, ``4m05s``, ``12s``; ``?`` when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h}h{m:02d}m"
    if m:
        return f"{m}m{s:02d}s"
    return f"{s}s"


class TrainingProgress:
    """Rate-limited progress reporter.

    ``update`` prints at most one line per ``min_interval_s`` seconds, and always for the first update,
    for the update that reaches ``total_steps`` and on ``close``. ``log=None`` writes to whatever
    ``sys.stderr`` is at print time (so a tee installed by the stage's logging is honoured).
    ``initial_steps`` is where a resumed run starts. Throughput is the average since construction; the ETA uses the rate over the most recent
    printed interval (falling back to the average), so it follows slow-downs.
    """

    def __init__(self, total_steps: int, log: TextIO | None = None, min_interval_s: float = 10.0,
                 label: str = "train", clock: Callable[[], float] = time.monotonic,
                 initial_steps: int = 0):
        if total_steps <= 0:
            raise ValueError(f"total_steps must be positive, got {total_steps}")
        self.total_steps = int(total_steps)
        self.log = log
        self.min_interval_s = float(min_interval_s)
        self.label = label
        self.clock = clock
        self.start_time = clock()
        self.start_steps = int(initial_steps)
        self.last_steps = int(initial_steps)
        self.last_return: float | None = None
        self.last_extra: dict[str, object] = {}
        self._printed_time: float | None = None
        self._printed_steps = int(initial_steps)
        self._recent_rate: float | None = None
        self._closed = False
        self.lines_printed = 0

    # ------------------------------------------------------------------ public
    def update(self, env_steps: int, mean_return: float | None = None, **extra: object) -> bool:
        """Record progress; returns True when a line was printed."""
        now = self.clock()
        env_steps = int(env_steps)
        self.last_steps = env_steps
        if mean_return is not None:
            self.last_return = float(mean_return)
        self.last_extra = extra
        due = (
            self._printed_time is None
            or now - self._printed_time >= self.min_interval_s
            or (env_steps >= self.total_steps and self._printed_steps < self.total_steps)
        )
        if due:
            self._emit(now)
        return due

    def close(self) -> None:
        """Print a final line (unless the last update was just printed) and stop."""
        if self._closed:
            return
        self._closed = True
        if self._printed_time is None or self._printed_steps != self.last_steps:
            self._emit(self.clock(), final=True)
        else:
            self._write(f"[{self.label}] done: {self.last_steps:,} env steps in "
                        f"{format_duration(self.clock() - self.start_time)}")

    def __enter__(self) -> "TrainingProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ state
    def rate(self, now: float | None = None) -> float | None:
        """Average env steps per second since construction (steps beyond ``initial_steps``)."""
        now = self.clock() if now is None else now
        elapsed = now - self.start_time
        done = self.last_steps - self.start_steps
        if elapsed <= 0 or done <= 0:
            return None
        return done / elapsed

    def eta_s(self, now: float | None = None) -> float | None:
        remaining = max(0, self.total_steps - self.last_steps)
        if remaining == 0:
            return 0.0
        rate = self._recent_rate or self.rate(now)
        return remaining / rate if rate else None

    def format_line(self, now: float) -> str:
        pct = 100.0 * self.last_steps / self.total_steps
        parts = [f"[{self.label}] {self.last_steps:,}/{self.total_steps:,} env steps ({pct:.1f}%)"]
        if self.last_return is not None and math.isfinite(self.last_return):
            parts.append(f"return {self.last_return:.4g}")
        rate = self.rate(now)
        parts.append(f"{rate:,.0f} steps/s" if rate else "? steps/s")
        parts.append(f"elapsed {format_duration(now - self.start_time)}")
        parts.append(f"ETA {format_duration(self.eta_s(now))}")
        if self.last_extra:
            parts.append(" ".join(f"{k}={_short(v)}" for k, v in self.last_extra.items()))
        return " | ".join(parts)

    # ------------------------------------------------------------------ output
    def _emit(self, now: float, final: bool = False) -> None:
        if self._printed_time is not None and now > self._printed_time \
                and self.last_steps > self._printed_steps:
            self._recent_rate = (self.last_steps - self._printed_steps) / (now - self._printed_time)
        line = self.format_line(now)
        self._write(line + (" | done" if final else ""))
        self._printed_time = now
        self._printed_steps = self.last_steps

    def _write(self, line: str) -> None:
        stream = self.log if self.log is not None else sys.stderr
        stream.write(line + "\n")
        stream.flush()
        self.lines_printed += 1


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
