"""Planner outputs: comparison tables, Excel workbooks, charts and policy briefs."""
