"""Review material for a run: HTML pages with the expert clip and rollouts side by side, and plots."""

from vidreward.report.media import VideoInfo, probe_video
from vidreward.report.pages import (
    ReportError,
    build_iteration_page,
    build_run_index,
    build_run_report,
    diff_html,
    render_markdown,
)
from vidreward.report.plots import PlotError, plot_summary, plot_training_curves

__all__ = [
    "PlotError",
    "ReportError",
    "VideoInfo",
    "build_iteration_page",
    "build_run_index",
    "build_run_report",
    "diff_html",
    "plot_summary",
    "plot_training_curves",
    "probe_video",
    "render_markdown",
]
