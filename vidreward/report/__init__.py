"""Review material for a run: HTML pages with the expert clip and rollouts side by side, and plots."""

from vidreward.report.iteration_page import build_iteration_page
from vidreward.report.markup import diff_html, render_markdown
from vidreward.report.media import VideoInfo, probe_video
from vidreward.report.pagefiles import ReportError
from vidreward.report.plots import PlotError, plot_summary, plot_training_curves
from vidreward.report.run_page import build_run_index, build_run_report

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
