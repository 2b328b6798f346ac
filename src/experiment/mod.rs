//! Run configurations, presets, grids of runs and their reports.
