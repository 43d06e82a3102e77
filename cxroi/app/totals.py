"""Totals for a budget: the business without and with the investment, month by month, so
finance can put the forecast straight into a plan (not only the increment).

Units: customers, churned and new customers are counts per month (customers at the start of the
month); revenue and gross profit are currency per month. Quantiles are over the model's parameter
draws, for one segment or for all segments together (quantiles of the sum).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cxroi.app import formatting as fmt
from cxroi.sim.result import SimulationResult, draw_quantiles

QUANTITIES = {"revenue": "Revenue", "gross_profit": "Gross profit", "customers": "Customers",
              "churned": "Customers lost", "new_customers": "New customers"}
MONEY = frozenset({"revenue", "gross_profit"})
WORLDS = {"baseline": "Without investment", "scenario": "With investment", "incremental": "Increment"}
ALL = "All segments"


def totals_frame(result: SimulationResult, quantity: str, segment: str = ALL) -> pd.DataFrame:
    """One row per forecast month: P10, P50 and P90 of ``quantity`` without the investment
    (``baseline_*``), with it (``scenario_*``) and of the increment (``incremental_*``), for
    ``segment`` or all segments together."""
    worlds = result.totals()[quantity]
    columns: dict[str, np.ndarray] = {}
    for world, values in worlds.items():
        chosen = values.sum(axis=1) if segment == ALL else values[:, result.segments.index(segment)]
        p10, p50, p90 = draw_quantiles(chosen, (0.1, 0.5, 0.9))
        columns |= {f"{world}_p10": p10, f"{world}_p50": p50, f"{world}_p90": p90}
    return pd.DataFrame({"month": result.months, **columns})


def show_totals(result: SimulationResult, currency: str, key: str = "totals") -> None:
    """Totals by month for a quantity and segment the user picks: medians without and with the
    investment and of the increment, with the increment's 80 % range (the columns that fit a
    laptop screen; the exports hold every quantile of the three)."""
    cols = st.columns([2, 2])
    quantity = cols[0].selectbox("Quantity", list(QUANTITIES), format_func=QUANTITIES.get, key=f"{key}_quantity")
    segment = cols[1].selectbox("Segment", [ALL, *result.segments], key=f"{key}_segment")
    frame = totals_frame(result, quantity, segment)
    unit = f"{currency} per month" if quantity in MONEY else "customers per month"
    number = fmt.SIGNED_MONEY_COLUMN if quantity in MONEY else "localized"
    config = {"month": st.column_config.DateColumn("Month", format="MMM YYYY", pinned=True)}
    config |= {f"{world}_p50": st.column_config.NumberColumn(words, format=number) for world, words in WORLDS.items()}
    config |= {f"incremental_{q}": st.column_config.NumberColumn(f"{WORLDS['incremental']} {q.upper()}", format=number)
               for q in ("p10", "p90")}
    st.dataframe(frame, hide_index=True, width="stretch", height=320, column_order=list(config), column_config=config)
    st.caption(f"In {unit}: medians (P50) over the model's parameter draws without and with the investment and of "
               "the increment, with the increment's 80% range (P10–P90). Without + increment = with the investment "
               "draw by draw, not quantile by quantile, so the medians need not add up exactly. Every quantile of the "
               "three is in every export (metrics `baseline_*`, `scenario_*`, `incremental_*`).")
