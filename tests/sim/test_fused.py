"""The fused compiled kernel against the numpy reference, and the entry point choosing between them."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from cxroi.sim import finance, fused, kernel
from cxroi.sim.compiled import BackgroundKernel
from cxroi.sim.engine import Simulator
from cxroi.sim.fused import _expm1_5, _expm1_7, _expm1_9, _expm1_any, fused_increments
from cxroi.sim.kernel import FLOAT, Increments, Lifts, numpy_increments
from cxroi.sim.scenario import parse_scenario

LEVERS = ("retention", "arpu", "acquisition")
FIELDS = ("revenue_pv", "revenue_total", "revenue_by_month", "margin_by_month", "customers_end", "revenue",
          "customers", "survival_gain", "new")

# Both kernels compute the increments in float32 (rounding 6e-8 relative); they differ in the
# order of roundings (fused multiply-adds, c[m] + c[m+1] summed in float32 rather than float64, an
# expm1 within 1 ulp of numpy's) and in the baseline, grown in float32 by the fused kernel (at most
# ~m·2⁻²⁴ relative after m months, see BaselinePack). Over up to 40 months that stays below 1e-5 of
# an array's largest increment (measured: 2.2e-6).
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def simulator(plausible) -> Simulator:
    return Simulator(plausible)


def random_scenario(simulator: Simulator, seed: int, lift_points: float) -> tuple:
    """Arguments of an increments call: a random horizon, set of segments, grouping of
    segments, CSAT/NPS lifts of up to ``lift_points`` points (negative too, none in the first
    month), subset of levers and margins, on the artifact's baseline and coefficients."""
    rng = np.random.default_rng(seed)
    horizon = int(rng.integers(1, 41))
    n_segments = len(simulator.segments)
    index = np.sort(rng.choice(n_segments, size=int(rng.integers(1, n_segments + 1)), replace=False))
    n_groups = int(rng.integers(1, len(index) + 1))
    shape = (horizon, n_groups, simulator.n_draws)
    csat, nps = (lift_points * rng.uniform(-0.3, 1.0, shape)).astype(FLOAT), (lift_points * rng.uniform(-0.3, 1.0, shape)).astype(FLOAT)
    csat[0] = nps[0] = 0.0  # the model's one-month lag
    lifts = Lifts(csat, nps, rng.integers(0, n_groups, len(index)).astype(np.intp))
    levers = frozenset(lever for lever in LEVERS if rng.random() < 0.6)
    discount = finance.discount_factors(finance.monthly_rate(float(rng.uniform(0.0, 0.2))), horizon)
    return (simulator.pack(horizon, index), lifts, simulator.coefficients(index), levers, discount,
            rng.uniform(0.3, 0.9, len(index)))


def assert_same_increments(ours: Increments, reference: Increments) -> None:
    for name in FIELDS:
        mine, theirs = getattr(ours, name), getattr(reference, name)
        if theirs is None:
            assert mine is None, name
            continue
        scale = float(np.abs(theirs).max(initial=0.0))
        np.testing.assert_allclose(mine, theirs, rtol=TOLERANCE, atol=TOLERANCE * scale, err_msg=name)


def assert_chunks_change_nothing(monkeypatch, args: tuple, keep: bool = True) -> Increments:
    """One thread in one piece and two threads in chunks of 7 draws (the last one shorter) give
    identical arrays for ``args``; returns the one-piece result."""
    monkeypatch.setattr(fused, "_threads", 1)
    whole = fused_increments(*args, keep=keep)
    monkeypatch.setattr(fused, "_threads", 2)
    monkeypatch.setattr(fused, "_THREADED_SIZE", 0)
    monkeypatch.setattr(fused, "_CHUNK_DRAWS", 7)
    chunked = fused_increments(*args, keep=keep)
    for name in FIELDS:
        mine, theirs = getattr(chunked, name), getattr(whole, name)
        assert (mine is None) == (theirs is None), name
        if mine is not None:
            np.testing.assert_array_equal(mine, theirs, err_msg=name)
    return whole


def largest_effect(args: tuple) -> float:
    """The largest |CX effect| (log scale) any draw sees: beyond ±0.69 the range-reduced expm1 runs."""
    _, lifts, c, *_ = args
    csat, nps = lifts.csat[:, lifts.group_of], lifts.nps[:, lifts.group_of]
    effects = (csat * c.retention_csat + nps * c.retention_nps, nps * c.acq_nps, csat * c.arpu_csat)
    return max(float(np.abs(effect).max()) for effect in effects)


@pytest.mark.parametrize(("seed", "lift_points"), [(seed, 1.0) for seed in range(12, 14)] + [(seed, 5.0) for seed in range(6)]
                         + [(seed, 60.0) for seed in range(6, 10)])
@pytest.mark.parametrize("keep", [False, True])
def test_fused_kernel_equals_the_numpy_reference(simulator, seed, lift_points, keep):
    args = random_scenario(simulator, seed, lift_points)
    effect = largest_effect(args)  # every tier of expm1 is exercised: ≤ 0.1, ≤ 0.3 or ≤ 0.69, beyond
    assert {1.0: effect <= 0.1, 5.0: 0.1 < effect <= 0.69, 60.0: effect > 0.69}[lift_points]
    assert_same_increments(fused_increments(*args, keep=keep), numpy_increments(*args, keep=keep))


@pytest.mark.parametrize("size", range(4))
def test_every_subset_of_levers_matches(simulator, size):
    pack, lifts, coefficients, _, discount, margin = random_scenario(simulator, 42, 8.0)
    for levers in map(frozenset, itertools.combinations(LEVERS, size)):
        args = (pack, lifts, coefficients, levers, discount, margin)
        assert_same_increments(fused_increments(*args, keep=True), numpy_increments(*args, keep=True))


def test_keeping_the_monthly_arrays_changes_no_value(simulator):
    args = random_scenario(simulator, 7, 8.0)
    lean, kept = fused_increments(*args), fused_increments(*args, keep=True)
    for name in ("revenue_pv", "revenue_total", "revenue_by_month", "margin_by_month", "customers_end"):
        np.testing.assert_array_equal(getattr(lean, name), getattr(kept, name), err_msg=name)
    np.testing.assert_array_equal(kept.customers[-1], kept.customers_end)


def test_arrays_that_do_not_fit_together_are_refused(simulator):
    pack, lifts, coefficients, levers, discount, margin = random_scenario(simulator, 3, 5.0)
    with pytest.raises(ValueError, match="discount"):
        fused_increments(pack, lifts, coefficients, levers, discount[:-1] if len(discount) > 1 else discount[:0],
                         margin)


@pytest.mark.parametrize("keep", [False, True])
def test_threads_and_chunks_do_not_change_a_number(simulator, monkeypatch, keep):
    """Every draw is computed alike whichever thread and chunk takes it: one thread in one piece,
    and two threads in chunks of 7 draws (the last one shorter), give identical arrays."""
    assert_chunks_change_nothing(monkeypatch, random_scenario(simulator, 21, 60.0), keep)


def test_one_draw_with_large_effects_sets_the_expm1_of_every_chunk(simulator, monkeypatch):
    """The expm1 is chosen from a bound over all draws of a call: small effects everywhere but in
    the last draw, computed in chunks of 7 draws on two threads, give what one piece on one thread
    gives, though most chunks alone would have taken the degree-5 polynomial."""
    small = random_scenario(simulator, 22, 1.0)
    assert largest_effect(small) <= 0.1
    pack, lifts, coefficients, _, discount, margin = small
    csat, nps = lifts.csat.copy(), lifts.nps.copy()
    csat[:, :, -1] *= 40.0
    nps[:, :, -1] *= 40.0
    args = (pack, Lifts(csat, nps, lifts.group_of), coefficients, frozenset(LEVERS), discount, margin)
    assert largest_effect(args) > 0.69
    whole = assert_chunks_change_nothing(monkeypatch, args)
    assert_same_increments(whole, numpy_increments(*args, keep=True))


def test_calls_from_several_threads_at_once_get_their_own_results(simulator, monkeypatch):
    """The app and the API may simulate at the same time: four callers on two kernel threads each
    get what a call alone gives."""
    monkeypatch.setattr(fused, "_threads", 2)
    monkeypatch.setattr(fused, "_THREADED_SIZE", 0)
    monkeypatch.setattr(fused, "_CHUNK_DRAWS", 50)
    cases = [random_scenario(simulator, seed, 8.0) for seed in range(30, 34)]
    alone = [fused_increments(*args).revenue_pv for args in cases]
    together: dict[int, np.ndarray] = {}

    def call(i: int) -> None:
        for _ in range(5):
            together[i] = fused_increments(*cases[i]).revenue_pv

    callers = [threading.Thread(target=call, args=(i,)) for i in range(len(cases))]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=60)
    for i, expected in enumerate(alone):
        np.testing.assert_array_equal(together[i], expected)


def test_thread_count_is_at_least_one():
    with pytest.raises(ValueError, match="at least 1"):
        fused.set_threads(0)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("n_draws", [1, 255, 256, 300, 1000, 4000, 4097])
def test_a_large_call_is_cut_into_whole_blocks(monkeypatch, threads, n_draws):
    """The pieces of work cover every draw once, none is empty, and every cut but the last falls
    where a block of _BLOCK draws ends (so that only the call's last block is short)."""
    monkeypatch.setattr(fused, "_threads", threads)
    monkeypatch.setattr(fused, "_THREADED_SIZE", 0)
    pieces = fused._chunks(n_draws, size=10**9)
    assert [start for start, _ in pieces] == [0, *(stop for _, stop in pieces[:-1])]
    assert pieces[-1][1] == n_draws
    assert all(stop > start for start, stop in pieces)
    assert all(stop % fused._BLOCK == 0 for _, stop in pieces[:-1])
    if n_draws >= threads * fused._CHUNK_DRAWS:  # enough draws for a piece per thread
        assert len(pieces) >= threads


def expm1_values(function, values: np.ndarray) -> np.ndarray:
    return np.array([function(FLOAT(x)) for x in values], dtype=FLOAT)


def test_expm1_is_within_two_ulp_of_the_exact_value():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-90, 88, 4001), rng.uniform(-1, 1, 2000), np.geomspace(1e-30, 0.69, 200),
                        -np.geomspace(1e-30, 0.69, 200), [0.0, np.log(2), -np.log(2), 88.0]]).astype(FLOAT)
    exact = np.expm1(x.astype(np.float64))  # float64 reference, an independent implementation
    ulps = np.abs(expm1_values(_expm1_any, x) - exact) / np.spacing(np.abs(exact).astype(FLOAT))
    assert ulps.max() <= 2.0  # numpy's float32 expm1, the reference kernel's, is 2.1 ulp off here


def test_expm1_of_large_and_special_values():
    # float32 expm1 overflows from 88.72; the kernel's from 88 (revenue would be ~1e38 anyway)
    x = np.array([88.5, 1e4, np.inf, -np.inf, -1e4, np.nan], dtype=FLOAT)
    got = expm1_values(_expm1_any, x)
    np.testing.assert_array_equal(got[:5], [np.inf, np.inf, np.inf, -1.0, -1.0])
    assert np.isnan(got[5])


def test_the_polynomial_alone_agrees_with_the_range_reduced_expm1_within_069():
    x = np.linspace(-0.69, 0.69, 2001, dtype=FLOAT)
    np.testing.assert_array_equal(expm1_values(_expm1_9, x), expm1_values(_expm1_any, x))


@pytest.mark.parametrize(("polynomial", "reach"), [(_expm1_5, 0.1), (_expm1_7, 0.3), (_expm1_9, 0.69)])
def test_each_polynomial_is_within_one_ulp_up_to_its_reach(polynomial, reach):
    """Up to its reach (both ends included) a polynomial is as good as float32 allows: within one
    ulp of the float64 expm1 — the truncated Taylor terms stay below half an ulp."""
    edge = FLOAT(reach)
    x = np.concatenate([np.linspace(-edge, edge, 4001, dtype=FLOAT), [-edge, edge],
                        np.geomspace(1e-30, edge, 300).astype(FLOAT)]).astype(FLOAT)
    exact = np.expm1(x.astype(np.float64))
    ulps = np.abs(expm1_values(polynomial, x) - exact) / np.spacing(np.abs(exact).astype(FLOAT))
    assert ulps.max() <= 1.0


def test_lower_degrees_would_not_reach_further():
    """Each reach is needed: the polynomial of the next lower degree is off by more than an ulp
    at the reach of the next higher one (so the tiers are not wider than they need be)."""
    for polynomial, beyond in ((_expm1_5, 0.3), (_expm1_7, 0.69)):
        x = np.array([FLOAT(beyond)], dtype=FLOAT)
        exact = np.expm1(x.astype(np.float64))
        assert np.abs(expm1_values(polynomial, x) - exact) / np.spacing(np.abs(exact).astype(FLOAT)) > 1.0


def test_tiers_at_their_boundaries():
    """A bound exactly at a reach takes that polynomial, the next float32 above it the next tier;
    NaN and infinity take the range-reduced expm1 (3)."""
    above = [np.nextafter(FLOAT(reach), FLOAT(np.inf)) for reach in (0.1, 0.3, 0.69)]
    bounds = np.array([0.0, 0.1, above[0], 0.3, above[1], 0.69, above[2], np.inf, np.nan], dtype=FLOAT)
    np.testing.assert_array_equal(fused.tiers(bounds), [0, 0, 1, 1, 2, 2, 3, 3, 3])


# ------------------------------------------------------------------ the entry point
class Recording:
    """A kernel that records the calls it serves and runs the fused kernel."""

    def __init__(self) -> None:
        self.calls: list[tuple[frozenset[str], bool]] = []

    def __call__(self, pack, lifts, coefficients, levers, discount, margin, keep=False):
        self.calls.append((levers, keep))
        return fused_increments(pack, lifts, coefficients, levers, discount, margin, keep)


def test_increments_uses_numpy_until_the_fused_kernel_is_ready(simulator, monkeypatch):
    release, recording = threading.Event(), Recording()

    def slow_load():
        release.wait()
        return recording

    monkeypatch.setattr(kernel, "FUSED", BackgroundKernel(slow_load, "test", start_after=0.0))
    args = random_scenario(simulator, 11, 5.0)
    assert_equal = np.testing.assert_array_equal
    assert_equal(kernel.increments(*args).revenue_pv, numpy_increments(*args).revenue_pv)  # did not wait
    assert recording.calls == []
    release.set()
    assert kernel.FUSED.wait(timeout=60) is recording
    assert_equal(kernel.increments(*args).revenue_pv, fused_increments(*args).revenue_pv)
    assert len(recording.calls) == 1


def test_increments_falls_back_to_numpy_when_the_kernel_cannot_load(simulator, monkeypatch, caplog):
    def no_numba():
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(kernel, "FUSED", BackgroundKernel(no_numba, "test", start_after=0.0))
    args = random_scenario(simulator, 12, 5.0)
    kernel.FUSED.wait(timeout=60)
    np.testing.assert_array_equal(kernel.increments(*args).revenue_pv, numpy_increments(*args).revenue_pv)
    assert "numpy kernel" in caplog.text and "No module named 'numba'" in caplog.text


def test_a_run_its_paths_and_lever_split_go_through_the_fused_kernel(simulator, monkeypatch):
    scenario = parse_scenario({"name": "f", "horizon_months": 24, "terminal_value": True, "investments": [
        {"initiative": "I1", "segments": ["S1", "S3"], "duration_months": 12, "monthly_spend": 30_000}]})
    recording = Recording()
    monkeypatch.setattr(kernel, "FUSED", BackgroundKernel(lambda: recording, "test"))
    assert kernel.FUSED.wait(timeout=60) is recording
    kernel.FUSED.enabled = False  # the numpy kernel
    reference = simulator.run(scenario)
    reference.detail, reference.value_by_lever  # noqa: B018 - computed while numpy serves
    assert recording.calls == []
    kernel.FUSED.enabled = True
    fused = simulator.run(scenario)
    np.testing.assert_allclose(fused.npv, reference.npv, rtol=TOLERANCE)
    np.testing.assert_allclose(fused.detail.cash_flow, reference.detail.cash_flow, rtol=TOLERANCE,
                               atol=TOLERANCE * np.abs(reference.detail.cash_flow).max())
    for lever, value in reference.value_by_lever.items():
        np.testing.assert_allclose(fused.value_by_lever[lever], value, rtol=TOLERANCE,
                                   atol=TOLERANCE * np.abs(value).max(initial=1.0), err_msg=lever)
    all_levers = frozenset(LEVERS)
    assert (all_levers, False) in recording.calls and (all_levers, True) in recording.calls  # run, paths
    assert sum(len(levers) == 1 for levers, _ in recording.calls) == 3  # the lever split's subsets


def test_a_run_names_its_kernel_and_its_detail_uses_the_same(tmp_path, monkeypatch) -> None:
    """Whichever kernel computed a run's values also computes its paths and lever split, and the
    run's provenance names it — exports then say why two runs may differ in the last digits."""
    from cxroi.sim import kernel as kernel_module
    from cxroi.sim.engine import Simulator
    from cxroi.sim.scenario import Scenario
    from cxroi.testing.artifacts import plausible_artifact

    artifact = plausible_artifact(tmp_path, model_id="bayes-kernel-name", n_draws=40)
    scenario = Scenario.model_validate({"name": "k", "horizon_months": 12, "investments": [
        {"initiative": "I1", "segments": ["S1", "S2"], "monthly_spend": 10_000, "duration_months": 12}]})
    calls = []

    def counting(*args, **kwargs):
        calls.append(kwargs.get("keep", args[6] if len(args) > 6 else False))
        return kernel_module.numpy_increments(*args, **kwargs)

    monkeypatch.setattr(kernel_module, "chosen_kernel", lambda: ("numpy", counting))
    monkeypatch.setattr("cxroi.sim.engine.chosen_kernel", lambda: ("numpy", counting))
    result = Simulator(artifact).run(scenario)
    assert result.provenance.kernel == "numpy" and result.provenance.as_dict()["kernel"] == "numpy"
    monkeypatch.setattr("cxroi.sim.engine.chosen_kernel", lambda: ("fused", None))  # a later switch is not used
    result.value_by_lever  # noqa: B018 - computed on first use
    result.scenario_paths  # noqa: B018
    assert len(calls) > 2 and True in calls  # the lever split's runs and the paths' run all went to the same kernel


def test_a_forked_child_runs_on_workers_of_its_own(simulator, monkeypatch):
    """A process forked after a threaded call (a server's workers) gets its own worker threads,
    not the parent's, which do not exist in it."""
    import multiprocessing

    monkeypatch.setattr(fused, "_threads", 2)
    monkeypatch.setattr(fused, "_THREADED_SIZE", 0)
    monkeypatch.setitem(_FORKED, "args", random_scenario(simulator, 40, 8.0))  # inherited by the child
    expected = fused_increments(*_FORKED["args"]).revenue_pv
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got, workers = pool.apply_async(_forked_revenue_pv).get(timeout=120)
    np.testing.assert_array_equal(got, expected)
    assert workers == 1


_FORKED: dict[str, tuple] = {}


def _forked_revenue_pv() -> tuple[np.ndarray, int]:
    """The revenue PV computed in the child, and how many kernel worker threads live there."""
    revenue_pv = fused_increments(*_FORKED["args"]).revenue_pv
    return revenue_pv, sum(thread.name.startswith("cxroi-fused") for thread in threading.enumerate())
