"""Test order for ``pytest -n 2 --dist loadfile`` (``make test``): the modules that run whole
workflows go first, so the two workers start on the long ones and the many short modules fill in
around them. Every test of a module runs in one worker (``loadfile``), so a module-scoped fixture
(a workflow run) is built once."""

from __future__ import annotations

# slowest first (minutes per module in serial runs on the 2-core machine, roughly)
SLOW_MODULES = (
    "test_slurm.py",  # 6-8: local SLURM daemons, the quick run through sbatch and locally
    "test_workflow_compare.py",  # 3.7: the quick matrix
    "test_term_training.py",  # 4: six PPO runs
    "test_benchmarks.py",  # 3.5: bench_search alone runs three workflows
    "test_dvc.py",  # 2.4
    "test_workflow_search.py",  # 2.4
    "test_workflow.py",  # 2.1
    "test_integrity.py",
    "test_workflow_backends.py",
    "test_report_browser.py",
    "test_rating_browser.py",
    "test_perception.py",
    "test_motion_suite.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(SLOW_MODULES)}
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(rank)), order[id(item)]))
