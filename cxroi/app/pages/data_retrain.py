"""Data & retrain: validate an uploaded panel, retrain on it in the background, promote the result
only when it passed the health gate."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from cxroi import registry
from cxroi.app import formatting as fmt
from cxroi.app import jobs, retrain, state
from cxroi.app.errors import guard
from cxroi.app.widgets import findings_table, health_table, job_progress, refreshing
from cxroi.data.dictionary import TEMPLATE_CSV, dictionary_frame
from cxroi.data.readers import load_panel, max_panel_bytes
from cxroi.seeds import DEFAULT_SEED
from cxroi.text import literal

UPLOAD_TYPES = ["csv", "parquet", "pq", "xlsx", "xls"]
OWN_JOB = "retrain_started_here"  #: session key: the id of the retraining this session started


def _retrain_progress(polling: bool) -> None:
    """The latest retraining: progress, then the new model's health gate and promotion."""
    cfg = state.settings()
    job = next(iter(jobs.list_jobs(cfg.work_dir, retrain.KIND)), None)
    if job is None:
        st.caption("No retraining has been run from the app yet.")
        return
    family = fmt.FAMILY_LABELS.get(job.info["family"], job.info["family"])
    title = f"Training a {family} model on {job.info['source']}:"
    if job_progress(job, title, polling, retrain.progress(job)) != "succeeded":
        return
    for model_id in retrain.new_models(job, cfg.models_dir):
        model = state.load_model(model_id)
        accepted = model.manifest.accepted
        st.markdown(f"**New model {model_id}** — health gate "
                    + (":green[passed]" if accepted else ":red[not passed: it cannot become the champion]"))
        health_table(model.manifest.health)
        if model_id == registry.champion_id(cfg.models_dir):
            st.success("This model is the champion.")
        elif accepted:
            st.info("Promote it on the Drivers & model health page (Models & promotion tab), where it is shown "
                    "beside the champion and the promotion asks for your reason.", icon=":material/upgrade:")


def upload_limit_mb(reader_limit_bytes: int, server_limit_mb: int) -> int:
    """Largest upload in MB (units of 1024²): the panel reader's limit (CXROI_MAX_PANEL_MB),
    rounded up so a file just over it still reaches the reader's plain message, within the
    server's ceiling (server.maxUploadSize in .streamlit/config.toml)."""
    return max(1, min(math.ceil(reader_limit_bytes / 2**20), server_limit_mb))


def _retrain_form(panel: pd.DataFrame, source_name: str) -> None:
    """Start retraining on a validated panel, or say why the trainer cannot use it."""
    cfg = state.settings()
    st.subheader("Retrain on this file")
    problem = retrain.training_problem(panel, state.catalogue())
    if problem:
        st.warning(f"{literal(source_name)} is valid but a model cannot be trained on it: {literal(problem)}.",
                   icon=":material/block:")
    running = jobs.running(cfg.work_dir, retrain.KIND)
    with st.form("retrain"):
        cols = st.columns(3)
        family = cols[0].selectbox("Model family", retrain.FAMILIES, format_func=fmt.FAMILY_LABELS.get)
        kept = cols[1].selectbox("Draws kept", list(retrain.KEPT_DRAWS_THIN), format_func="{:,}".format,
                                 help="2,000 as the shipped model; 4,000 gives finer tails but makes every scenario "
                                      "take twice as long to value. Sampling takes the same time either way.")
        seed = cols[2].number_input("Seed", min_value=0, value=DEFAULT_SEED, step=1)
        submitted = st.form_submit_button("Start retraining", type="primary",
                                          disabled=running is not None or problem is not None)
    if running is not None:
        mine = running.job_id == st.session_state.get(OWN_JOB)
        st.info("Your retraining is running: its progress is shown below." if mine else
                "Another retraining is running (one at a time: training uses every core); its progress is shown "
                "below. Start yours when it has finished.", icon=":material/hourglass:")
    elif submitted and problem is None:
        try:
            job = retrain.start_retrain(panel, source_name, family, int(seed), cfg.work_dir, cfg.models_dir,
                                        thin=retrain.KEPT_DRAWS_THIN[kept], user=state.current_user())
        except jobs.JobBusy as exc:  # another session or app process started one a moment ago
            st.info(str(exc), icon=":material/hourglass:")
            return
        st.session_state[OWN_JOB] = job.job_id
        st.rerun()


def data_retrain() -> None:
    """Render the Data & retrain page."""
    st.title("Data & retrain")
    st.markdown("Upload a segment × month panel (CSV, Parquet or Excel). Every problem is listed "
                "below; nothing is stored or trained on a file with errors.")
    cfg = state.settings()
    help_row = st.container(horizontal=True, gap="small")
    help_row.download_button("Template (CSV)", TEMPLATE_CSV, file_name="panel_template.csv", mime="text/csv",
                             icon=":material/table:", help="The columns cxroi reads, with a few example rows.")
    help_row.download_button("Data dictionary (CSV)", dictionary_frame().to_csv(index=False),
                             file_name="panel_dictionary.csv", mime="text/csv", icon=":material/menu_book:",
                             help="Every column: required or not, its type and unit, what it means.")
    with guard("checking the uploaded file"):
        limit = upload_limit_mb(max_panel_bytes(), int(st.get_option("server.maxUploadSize")))
        upload = st.file_uploader(
            "Panel file", type=UPLOAD_TYPES, key="panel_upload", max_upload_size=limit,
            help=f"Files up to {limit} MB. A larger file is refused as soon as it is chosen (marked red, not read): "
                 "aggregate customer-level records to one row per segment and month first "
                 "(`cxroi data aggregate`).")
        if upload is not None:
            key = (upload.file_id, upload.name, upload.size)
            if st.session_state.get("upload_key") != key:
                st.session_state["upload_key"] = key
                st.session_state["upload_result"] = load_panel(upload, upload.name)
            panel, findings = st.session_state["upload_result"]
            if panel is None:
                st.error(f"{literal(upload.name)} cannot be used: fix the problems below and upload it again.",
                         icon=":material/error:")
            else:
                segments, months = panel["segment"].nunique(), panel["period"].nunique()
                st.success(f"{literal(upload.name)} is valid: {segments} segment{'s' * (segments != 1)} × {months} "
                           f"month{'s' * (months != 1)}, {len(panel):,} rows.", icon=":material/check:")
            if findings:
                findings_table(findings)
            if panel is not None:
                with st.expander("Preview (first 20 rows)"):
                    st.dataframe(panel.head(20), hide_index=True)
                _retrain_form(panel, upload.name)
    st.subheader("Retraining")
    with guard("showing the retraining progress"):
        refreshing(_retrain_progress, jobs.running(cfg.work_dir, retrain.KIND) is not None)
