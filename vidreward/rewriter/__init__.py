"""Rewriter backends (lower level): critique + environment context -> new reward code."""

from vidreward.rewriter.analytic import AnalyticRewriter
from vidreward.rewriter.base import Rewriter, RewriteVideos, TaskSpec

__all__ = ["AnalyticRewriter", "Rewriter", "RewriteVideos", "TaskSpec"]
