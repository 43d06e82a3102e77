"""A small valid panel (two segments × two months) that tests break one cell at a time."""

from __future__ import annotations

import io

import pandas as pd

GOOD = """segment,period,customers_start,churned,new_customers,revenue,csat,nps
A,2024-01-01,1000,10,20,5000.5,80,30
A,2024-02-01,1010,12,15,5100,81,31
B,2024-01-01,500,5,5,100,70,-5
B,2024-02-01,500,4,6,110,71,-4
"""


def frame(text: str) -> pd.DataFrame:
    """A panel frame from CSV text."""
    return pd.read_csv(io.StringIO(text))
