"""Export: the forecast of the current (or a saved) scenario as XLSX, CSV and Parquet downloads."""

from __future__ import annotations

import streamlit as st

from cxroi.app import results, scenario_form, state
from cxroi.app.errors import guard
from cxroi.app.totals import show_totals
from cxroi.sim.scenario import parse_scenario
from cxroi.text import literal

MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
}
LABELS = {"xlsx": "Excel workbook (.xlsx)", "csv": "CSV, long format", "parquet": "Parquet, long format"}
#: what each downloaded file holds, for its button (the file name, often long, is shown below it)
CONTENTS = {"xlsx": "Workbook", "csv": "Forecast", "parquet": "Forecast", "json": "Provenance"}


def export() -> None:
    """Render the Export page."""
    st.title("Export")
    st.markdown("Download the forecast for your own models: the workbook has Summary, Monthly forecast, "
                "Levers, Assumptions and Provenance sheets; CSV and Parquet hold one row per segment × "
                "month × metric × quantile, with the provenance alongside.")
    cfg = state.settings()
    with guard("preparing the export"):
        model = state.champion_or_notice()
        if model is None:
            return
        current = scenario_form.current_body(model, state.catalogue())  # what the planner's form shows now
        choice = st.selectbox("Scenario", ["current", *state.saved_versions()], key="export_choice",
                              format_func=lambda o: (f"Current planner scenario: {current['name']}" if o == "current"
                                                     else f"Saved: {o[0]} — version {o[1]}"))
        if choice == "current" and (problems := scenario_form.problems(current, model)):
            st.warning("The scenario in the Scenario planner cannot be valued as it stands, so there is nothing "
                       "to export: " + literal(" ".join(problems)) + " Fix it in the planner, or choose a saved scenario.",
                       icon=":material/warning:")
            return
        body = current if choice == "current" else state.store().get_scenario(*choice).body
        scenario = parse_scenario(body, "the planner's scenario" if choice == "current" else "the saved scenario")
        result = state.simulate(model, scenario)
        results.show_metrics(result, cfg.currency)
        st.subheader("Downloads")
        cols = st.columns(3)
        for column, fmt in zip(cols, LABELS, strict=True):
            with column, st.container(border=True):
                st.markdown(f"**{LABELS[fmt]}**")
                files = state.export_files(model.model_id, scenario.to_json(), fmt,
                                           None if choice == "current" else choice[1])
                for name, content in files.items():
                    suffix = name.rsplit(".", 1)[-1]
                    st.download_button(f"{CONTENTS.get(suffix, 'File')} (.{suffix})", content, file_name=name,
                                       mime=MIME.get(suffix), icon=":material/download:", key=f"download_{name}",
                                       width="stretch", help=f"Saves {name}")
                st.caption(" · ".join(literal(name) for name in files))
        st.subheader("Preview: all segments together")
        results.show_forecast_preview(result, cfg.currency)
        st.subheader("Totals for a budget")
        st.markdown("The business without and with the investment, month by month, so the forecast can go "
                    "straight into a plan.")
        show_totals(result, cfg.currency)
        st.caption(f"Model {model.model_id} · {result.n_draws:,} draws · horizon {scenario.horizon_months} months · "
                   "quantiles P10, P50, P90")
