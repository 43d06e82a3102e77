"""The panel's data dictionary and a template file to fill in, for people preparing an upload.

One row per segment × calendar month; the columns, their units and rules are those checked by
:mod:`cxroi.data.schema` (a test keeps the two in step).
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from cxroi.data.schema import SPEND_PREFIX


class ColumnDoc(NamedTuple):
    """One column of the panel: its name, whether it is required, its type and what it means."""

    column: str
    required: bool
    type: str
    meaning: str


COLUMNS = (
    ColumnDoc("segment", True, "text", "Customer segment (tier, region, product line), e.g. SMB-EU."),
    ColumnDoc("period", True, "month (YYYY-MM or YYYY-MM-DD, first day)", "Calendar month the row describes."),
    ColumnDoc("customers_start", True, "whole number ≥ 0", "Active customers at the start of the month."),
    ColumnDoc("churned", True, "whole number, 0 to customers_start", "Customers lost during the month."),
    ColumnDoc("new_customers", True, "whole number ≥ 0", "Customers acquired during the month."),
    ColumnDoc("revenue", True, "number ≥ 0, currency", "Revenue recognised from the segment in the month."),
    ColumnDoc("csat", True, "number 0–100, empty = no survey", "CSAT: % of respondents satisfied (top-2-box)."),
    ColumnDoc("nps", True, "number −100–100, empty = no survey", "Net Promoter Score: % promoters − % detractors."),
    ColumnDoc("csat_responses", False, "whole number ≥ 0", "CSAT survey answers that month (measurement error)."),
    ColumnDoc("nps_responses", False, "whole number ≥ 0", "NPS survey answers that month (measurement error)."),
    ColumnDoc(f"{SPEND_PREFIX}<initiative>", False, "number ≥ 0, currency",
              "CX spend on an initiative in that month and segment, e.g. spend_self_service_portal."),
)

#: a template to fill in: every documented column but the spend columns, and a few rows that pass
#: validation (two segments × two months, the second month of SMB-EU without a survey)
TEMPLATE_CSV = """segment,period,customers_start,churned,new_customers,revenue,csat,nps,csat_responses,nps_responses
SMB-EU,2025-01-01,12000,360,410,1560000,72.5,18.0,640,610
SMB-EU,2025-02-01,12050,350,380,1571000,,,,
Enterprise-EU,2025-01-01,420,4,6,2310000,81.0,41.0,95,90
Enterprise-EU,2025-02-01,422,3,5,2325000,80.5,43.0,97,88
"""


def dictionary_frame() -> pd.DataFrame:
    """The data dictionary as a table: column, required, type, meaning."""
    return pd.DataFrame(COLUMNS).assign(required=lambda t: t["required"].map({True: "yes", False: "no"}))

