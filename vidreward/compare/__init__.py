"""The paper's comparison: methods as presets, the task x method x seed matrix, its table and figures,
and the human rating page."""
