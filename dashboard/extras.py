"""Kept only for dashboard/views/overview.py, which imports intervention_rows from here; the functions
live in dashboard.presets (the intervention log) and dashboard.downloads (workbook sheets, briefs).
Delete this file once that page imports dashboard.presets.intervention_rows directly."""
from dashboard.presets import intervention_rows

__all__ = ["intervention_rows"]
