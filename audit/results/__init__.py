"""The read model of a finished run: one typed view of its results that the exports, the reports and the dashboard
all read, so each figure is computed once (docs/architecture.md, «Read model»).

- ``score``    — a dataset's score and *conforme* flag (the scoring stage stores the same).
- ``run``      — the run's datasets and rule results as read from the store (``RunData``).
- ``summary``  — per-organization rows (``OrgRow``) with the ranking, the portal summary (``RunSummary``), earlier
  years (trends) and the portal context the organization reports share (``PortalContext``).
- ``ranking``  — competition ranking with ties (1, 1, 3).
"""

from audit.results.ranking import TIE, rank
from audit.results.run import (
    RunData,
    characteristic_pct,
    get_run,
    load_run_data,
    mean,
    previous_run_id,
    run_year,
)
from audit.results.score import Cells, dataset_score, is_conforme, score_cells
from audit.results.summary import (
    OrgRow,
    PortalContext,
    RunSummary,
    YearResults,
    earlier_years,
    org_rows,
    portal_context,
    run_summary,
)

__all__ = [
    "TIE", "Cells", "OrgRow", "PortalContext", "RunData", "RunSummary", "YearResults", "characteristic_pct",
    "dataset_score", "earlier_years", "get_run", "is_conforme", "load_run_data", "mean", "org_rows",
    "portal_context", "previous_run_id", "rank", "run_summary", "run_year", "score_cells",
]
