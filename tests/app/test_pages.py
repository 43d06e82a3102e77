"""Page logic with Streamlit's AppTest (in-process, no browser)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT

TIMEOUT_S = 60


def run_page(module: str, function: str) -> AppTest:
    at = AppTest.from_string(f"from cxroi.app.pages.{module} import {function}\n{function}()", default_timeout=TIMEOUT_S)
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def metric_ancestors(at: AppTest, label: str) -> list[str]:
    """Layout blocks around the metric ``label``, outermost first: 'column', 'wrapping row',
    'row' (horizontal, no wrap), 'stack' (vertical) or the block's kind."""
    def describe(block) -> str:
        proto = block.proto
        if type(proto).__name__ == "Column":
            return "column"
        if proto.WhichOneof("type") == "flex_container":
            flex = proto.flex_container
            return "stack" if flex.direction == 1 else ("wrapping row" if flex.wrap else "row")
        return proto.WhichOneof("type") or "block"

    def walk(node, path):
        for child in node.children.values():
            if getattr(child, "type", None) == "metric" and child.label == label:
                return path
            if hasattr(child, "children"):
                found = walk(child, [*path, describe(child)] if getattr(child, "proto", None) is not None else path)
                if found is not None:
                    return found
        return None

    found = walk(at._tree, [])
    assert found is not None, f"no metric {label!r}"
    return found


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("error", "info", "warning", "success", "markdown", "caption")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_overview_shows_latest_month_from_the_sample(app_env):
    at = run_page("overview", "overview")
    assert not at.exception
    with open(ROOT / "data" / "sample" / "panel.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    last = max(r["period"] for r in rows)
    latest = [r for r in rows if r["period"] == last]
    customers = sum(int(r["customers_start"]) - int(r["churned"]) + int(r["new_customers"]) for r in latest)
    churn = sum(int(r["churned"]) for r in latest) / sum(int(r["customers_start"]) for r in latest)
    assert metric(at, "Customers") == f"{customers:,}"
    assert metric(at, "Monthly churn") == f"{100 * churn:.2f}%"
    assert "Bayesian (PyMC)" in texts(at)


def test_overview_figures_wrap_instead_of_sharing_five_columns(app_env):
    at = run_page("overview", "overview")
    for label in ("Customers", "Monthly revenue", "Monthly churn", "CSAT (% satisfied)", "NPS (points)"):
        layout = metric_ancestors(at, label)
        # a fixed 1/5 column cuts "537,702" off at 1024 px; a wrapping row moves it to a new line
        assert "column" not in layout and "wrapping row" in layout, (label, layout)


def test_overview_without_a_model_says_so(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CXROI_MODELS_DIR", str(tmp_path / "empty"))
    at = run_page("overview", "overview")
    assert not at.exception
    assert "No model yet" in texts(at)
    assert metric(at, "Customers")  # the data part still renders


def test_broken_champion_gives_a_plain_message(app_env, monkeypatch, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "CHAMPION").write_text("gone-model\n")
    monkeypatch.setenv("CXROI_MODELS_DIR", str(models))
    at = run_page("overview", "overview")
    assert not at.exception
    assert any("gone-model" in e.value and "not found" in e.value for e in at.error)
    assert not at.expander  # a user error: no technical details needed


def test_bad_panel_lists_problems_on_overview(app_env, monkeypatch, tmp_path):
    bad = tmp_path / "panel.csv"
    bad.write_text("segment,period,customers_start\nA,2024-01-01,-5\n")
    monkeypatch.setenv("CXROI_PANEL", str(bad))
    at = run_page("overview", "overview")
    assert not at.exception
    assert "has problems" in at.error[0].value
    assert any("error(s)" in m.value for m in at.markdown)


def spend_slider(at: AppTest):
    return next(s for s in at.slider if s.label.startswith("Monthly spend per segment"))


def test_planner_with_no_monthly_spend_loses_the_discounted_one_off_cost(app_env):
    at = run_page("planner", "planner")
    assert not at.exception
    assert metric(at, "NPV").startswith("$")
    spend_slider(at).set_value(0.0).run()
    assert not at.exception
    # No spend → no lift → no incremental revenue; only the one-off cost of the self-service
    # portal (catalogue: 600,000) paid at the end of forecast month 1 and discounted at 10 %/year:
    # NPV = −600,000 / 1.10^(1/12) = −600,000 / 1.0079741 = −595,253.4 → shown to three significant figures.
    expected = -600_000 * 1.10 ** (-1 / 12)
    assert math.isclose(expected, -595_253.4, abs_tol=0.1)
    assert metric(at, "NPV") == "−$595k"
    assert metric(at, "P(ROI > 0)") == "0%"


def test_planner_headline_spans_the_page_above_the_controls(app_env):
    at = run_page("planner", "planner")
    assert not at.exception
    for label in ("NPV", "ROI", "Payback", "P(ROI > 0)"):
        layout = metric_ancestors(at, label)
        # not squeezed into the results column (3/5 of the page): a full-width row that wraps in pairs
        assert "column" not in layout and layout[-3:] == ["wrapping row", "row", "stack"], (label, layout)


def test_planner_with_every_lever_off_asks_for_one_instead_of_an_error(app_env):
    at = run_page("planner", "planner")
    levers = next(p for p in at.get("button_group") if "Value levers" in str(p.proto.label))
    levers.set_value([]).run()
    assert not at.exception and not at.error
    assert any(i.value.startswith("Choose at least one value lever") for i in at.info)
    assert not at.metric  # no results for a scenario that counts no value


def planner_texts(at: AppTest) -> str:
    return texts(at) + "\n".join(w.value for w in at.warning)


def test_planner_names_a_repeated_initiative_by_card_number_and_name(app_env):
    at = run_page("planner", "planner")
    planned = at.session_state["planner_body"]["investments"][0]["initiative"]
    next(s for s in at.selectbox if s.label == "Add an initiative").set_value(planned).run()  # offered, not the default
    next(b for b in at.button if b.label == "Add").click().run()  # the default scenario's initiative again
    assert not at.exception and not at.error
    shown = planner_texts(at)
    assert "Investments 1 and 2 both fund Self-service portal in SMB-EU" in shown
    assert "investments[" not in shown and "self_service_portal" not in shown


def test_planner_asks_for_a_segment_when_none_is_chosen(app_env):
    at = run_page("planner", "planner")
    next(m for m in at.multiselect if m.label == "Segments reached").set_value([]).run()
    assert not at.exception and not at.error
    assert "Choose at least one segment for Self-service portal (investment 1)." in [i.value for i in at.info]
    assert ":orange[Choose at least one segment]" in [c.value for c in at.caption]  # under the emptied list too
    assert "Tuple should have" not in planner_texts(at)


def test_saving_without_a_name_asks_for_one_and_drops_the_old_notice(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CXROI_DATABASE_URL", f"sqlite:///{tmp_path / 'own.db'}")  # leave the shared store alone
    at = run_page("planner", "planner")
    name = next(t for t in at.text_input if t.label == "Name")
    name.set_value("Plan A")
    next(b for b in at.button if b.label == "Save").click().run()
    assert "Saved 'Plan A' as version 1." in [s.value for s in at.success]
    next(t for t in at.text_input if t.label == "Name").set_value("   ")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception and not at.error
    assert [w.value for w in at.warning] == ["The name must not be blank."]
    assert not at.success  # the notice of the earlier save is gone


def test_drivers_page_reports_effect_sources(app_env):
    at = run_page("drivers", "drivers")
    assert not at.exception
    assert "history" in texts(at) and "catalogue" in texts(at)


def test_export_page_offers_three_formats(app_env):
    at = run_page("export", "export")
    assert not at.exception
    buttons = [b.proto for b in at.get("download_button")]
    assert [b.label for b in buttons] == ["Workbook (.xlsx)", "Forecast (.csv)", "Provenance (.json)",
                                          "Forecast (.parquet)"]  # short labels: file names can be long
    files = [b.help.removeprefix("Saves ") for b in buttons]
    assert [name.rsplit(".", 1)[1] for name in files] == ["xlsx", "csv", "json", "parquet"]


@pytest.mark.parametrize("module", ["compare", "data_retrain"])
def test_other_pages_render_without_errors(app_env, module):
    at = run_page(module, module)
    assert not at.exception
    assert not at.error


def test_app_entry_point_runs_the_overview(app_env):
    at = AppTest.from_file(str(Path(ROOT) / "app.py"), default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert at.title[0].value == "Overview"


def npv_amount(text: str) -> float:
    """'$7.18M' → 7.18e6, '−$248k' → −248e3."""
    scale = {"k": 1e3, "M": 1e6, "B": 1e9}.get(text[-1], 1.0)
    number = text.rstrip("kMB").replace("−", "-").replace("$", "").replace(",", "")
    return float(number) * scale


def test_planner_own_lift_estimate_drives_the_value(app_env):
    at = run_page("planner", "planner")
    next(t for t in at.toggle if t.label.startswith("Own lift estimate")).set_value(True).run()
    assert not at.exception
    csat = next(n for n in at.number_input if n.label == "CSAT lift (points)")
    nps = next(n for n in at.number_input if n.label == "NPS lift (points)")
    nps.set_value(0.0)
    csat.set_value(0.0).run()
    flat = npv_amount(metric(at, "NPV"))
    # lifts centred on zero points: the median plan only costs money
    assert flat < 0
    csat.set_value(6.0).run()
    assert npv_amount(metric(at, "NPV")) > flat


def test_optimiser_budget_below_the_one_off_costs_funds_fewer_initiatives(app_env):
    at = run_page("optimiser", "optimiser")
    next(n for n in at.number_input if n.label.startswith("Total budget")).set_value(100_000.0)
    next(b for b in at.button if b.label == "Find the best allocation").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # the catalogue's one-off costs are 250,000, 150,000, 80,000 and 120,000: at most one fits
    headings = [h.value for h in at.subheader if h.value.startswith("Recommended allocation: ")]
    if headings:
        spent = float(headings[0].removeprefix("Recommended allocation: $").split(" of ")[0].replace(",", ""))
        assert 0 < spent <= 100_000
    else:
        assert any("spend nothing" in i.value for i in at.info)


def test_optimiser_needs_an_initiative_and_a_segment(app_env):
    at = run_page("optimiser", "optimiser")
    next(m for m in at.multiselect if m.label == "Initiatives offered").set_value([])
    next(b for b in at.button if b.label == "Find the best allocation").click().run()
    assert any("at least one initiative" in w.value for w in at.warning)
    assert not [h for h in at.subheader if h.value.startswith("Recommended allocation")]


PAGE_SWITCH_APP = """
import streamlit as st
from cxroi.app import scenario_form, state
from cxroi.app.pages.export import export
from cxroi.app.pages.planner import planner
page = st.session_state.get("page", "planner")
if page == "open plan":  # what the Optimiser's "Open this plan in the Scenario planner" does, then Export
    plan = scenario_form.default_body(state.champion(), state.catalogue())
    scenario_form.open_body({**plan, "name": "Optimised allocation", "horizon_months": 12})
    st.session_state["page"] = "export"
    export()
else:
    {"planner": planner, "export": export}[page]()
"""


def switch_to(at: AppTest, page: str) -> AppTest:
    at.session_state["page"] = page
    return at.run()


def test_export_shows_the_plan_opened_in_the_planner_not_an_older_one(app_env):
    at = AppTest.from_string(PAGE_SWITCH_APP, default_timeout=TIMEOUT_S).run()  # planner: its default scenario
    assert metric(at, "NPV")
    switch_to(at, "open plan")
    assert not at.exception and not at.error
    assert "Optimised allocation" in at.selectbox[0].format_func(at.selectbox[0].value)
    assert any("horizon 12 months" in c.value for c in at.caption)


def test_export_of_a_planner_scenario_that_cannot_be_valued_says_so(app_env):
    at = AppTest.from_string(PAGE_SWITCH_APP, default_timeout=TIMEOUT_S).run()
    levers = next(p for p in at.get("button_group") if "Value levers" in str(p.proto.label))
    levers.set_value([]).run()
    switch_to(at, "export")
    assert not at.exception
    assert any("cannot be valued" in w.value and "value lever" in w.value for w in at.warning)
    assert not at.get("download_button") and not at.metric  # no stale scenario exported


def test_shortening_the_horizon_keeps_the_start_month_and_says_it_no_longer_fits(app_env):
    at = run_page("planner", "planner")
    next(n for n in at.number_input if n.label == "Start month").set_value(36).run()
    horizon = next(s for s in at.slider if s.label == "Horizon (months)")
    horizon.set_value(6).run()
    assert not at.exception and not at.error
    assert next(n for n in at.number_input if n.label == "Start month").value == 36
    assert "Start month 36 is after the 6-month horizon" in "\n".join(c.value for c in at.caption)
    assert any("starts in month 36, after the 6-month horizon" in i.value for i in at.info)
    assert not at.metric
    next(s for s in at.slider if s.label == "Horizon (months)").set_value(120).run()
    assert next(n for n in at.number_input if n.label == "Start month").value == 36  # the user's month, kept
    assert metric(at, "NPV")


def test_compare_names_the_model_and_warns_when_scenarios_are_valued_differently(app_env, monkeypatch, tmp_path):
    from cxroi.sim.scenario import parse_scenario
    from cxroi.store import Store
    from cxroi.testing.artifacts import TRUTH_MODEL_ID
    from tests.app.conftest import EXAMPLE_SCENARIOS

    url = f"sqlite:///{tmp_path / 'own.db'}"
    monkeypatch.setenv("CXROI_DATABASE_URL", url)
    store = Store(url)
    first, second = EXAMPLE_SCENARIOS
    store.save_scenario(first["name"], parse_scenario(first).to_dict())
    store.save_scenario(second["name"], parse_scenario({**second, "terminal_value": True}).to_dict())
    store.close()
    at = run_page("compare", "compare")
    assert not at.exception and not at.error
    assert any(TRUTH_MODEL_ID in c.value for c in at.caption)
    terms = next(t.value for t in at.table if "Terminal value" in t.value.columns)
    assert list(terms.columns) == ["Horizon (months)", "Discount rate (per year)", "Gross margin", "Terminal value",
                                   "Value levers"]
    assert sorted(terms["Terminal value"]) == ["included", "not included"]
    assert [w.value for w in at.warning] == [
        "Not like for like: the terminal value differs between these scenarios, so part of the difference in value "
        "comes from how they are valued."]


def test_drivers_page_warns_about_a_broken_champion_file_and_carries_on(app_env, monkeypatch, tmp_path):
    from cxroi.testing.artifacts import TRUTH_MODEL_ID, truth_champion

    models = tmp_path / "models"
    truth_champion(models)
    (models / "CHAMPION").write_text("../elsewhere\n")  # not a model id
    monkeypatch.setenv("CXROI_MODELS_DIR", str(models))
    at = run_page("drivers", "drivers")
    assert not at.exception and not at.error
    assert any("no usable champion" in w.value and "not a model id" in w.value for w in at.warning)
    assert at.selectbox[0].value == TRUTH_MODEL_ID  # the page still shows the model's effects and health
    assert "Monthly churn, +10 CSAT" in texts(at)


def tiny_panel(months: int):
    """A valid panel of one segment over ``months`` months."""
    import pandas as pd

    return pd.DataFrame({
        "segment": "SMB-EU", "period": pd.date_range("2025-01-01", periods=months, freq="MS"),
        "customers_start": 1000, "churned": 20, "new_customers": 25, "revenue": 50_000.0, "csat": 75.0, "nps": 30.0})


def retrain_form(months: int) -> AppTest:
    return AppTest.from_string(f"""
from cxroi.app.pages.data_retrain import _retrain_form
from tests.app.test_pages import tiny_panel
_retrain_form(tiny_panel({months}), "tiny.csv")
""", default_timeout=TIMEOUT_S).run()


def test_a_valid_panel_too_short_to_train_on_is_not_offered_for_retraining(app_env):
    at = retrain_form(3)
    assert not at.exception and not at.error
    # the trainer's own rule (cxroi.fit.design): each segment observed in enough months
    assert any(w.value.startswith("tiny.csv is valid but a model cannot be trained on it: segments observed in "
                                  "fewer than") and "SMB-EU (3)" in w.value for w in at.warning)
    assert next(b for b in at.button if b.label == "Start retraining").disabled


def test_a_panel_long_enough_can_be_retrained(app_env):
    at = retrain_form(24)
    assert not at.exception and not at.warning
    assert not next(b for b in at.button if b.label == "Start retraining").disabled


def test_file_level_findings_show_a_dash_for_the_row():
    at = AppTest.from_string("""
from cxroi.app.widgets import findings_table
from cxroi.data.schema import Finding
findings_table([Finding("error", None, None, "the file is empty"), Finding("error", 1200, "nps", "above 100")])
""").run()
    assert at.dataframe[0].value["row"].tolist() == ["—", "1,200"]


@pytest.mark.parametrize(("reader_mb", "server_mb", "expected"), [(50, 200, 50), (0.5, 200, 1), (1000, 200, 200)])
def test_the_uploader_takes_the_readers_size_limit_within_the_servers(reader_mb, server_mb, expected):
    from cxroi.app.pages.data_retrain import upload_limit_mb

    # 0.5 MB rounds up to 1 MB, so a file just over the reader's limit still gets its plain message
    assert upload_limit_mb(int(reader_mb * 2**20), server_mb) == expected


def test_the_servers_upload_ceiling_admits_the_readers_default_limit():
    import tomllib

    from cxroi.data.readers import DEFAULT_MAX_PANEL_MB

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] >= DEFAULT_MAX_PANEL_MB


def test_downloads_of_a_saved_scenario_carry_its_version(app_env):
    at = run_page("export", "export")
    at.selectbox[0].set_value(("SMB onboarding", 1)).run()
    assert not at.exception and not at.error
    names = [b.proto.help.removeprefix("Saves ") for b in at.get("download_button")]
    assert "SMB_onboarding-v1.xlsx" in names and "SMB_onboarding-v1.csv" in names, names


OPEN_LONG_PLAN = """
from cxroi.app import scenario_form, state
from cxroi.app.pages.planner import planner
plan = scenario_form.default_body(state.champion(), state.catalogue())
if "opened" not in scenario_form.st.session_state:  # as the planner's "open a saved version" does
    scenario_form.st.session_state["opened"] = True
    scenario_form.open_body({**plan, "name": "Ten-year view", "horizon_months": 240,
                             "investments": [{**plan["investments"][0], "start_month": 200}]})
planner()
"""


def test_a_saved_scenario_with_the_longest_horizon_opens_in_the_planner(app_env):
    # a scenario file (or a CLI save) may use any horizon up to 240 months and start that late
    at = AppTest.from_string(OPEN_LONG_PLAN, default_timeout=TIMEOUT_S).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert next(s for s in at.slider if s.label == "Horizon (months)").value == 240
    assert next(n for n in at.number_input if n.label == "Start month").value == 200
    assert metric(at, "NPV")
