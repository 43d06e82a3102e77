"""The planner flags implausible plans beside the headline, and two people saving one scenario
from the same version never overwrite each other silently."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cxroi.store import Store
from tests.app.conftest import app_environment

TIMEOUT_S = 120

OPEN_PLAN = """
from cxroi.app import scenario_form, state
from cxroi.app.pages.planner import planner
plan = scenario_form.default_body(state.champion(), state.catalogue())
if "opened" not in scenario_form.st.session_state:  # as the planner's "open a saved version" does
    scenario_form.st.session_state["opened"] = True
    scenario_form.open_body({{**plan, "name": {name!r}, "horizon_months": {horizon}, "terminal_value": {terminal}}})
planner()
"""

OPEN_SAVED = """
from cxroi.app import scenario_form, state
from cxroi.app.pages.planner import planner
if "opened" not in scenario_form.st.session_state:  # as the planner's "Open" button does
    scenario_form.st.session_state["opened"] = True
    saved = state.open_saved({name!r}, 1)
    scenario_form.open_body(saved.body, (saved.name, saved.version))
planner()
"""


def _planner(script: str) -> AppTest:
    return AppTest.from_string(script, default_timeout=TIMEOUT_S).run()


def test_twenty_years_with_a_terminal_value_is_flagged_beside_the_headline(app_env):
    at = _planner(OPEN_PLAN.format(name="Twenty years", horizon=240, terminal="True"))
    assert not at.exception
    flags = [w.value for w in at.warning if "terminal value on top of a 240-month horizon" in w.value]
    assert len(flags) == 1, [w.value for w in at.warning]


def test_a_three_year_plan_without_terminal_value_has_no_horizon_flag(app_env):
    at = _planner(OPEN_PLAN.format(name="Three years", horizon=36, terminal="False"))
    assert not at.exception
    assert not [w.value for w in at.warning if "terminal value" in w.value]


def _save(at: AppTest) -> AppTest:
    form_button = next(b for b in at.button if b.label == "Save")
    return form_button.click().run()


def test_two_people_saving_from_the_same_version_get_a_conflict_not_an_overwrite(app_env, tmp_path, monkeypatch):
    for key, value in app_environment(tmp_path).items():  # a store of its own
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CXROI_MODELS_DIR", str(app_env / "models"))
    first = _planner(OPEN_PLAN.format(name="Shared plan", horizon=36, terminal="False"))
    _save(first)  # version 1
    assert not first.exception
    ann, bob = _planner(OPEN_SAVED.format(name="Shared plan")), _planner(OPEN_SAVED.format(name="Shared plan"))
    _save(ann)  # both opened version 1; Ann saves first: version 2
    _save(bob)  # Bob's save is based on version 1 too
    assert not bob.exception
    conflict = [w.value for w in bob.warning if "changed since version 1" in w.value]
    assert len(conflict) == 1, [w.value for w in bob.warning]
    store = Store(app_environment(tmp_path)["CXROI_DATABASE_URL"])
    assert [v.version for v in store.versions("Shared plan")] == [1, 2]  # Bob's save wrote nothing
    on_top = next(b for b in bob.button if b.label == "Save on top of version 2")
    on_top.click().run()  # Bob chooses to save on top of Ann's version
    assert [v.version for v in store.versions("Shared plan")] == [1, 2, 3]
    store.close()
