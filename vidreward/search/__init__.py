"""The search over reward candidates within each iteration: K candidates, selection of the winner
by the upper-level objective, best-so-far incumbents and optional successive halving."""

from vidreward.search.config import OBJECTIVES, HalvingConfig, SearchConfig

__all__ = ["OBJECTIVES", "HalvingConfig", "SearchConfig"]
