"""Tracking approved decisions: did the investment deliver what was promised?

Given a decision (scenario, model id, approval), its model artifact and a newer panel that
extends the model's training panel, :func:`track` compares, for the segments the decision
reaches and the observed months from its start (forecast month 1 = the month after the model's
training window):

**The counterfactual** (:mod:`cxroi.track.counterfactual`) is the decision's own model run
forward without the investment from the pre-decision state — the observed customers at the
start of the decision's first funded month — through the model's links, per parameter draw. Its
CSAT/NPS path is the *actual* path with the investment's part taken out: observed scores (a
month without a survey carries the last one forward) minus the realised lift, spread over
segments and months in the shape the decision assumed (its lift × the saturated adstock of its
spend; a segment not reached keeps its observed scores). So movements of CSAT/NPS that the
investment did not cause (a market-wide dip, a seasonal swing) move the counterfactual too and
are not credited to or charged against the investment. The realised lift is drawn from its
sampling distribution in each draw, so its uncertainty reaches the increments.

The simulator's baseline gives expected values given each draw; an observed month is one
realisation with churn, acquisition and revenue noise. The counterfactual therefore draws that
outcome noise (beta-binomial churn, negative-binomial new customers, Student-t log ARPU, with
the artifact's dispersion parameters): the spread of ``observed − counterfactual`` over draws is
parameter uncertainty plus outcome noise, and its 80 % / 90 % intervals are honest for one
realised path. (``noise=False`` gives expected values, for checks by hand.)

**Realised increments to date** per draw: observed − counterfactual, summed over reached
segments: customers at the end of the last month, revenue and cash flow (incremental revenue ×
gross margin − spend: the panel's actual spend_<initiative> when it has it, else the decision's
planned spend) cumulated from the start, and NPV to date (discounted to forecast month 0).

**Updated NPV over the horizon** per draw: the NPV to date plus the months after the last
observed one as the decision's model forecasts them with the assumed lift rescaled to the
realised one (:func:`cxroi.track.tracker._rest_of_horizon`), against the promised NPV.

**Promised** is the decision's own forecast for the same months (recomputed on its model: same
model and scenario give the same draws), P10–P90 over draws; the status compares the realised
increment with that band (:mod:`cxroi.track.tracker`). **The realised CSAT/NPS lift**
(:mod:`cxroi.track.lift`) is measured against untreated segments (difference-in-differences)
when there are any and against the pre-decision level, both reported beside the assumed lift;
each treated segment's lift, scaled to full effect, is proposed as a pilot result
(:mod:`cxroi.track.pilots`), written only where asked and never applied.

Numpy/pandas only: nothing here imports PyMC, PyTensor, ArviZ or statsmodels.
"""

from cxroi.track.tracker import (
    AHEAD,
    BEHIND,
    METRIC_LABELS,
    ON_TRACK,
    STATUS_PROBABILITY,
    TOO_EARLY,
    Tracking,
    track,
)

__all__ = ["AHEAD", "BEHIND", "METRIC_LABELS", "ON_TRACK", "STATUS_PROBABILITY", "TOO_EARLY", "Tracking", "track"]
