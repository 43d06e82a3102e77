"""cxroi: learn how CSAT and NPS move churn, revenue per customer and acquisition, then simulate
CX investments into customers, revenue, cash flow, NPV, ROI, payback and IRR with uncertainty."""

__version__ = "0.1.0"
