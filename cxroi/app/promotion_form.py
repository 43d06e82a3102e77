"""Promoting a model in the app: the candidate beside the current champion first (health gate,
backtest, effects with their sources, and what shifted beyond the promotion bound), then a form
that asks for a reason and an explicit confirmation; the promotion goes through the service (which
checks the user's role again and writes the audit trail)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxroi.app import state
from cxroi.errors import ArtifactError
from cxroi.params import EFFECT_LABELS
from cxroi.registry import ModelArtifact
from cxroi.service.identity import Permission
from cxroi.service.models import compare_with_champion, promote_model, show_model
from cxroi.text import literal

HEALTH_LABEL = {"pass": "passed", "review": "needs review", "fail": "not passed"}


def _facts(artifact: ModelArtifact) -> dict[str, str]:
    """A model's headline facts: status, health gate and each check, backtest against naive."""
    manifest = artifact.manifest
    window = manifest.training_window
    facts = {"Status": manifest.status, "Family": manifest.family,
             "Training window": f"{window.start} to {window.end}" if window else "not recorded",
             "Health gate": HEALTH_LABEL[manifest.health.verdict]}
    for check in manifest.health.checks:
        facts[f"  {check.name}"] = f"{check.value:,.4g} ({check.rule} {check.threshold:,.4g}: {check.verdict})"
    backtest = manifest.backtest
    facts["Backtest MAPE"] = (f"{backtest.model_mape_pct:.1f}% (best naive forecast {backtest.best_naive_mape_pct:.1f}%)"
                              if backtest else "no backtest")
    facts["Caveats"] = str(len(manifest.caveats))
    return facts


def _effects(model_id: str) -> pd.DataFrame:
    """The model's effects: effect, for (segment or initiative), median [P5, P95] and source."""
    summary = show_model(state.context(), state.current_user(), model_id)
    return pd.DataFrame([{"effect": EFFECT_LABELS.get(e.parameter, e.parameter), "for": e.label,
                          "value": f"{e.median:+.3g} [{e.p5:+.3g}, {e.p95:+.3g}]", "source": e.source}
                         for e in summary.effects], columns=["effect", "for", "value", "source"])


def _source_change(champion: object, candidate: object) -> str:
    """Where an effect comes from: one source, or "champion's → candidate's" when it changed."""
    if not isinstance(champion, str):
        return str(candidate)
    if not isinstance(candidate, str):
        return champion
    return candidate if champion == candidate else f"{champion} → {candidate}"


def side_by_side(candidate: ModelArtifact, champion: ModelArtifact) -> None:
    """The candidate's and the champion's health, backtest and effects in adjacent columns."""
    facts = pd.DataFrame({f"Candidate {candidate.model_id}": _facts(candidate),
                          f"Champion {champion.model_id}": _facts(champion)})
    st.dataframe(facts, width="stretch")
    ours, theirs = _effects(candidate.model_id), _effects(champion.model_id)
    effects = ours.merge(theirs, on=["effect", "for"], how="outer", suffixes=("_candidate", "_champion"))
    effects["source"] = [_source_change(a, b) for a, b in zip(effects["source_champion"],
                                                                effects["source_candidate"], strict=True)]
    st.markdown("**Effects** — median and 90% interval (per +10 points; lifts in points); *source*: the "
                "history, the catalogue prior or a pilot (champion's → candidate's when it changed).")
    st.dataframe(effects[["effect", "for", "value_candidate", "value_champion", "source"]], hide_index=True,
                 width="stretch", column_config={"effect": "Effect", "for": "Segment or initiative",
                                                 "value_candidate": "Candidate", "value_champion": "Champion",
                                                 "source": "Source"})


def promotion_form(model: ModelArtifact, champion_id: str | None) -> None:
    """Everything needed to promote ``model``: shown to users who may promote, refused to others."""
    user = state.current_user()
    if not user.can(Permission.PROMOTE):
        st.info(f"Promoting a model needs the analyst role; {literal(user.name)} may only look.",
                icon=":material/lock:")
        return
    model_id = model.model_id
    st.markdown(f"#### Promote {literal(model_id)} to champion?")
    shifts: list[str] = []
    if champion_id is not None:
        try:
            champion = state.load_model(champion_id)
        except ArtifactError:
            champion = None
        if champion is not None:
            side_by_side(model, champion)
            comparison = compare_with_champion(state.context(), user, model_id)
            shifts = comparison.shifts if comparison else []
    accepted = model.manifest.accepted
    with st.form("promote"):
        force = acknowledged = False
        if not accepted:
            st.warning("This model failed the health gate. Promote it only with a recorded reason.")
            force = st.checkbox("Promote despite the failed health gate")
        if shifts:
            st.warning(f"This model differs from the champion {literal(champion_id)} beyond the bound "
                       + literal(f"(CXROI_PROMOTION_SHIFT): {'; '.join(shifts)}")
                       + ". Check its training data before trusting its numbers.", icon=":material/difference:")
            acknowledged = st.checkbox("I have checked the shift: promote it anyway (recorded in the promotion log)")
        reason = st.text_area("Reason for the promotion (recorded with your name)", max_chars=2000)
        confirmed = st.checkbox(f"I confirm: every forecast will use {literal(model_id)} from now on")
        submitted = st.form_submit_button("Promote", type="primary")
    if not submitted:
        return
    if not confirmed:
        st.error("Tick the confirmation to promote the model.", icon=":material/error:")
    elif not reason.strip():
        st.error("Give the reason for the promotion: it is recorded with your name.", icon=":material/error:")
    else:
        promote_model(state.context(), user, model_id, reason, force=force, acknowledge_shift=acknowledged)
        st.success(f"{literal(model_id)} is now the champion.")
        st.rerun()
