"""The scenario increments of :func:`cxroi.sim.kernel.numpy_increments` in one compiled pass.

Same equations, same float32 arithmetic as the numpy reference (see :mod:`cxroi.sim.kernel`);
what differs is how the work is laid out:

* one pass per segment over the months; in each month one loop over the draws computes the three
  channels, the customer recursion and the revenue increment without intermediate arrays, and a
  second short loop adds the month to the running sums (present value, horizon total, all-segment
  and margin-weighted monthly sums). Two loops, because LLVM does not vectorise one loop that
  writes all eight arrays (it cannot check that many for overlap);
* expm1 is a polynomial here: numba's ``math.expm1`` calls libm once per number and cannot be
  vectorised (30 ms a run). A month's CSAT/NPS effects are almost always within ±ln 2, where
  r + r²/2! + … + r⁹/9! is exact to float32 rounding (the next term is below 1.5e-8 relative), so
  each month first runs on that polynomial alone while recording the largest effect, and a month
  in which some draw's effect lies beyond ±0.69 runs again with the range-reduced expm1
  (x = k·ln 2 + r, expm1 x = 2^k·expm1 r + 2^k − 1). The two agree where both apply;
* the baseline is read segment by segment (the layout :class:`~cxroi.sim.kernel.BaselinePack`
  stores), so a month's draws are contiguous.

A lever switched off is computed with zero effects: expm1(0) = 0 exactly, so its channel stays
at the baseline, as in the reference. Results differ from the reference only by float32
rounding order (≈ 1e-7 relative of each increment; tests/sim/test_fused.py).

The kernel has one explicit signature, so it is compiled (or loaded from numba's on-disk cache)
when this module is imported and never again in a request; :mod:`cxroi.sim.compiled` imports it
in a background thread and chooses the cache folder (set here before anything is decorated).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from cxroi.sim.compiled import numba_cache_dir
from cxroi.sim.kernel import FLOAT, BaselinePack, Coefficients, Increments, Lifts

if not numba.config.CACHE_DIR:  # read when a cached function is decorated
    numba.config.CACHE_DIR = str(numba_cache_dir())

_COMPILE = {"nogil": True, "error_model": "numpy", "fastmath": {"contract"}}  # IEEE results; FMA allowed
_INLINE = {"inline": "always", **_COMPILE}

_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9 = (FLOAT(1 / math.factorial(n)) for n in range(2, 10))
_INVERSE_LN2 = FLOAT(1 / math.log(2))
_LN2_HIGH = FLOAT(0.693145751953125)  # ln 2 to 16 bits: k · _LN2_HIGH is exact for |k| < 256
_LN2_LOW = FLOAT(math.log(2) - 0.693145751953125)
_LOWEST, _HIGHEST = FLOAT(-87.3), FLOAT(88.0)  # 2^k stays a normal float32; expm1(88.72) overflows
_NEAR = FLOAT(0.69)  # < ln 2: the polynomial alone is exact
_NEAR_BITS = int(_NEAR.view(np.int32))
_MAGNITUDE = np.int32(0x7FFFFFFF)


@intrinsic
def _float_with_bits(typingctx, bits):
    """The float32 whose IEEE-754 bit pattern is the int32 ``bits``."""
    if bits != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _bits_of(typingctx, value):
    """The IEEE-754 bit pattern of the float32 ``value``, as an int32."""
    if value != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@numba.njit(**_INLINE)
def _magnitude_bits(x):
    """Bits of |x|: ordered like |x| (NaN above infinity), so an integer max finds the largest."""
    return _bits_of(x) & _MAGNITUDE


@numba.njit(**_INLINE)
def _expm1_near(r):
    """expm1(r) for |r| < ln 2, to float32 rounding (float32 in and out)."""
    return r + r * r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * (_C7 + r * (_C8 + r * _C9)))))))


@numba.njit(**_INLINE)
def _expm1_any(x):
    """expm1(x) for any float32 x: +inf above 88, NaN for NaN."""
    y = min(max(x, _LOWEST), _HIGHEST)
    k = np.trunc(y * _INVERSE_LN2)  # |r| < ln 2, and k = 0 wherever _expm1_near applies
    r = (y - k * _LN2_HIGH) - k * _LN2_LOW
    scale = _float_with_bits(np.int32((np.int32(k) + np.int32(127)) << np.int32(23)))  # 2^k
    result = scale * _expm1_near(r) + (scale - FLOAT(1.0))
    if x <= _HIGHEST:
        return result
    return FLOAT(np.inf) if x > _HIGHEST else x


def _month_with(expm1):
    """The loop over the draws of one month, with ``expm1`` (a variant compiled per function)."""

    @numba.njit(**_COMPILE)
    def month(s, m, group, before, after, revenue_row, gain_row, new_row,
              customers, new, half_arpu, churn, survival, inverse_survival, csat, nps,
              retention_csat, retention_nps, arpu_csat, acq_nps, customers_out, revenue_out, gain_out, new_out):
        """Month ``m`` of segment ``s`` for every draw (see the reference for the equations):
        customers_out[after] from customers_out[before], and the month's revenue, survival gain
        and new customers into the given rows. True when an effect lies beyond ±_NEAR (then
        the month is to be run again with _expm1_any)."""
        largest = np.int32(0)
        for d in range(new.shape[2]):
            change = customers_out[before, s, d]
            base = customers[s, m, d]
            retention_effect = csat[m, group, d] * retention_csat[s, d] + nps[m, group, d] * retention_nps[s, d]
            acquisition_effect = nps[m, group, d] * acq_nps[s, d]
            arpu_effect = csat[m, group, d] * arpu_csat[s, d]
            largest = max(largest, max(_magnitude_bits(retention_effect),  # nested two-way max: vectorised
                                       max(_magnitude_bits(acquisition_effect), _magnitude_bits(arpu_effect))))
            w = expm1(retention_effect)
            gain = churn[s, d] * w / (w + inverse_survival[s, d])
            extra_new = expm1(acquisition_effect) * new[s, m, d]
            changed = change * survival[s, d] + (change + base) * gain + extra_new
            average = change + changed  # twice the increment of average active customers
            growth = expm1(arpu_effect)
            revenue = ((base + customers[s, m + 1, d] + average) * growth + average) * half_arpu[s, m, d]
            customers_out[after, s, d] = changed
            gain_out[gain_row, s, d] = gain
            new_out[new_row, s, d] = extra_new
            revenue_out[revenue_row, s, d] = revenue
        return largest > _NEAR_BITS

    return month


_month_near, _month_any = _month_with(_expm1_near), _month_with(_expm1_any)


@numba.njit(**_COMPILE)
def _add_month(s, m, row, discount, margin, revenue_out, revenue_pv, revenue_total, revenue_by_month,
               margin_by_month):
    """Add month ``m`` of segment ``s`` (``revenue_out[row, s]``) to the running sums."""
    for d in range(revenue_out.shape[2]):
        revenue = revenue_out[row, s, d]
        revenue_total[s, d] += revenue
        revenue_pv[s, d] += revenue * discount
        revenue_by_month[m, d] += revenue
        margin_by_month[m, d] += revenue * margin


_IN_1D, _IN_2D, _IN_3D = (types.Array(types.float32, n, "C", readonly=True) for n in (1, 2, 3))
_OUT_2D, _OUT_3D = (types.Array(types.float32, n, "C") for n in (2, 3))
_SIGNATURE = types.void(
    _IN_3D, _IN_3D, _IN_3D, _IN_2D, _IN_2D, _IN_2D,  # baseline (segment-major), per-segment constants
    _IN_3D, _IN_3D, types.Array(types.intp, 1, "C", readonly=True),  # lifts, group of each segment
    _IN_2D, _IN_2D, _IN_2D, _IN_2D, _IN_1D, _IN_1D,  # coefficients, discount, margin
    _OUT_2D, _OUT_2D, _OUT_2D, _OUT_2D, _OUT_3D, _OUT_3D, _OUT_3D, _OUT_3D,  # sums, monthly arrays
)


@numba.njit(_SIGNATURE, cache=True, **_COMPILE)
def _run(customers, new, half_arpu, churn, survival, inverse_survival, csat, nps, group_of,
         retention_csat, retention_nps, arpu_csat, acq_nps, discount, margin,
         revenue_pv, revenue_total, revenue_by_month, margin_by_month,
         customers_out, revenue_out, gain_out, new_out):
    """All segments and months. A monthly output with one row per month (customers: months + 1)
    is kept; with fewer rows it is scratch (customers: two alternating rows, others: one)."""
    n_segments, horizon, _ = new.shape
    for s in range(n_segments):
        group = group_of[s]
        customers_out[0, s, :] = 0.0
        for m in range(horizon):
            before, after = (m, m + 1) if customers_out.shape[0] == horizon + 1 else (m % 2, (m + 1) % 2)
            revenue_row = m if revenue_out.shape[0] == horizon else 0
            gain_row = m if gain_out.shape[0] == horizon else 0
            new_row = m if new_out.shape[0] == horizon else 0
            inputs = (customers, new, half_arpu, churn, survival, inverse_survival, csat, nps,
                      retention_csat, retention_nps, arpu_csat, acq_nps, customers_out, revenue_out, gain_out, new_out)
            if _month_near(s, m, group, before, after, revenue_row, gain_row, new_row, *inputs):
                _month_any(s, m, group, before, after, revenue_row, gain_row, new_row, *inputs)
            _add_month(s, m, revenue_row, discount[m], margin[s], revenue_out, revenue_pv, revenue_total,
                       revenue_by_month, margin_by_month)


def fused_increments(pack: BaselinePack, lifts: Lifts, coefficients: Coefficients, levers: frozenset[str],
                     discount: np.ndarray, margin: np.ndarray, keep: bool = False) -> Increments:
    """What :func:`cxroi.sim.kernel.numpy_increments` returns for the same arguments, computed by
    the compiled kernel."""
    horizon, n_segments, n_draws = pack.new.shape
    _check_shapes(pack, lifts, coefficients, discount, margin)
    zero = np.zeros((n_segments, n_draws), dtype=FLOAT)

    def effect(values: np.ndarray, lever: str) -> np.ndarray:
        return np.ascontiguousarray(values, dtype=FLOAT) if lever in levers else zero

    def monthly(kept: bool, rows: int) -> np.ndarray:
        return np.empty((rows if kept else 1, n_segments, n_draws), dtype=FLOAT)

    sums = [np.zeros(shape, dtype=FLOAT) for shape in [(n_segments, n_draws)] * 2 + [(horizon, n_draws)] * 2]
    customers = np.empty((horizon + 1 if keep else 2, n_segments, n_draws), dtype=FLOAT)
    revenue = monthly(keep, horizon)
    gain, new = monthly(keep and "retention" in levers, horizon), monthly(keep and "acquisition" in levers, horizon)
    groups = np.clip(lifts.group_of, 0, lifts.csat.shape[1] - 1).astype(np.intp)  # as np.take(mode="clip")
    _run(_segments_first(pack.customers), _segments_first(pack.new), _segments_first(pack.half_arpu),
         _contiguous(pack.churn), _contiguous(pack.survival), _contiguous(pack.inverse_survival),
         _contiguous(lifts.csat), _contiguous(lifts.nps), groups,
         effect(coefficients.retention_csat, "retention"), effect(coefficients.retention_nps, "retention"),
         effect(coefficients.arpu_csat, "arpu"), effect(coefficients.acq_nps, "acquisition"),
         _contiguous(discount), _contiguous(margin), *sums, customers, revenue, gain, new)
    end = customers[horizon if keep else horizon % 2].copy()
    return Increments(*sums, end, revenue if keep else None, customers if keep else None,
                      gain if keep and "retention" in levers else None,
                      new if keep and "acquisition" in levers else None)


def _contiguous(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=FLOAT)


def _segments_first(values: np.ndarray) -> np.ndarray:
    """months × segments × draws → segments × months × draws, C-contiguous (no copy for a pack)."""
    return np.ascontiguousarray(values.transpose(1, 0, 2), dtype=FLOAT)


def _check_shapes(pack: BaselinePack, lifts: Lifts, coefficients: Coefficients, discount: np.ndarray,
                  margin: np.ndarray) -> None:
    """The compiled kernel does not check indices: refuse arrays that do not fit together."""
    horizon, n_segments, n_draws = pack.new.shape
    expected = {
        "pack.customers": ((horizon + 1, n_segments, n_draws), pack.customers.shape),
        "pack.half_arpu": ((horizon, n_segments, n_draws), pack.half_arpu.shape),
        "lifts.csat": ((horizon, lifts.nps.shape[1], n_draws), lifts.csat.shape),
        "lifts.nps": ((horizon, lifts.csat.shape[1], n_draws), lifts.nps.shape),
        "lifts.group_of": ((n_segments,), lifts.group_of.shape),
        "discount": ((horizon,), discount.shape),
        "margin": ((n_segments,), margin.shape),
        **{f"segment constants {i}": ((n_segments, n_draws), values.shape) for i, values in enumerate(
            (pack.churn, pack.survival, pack.inverse_survival, *vars(coefficients).values()))},
    }
    wrong = [f"{name} is {actual}, expected {shape}" for name, (shape, actual) in expected.items() if actual != shape]
    if wrong or lifts.csat.shape[1] == 0:
        raise ValueError("scenario kernel inputs do not fit: " + "; ".join(wrong or ["no lift groups"]))
