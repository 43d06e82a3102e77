"""The planner's actions with Streamlit's AppTest: Save and Approve right under the headline
figures (Approve only for those who may approve), "Add an initiative" offering one not yet in the
plan and keeping the results, and the saved-scenarios box naming the scenario actually loaded."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cxroi import service
from cxroi.app import scenario_form, state
from cxroi.app.pages.planner import CHOICE, PICKED
from tests.app.conftest import EXAMPLE_SCENARIOS

TIMEOUT_S = 120
PLANNER = "from cxroi.app.pages.planner import planner\nplanner()"


@pytest.fixture
def planner(app_env, tmp_path, monkeypatch) -> AppTest:
    """The planner on a store of its own holding the two example scenarios."""
    url = f"sqlite:///{tmp_path / 'own.db'}"
    monkeypatch.setenv("CXROI_DATABASE_URL", url)
    ctx = service.Context.from_environment(models_dir=str(app_env / "models"), database_url=url)
    for scenario in EXAMPLE_SCENARIOS:
        service.save_scenario(ctx, service.LOCAL_USER, scenario)
    ctx.close()
    return AppTest.from_string(PLANNER, default_timeout=TIMEOUT_S).run()


def _labels(node) -> list[str]:
    """Labels of the metrics and popovers under ``node``, in page order."""
    found = []
    for child in getattr(node, "children", {}).values():
        if getattr(child, "type", None) == "metric":
            found.append(child.label)
        elif getattr(child, "type", None) == "popover":
            found.append(child.proto.popover.label)
        found += _labels(child)
    return found


def _add_box(at: AppTest):
    return next(s for s in at.selectbox if s.label == "Add an initiative")


def _open(at: AppTest, choice: tuple[str, int]) -> AppTest:
    next(s for s in at.selectbox if s.label == "Saved scenarios").set_value(choice).run()
    return next(b for b in at.button if b.label == "Open").click().run()


def test_save_and_approve_follow_the_headline_figures(planner):
    at = planner
    assert not at.exception
    order = _labels(at._tree)
    save = order.index("Save this scenario")
    tiles = [m.label for m in at.metric]
    assert save >= 4 and order[:save] == tiles[:save]  # NPV, ROI, payback, P(ROI > 0) … then the actions
    assert order[save + 1] == "Approve this scenario"  # the local user has every role


def test_a_viewer_can_save_but_is_not_offered_approval(planner):
    at = planner
    at.session_state[state.USER_KEY] = service.User("oidc:vera", "Vera", frozenset({service.Role.VIEWER}))
    at.run()
    assert not at.exception
    order = _labels(at._tree)
    assert "Save this scenario" in order and "Approve this scenario" not in order
    assert not [b for b in at.button if b.label == "Approve"]


def test_add_offers_an_initiative_not_in_the_plan_and_keeps_the_results(planner):
    at = planner
    first = at.session_state[scenario_form.BODY]["investments"][0]["initiative"]
    assert _add_box(at).value != first  # the default plan funds the model's first initiative
    offered = _add_box(at).value
    next(b for b in at.button if b.label == "Add").click().run()
    assert not at.exception
    planned = [inv["initiative"] for inv in at.session_state[scenario_form.BODY]["investments"]]
    assert planned == [first, offered]
    assert at.metric and not at.info  # still valued: no overlap to resolve, nothing wiped
    assert _add_box(at).value not in planned  # and the box moves on to the next one


def test_the_saved_scenarios_box_names_what_the_planner_holds(planner):
    at = planner
    assert at.session_state[CHOICE] is None  # a new scenario: nothing saved is loaded
    enterprise, smb = ((s["name"], 1) for s in EXAMPLE_SCENARIOS)
    at = _open(at, enterprise)
    assert at.session_state[CHOICE] == enterprise == at.session_state[scenario_form.LOADED]
    next(s for s in at.selectbox if s.label == "Saved scenarios").set_value(smb).run()  # picked, not opened
    assert any("Not opened yet" in c.value for c in at.caption)
    assert at.session_state[scenario_form.LOADED] == enterprise
    # another page (the optimiser) puts an unsaved plan into the planner: the box no longer names a saved one
    at.session_state[scenario_form.LOADED] = None
    at.session_state[PICKED] = False
    at.run()
    assert not at.exception
    assert at.session_state[CHOICE] is None
    assert not any("Not opened yet" in c.value for c in at.caption)
