"""The Optimiser page with Streamlit's AppTest: one-offs once per initiative, the current plan
beside the optimised one, and opening a plan asks before replacing unsaved planner work and
leaves out $0 lines."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cxroi import registry
from cxroi.app import scenario_form
from cxroi.sim.optimise.problem import MIN_EFFECTIVE_SHARE
from cxroi.sim.plan import nominal_cost

TIMEOUT_S = 120
APP = """
import streamlit as st
from cxroi.app.pages.optimiser import optimiser
from cxroi.app.pages.planner import planner
{"planner": planner, "optimiser": optimiser}[st.session_state.get("page", "planner")]()
"""


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def optimised(at: AppTest) -> AppTest:
    at.session_state["page"] = "optimiser"
    at.run()
    button(at, "Find the best allocation").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_opening_a_plan_asks_before_replacing_unsaved_planner_work(app_env):
    at = AppTest.from_string(APP, default_timeout=TIMEOUT_S).run()  # the planner's default scenario
    next(s for s in at.slider if s.label == "Horizon (months)").set_value(24).run()  # unsaved work
    optimised(at)
    button(at, "Open this plan in the Scenario planner").click().run()
    assert any("unsaved changes" in w.value for w in at.warning)
    assert at.session_state[scenario_form.BODY]["horizon_months"] == 24  # nothing replaced yet
    button(at, "Keep my planner work").click().run()
    assert at.session_state[scenario_form.BODY]["horizon_months"] == 24
    assert not any("unsaved changes" in w.value for w in at.warning)
    button(at, "Open this plan in the Scenario planner").click().run()
    button(at, "Replace the planner's scenario").click().run()
    body = at.session_state[scenario_form.BODY]
    assert body["name"] == "Optimised allocation" and body["horizon_months"] == 36
    assert body["investments"] and all(inv["monthly_spend"] >= 1 for inv in body["investments"])  # no $0 lines
    # each initiative's one-off once, on its first card
    one_offs = [inv["initiative"] for inv in body["investments"] if inv["one_off_cost"] > 0]
    assert len(one_offs) == len(set(one_offs)) == len({inv["initiative"] for inv in body["investments"]})
    # no funded segment of an initiative with a one-off below its minimum effective spend
    model = registry.load_artifact(registry.champion_id(app_env / "models"), app_env / "models")
    assert all(inv["monthly_spend"] >= MIN_EFFECTIVE_SHARE * nominal_cost(model, inv["initiative"], segment) - 1
               for inv in body["investments"] for segment in inv["segments"])


def test_without_unsaved_work_the_plan_opens_at_once_and_is_compared_with_the_current_one(app_env):
    at = optimised(AppTest.from_string(APP, default_timeout=TIMEOUT_S).run())
    headers = list(at.table[0].value.columns)
    assert headers[0].startswith("Current plan: ") and headers[1] == "Optimised"
    assert "Current plan vs optimised" in [s.value for s in at.subheader]
    by_initiative = at.dataframe[0].value
    assert list(by_initiative["initiative"]) == list(dict.fromkeys(by_initiative["initiative"]))  # once each
    assert by_initiative["one_off_cost"].gt(0).all()
    button(at, "Open this plan in the Scenario planner").click().run()
    assert not any("unsaved changes" in w.value for w in at.warning)
    assert at.session_state[scenario_form.BODY]["name"] == "Optimised allocation"
