"""The scenario increments of :func:`cxroi.sim.kernel.numpy_increments` in one compiled pass.

Same equations, same float32 arithmetic of the increments as the numpy reference (see
:mod:`cxroi.sim.kernel`); what differs is how the work is laid out:

* the draws are cut into chunks, each computed on its own (every draw's numbers depend on that
  draw alone), so a large call runs on :func:`threads` threads — the calling one and workers —
  that take the next chunk not yet taken; a thread held up by other programs leaves its share
  to the others;
* within a chunk, one pass per segment over the months; in each month one loop over the
  chunk's draws computes the three channels, the customer recursion and the revenue increment
  without intermediate arrays, and a second short loop adds the month to the running sums
  (present value, horizon total, all-segment and margin-weighted monthly sums). Two loops,
  because LLVM does not vectorise one loop that writes all those arrays (it cannot check that
  many for overlap). The loops run over 1-d rows of the chunk, indexed from 0, which LLVM
  vectorises; an index with an offset it does not;
* the baseline is not read but grown as it goes from what :class:`~cxroi.sim.kernel.BaselinePack`
  stores per segment and draw (customers, new customers and ARPU of month 1, growth factors),
  in float64 like the engine's baseline and rounded to float32 where the increments use it: a
  stored float32 baseline is 35 MB for 4 000 draws × 12 segments × 60 months, whose reading
  cost as much as this and which two threads would share the memory bus for;
* expm1 is a polynomial here: numba's ``math.expm1`` calls libm once per number and cannot be
  vectorised (30 ms a run). A month's CSAT/NPS effects are almost always within ±ln 2, where
  r + r²/2! + … + r⁹/9! is exact to float32 rounding (the next term is below 1.5e-8 relative).
  Before a segment's months, the chunk's effects are bounded by |coefficient| × the largest
  |lift| of each draw over the months; a segment whose bound lies within ±0.69 runs on that
  polynomial alone, another on the range-reduced expm1 (x = k·ln 2 + r, expm1 x = 2^k·expm1 r
  + 2^k − 1). The two agree where both apply, so the choice changes no number.
* gain/loss churn effects (see :mod:`cxroi.sim.kernel`) add extra·(min(u + L, 0) − min(u, 0))
  per score to the retention effect, u the baseline's distance from the reference and L the
  month's lift (points), in variants of the month's loop of their own: symmetric effects run the
  loop as before and read none of the loss arrays. The bound above counts |extra| with the
  slope, since min(·, 0) moves by no more than its argument.

A lever switched off is computed with zero effects: expm1(0) = 0 exactly, so its channel stays
at the baseline, as in the reference. Results differ from the reference only by float32
rounding order (≈ 1e-7 relative of each increment; tests/sim/test_fused.py), and not at all
with the number of threads or chunks.

The kernel has one explicit signature, so it is compiled (or loaded from numba's on-disk cache)
when this module is imported and never again in a request; :mod:`cxroi.sim.compiled` imports it
in a background thread and chooses the cache folder (set here before anything is decorated).
The threads are plain Python threads running the kernel without the GIL: numba's own parallel
loops would bring a threading layer that is not safe to call from two threads at once
(workqueue, the only one always there) or that busy-waits and breaks on fork (OpenMP), while
the app and the API do call from several threads.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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
_ZERO = FLOAT(0.0)


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


def _month_with(expm1, asymmetric: bool):
    """The loop over a chunk's draws in one month of one segment, with ``expm1`` and with or
    without the gain/loss churn term (a variant compiled per function; the symmetric one does
    not touch the loss arrays)."""

    @numba.njit(**_INLINE)
    def month(customers, new, half_arpu, survival64, new_growth, arpu_growth, churn, survival, inverse_survival,
              csat, nps, retention_csat, retention_nps, arpu_csat, acq_nps, csat_extra, nps_extra, csat_position,
              nps_position, change, revenue_row, gain_row, new_row):
        """Month m for the draws of the rows given (1-d, the chunk's; see the reference for the
        equations): ``change`` (the customers' increment) from month m to m + 1, the month's revenue
        increment, survival gain and extra new customers into their rows (scratch where they are
        not kept: a store is cheaper than a test, and a masked store far dearer), and the baseline
        (float64 ``customers``, ``new``, ``half_arpu``) advanced to
        month m + 1."""
        for j in range(change.shape[0]):
            base, base_new, base_half_arpu = customers[j], new[j], half_arpu[j]
            base_next = base * survival64[j] + base_new
            before = change[j]
            effect = csat[j] * retention_csat[j] + nps[j] * retention_nps[j]
            if asymmetric:  # extra·(min(u + L, 0) − min(u, 0)) per score
                u = csat_position[j]
                effect += csat_extra[j] * (min(u + csat[j], _ZERO) - min(u, _ZERO))
                u = nps_position[j]
                effect += nps_extra[j] * (min(u + nps[j], _ZERO) - min(u, _ZERO))
            w = expm1(effect)
            gain = churn[j] * w / (w + inverse_survival[j])
            extra_new = expm1(nps[j] * acq_nps[j]) * FLOAT(base_new)
            changed = before * survival[j] + (before + FLOAT(base)) * gain + extra_new
            average = before + changed  # twice the increment of average active customers
            growth = expm1(csat[j] * arpu_csat[j])
            pairs = FLOAT(base) + FLOAT(base_next)
            revenue_row[j] = ((pairs + average) * growth + average) * FLOAT(base_half_arpu)
            change[j] = changed
            gain_row[j] = gain
            new_row[j] = extra_new
            customers[j] = base_next
            new[j] = base_new * new_growth[j]
            half_arpu[j] = base_half_arpu * arpu_growth[j]

    return month


_month_near, _month_any = _month_with(_expm1_near, False), _month_with(_expm1_any, False)
_month_near_loss, _month_any_loss = _month_with(_expm1_near, True), _month_with(_expm1_any, True)


@numba.njit(**_INLINE)
def _largest_into(values, bits):
    """bits[j] = max(bits[j], bits of |values[j]|)."""
    for j in range(values.shape[0]):
        bits[j] = max(bits[j], _magnitude_bits(values[j]))


@numba.njit(**_INLINE)
def _beyond_near(csat_bits, nps_bits, retention_csat, retention_nps, arpu_csat, acq_nps, csat_extra, nps_extra):
    """Whether some draw's effect may lie beyond ±_NEAR, from the largest |lift| of each draw
    over the months (their bits): |a·csat + b·nps| ≤ |a|·max|csat| + |b|·max|nps| bounds the
    retention effect, and likewise the others (NaN or infinity: beyond). The gain/loss term adds
    at most |extra|·|lift| per score (min(·, 0) moves no more than its argument)."""
    largest = np.int32(0)
    for j in range(csat_bits.shape[0]):
        csat, nps = _float_with_bits(csat_bits[j]), _float_with_bits(nps_bits[j])
        retention = (abs(retention_csat[j]) + abs(csat_extra[j])) * csat + (abs(retention_nps[j]) + abs(nps_extra[j])) * nps
        largest = max(largest, max(_magnitude_bits(retention),  # nested two-way max: vectorised
                                   max(_magnitude_bits(abs(acq_nps[j]) * nps), _magnitude_bits(abs(arpu_csat[j]) * csat))))
    return largest > _NEAR_BITS


@numba.njit(**_INLINE)
def _add_month(discount, margin, revenue_row, revenue_pv, revenue_total, revenue_by_month, margin_by_month):
    """Add one month's revenue increments (a chunk's row) to the running sums."""
    for j in range(revenue_row.shape[0]):
        revenue = revenue_row[j]
        revenue_total[j] += revenue
        revenue_pv[j] += revenue * discount
        revenue_by_month[j] += revenue
        margin_by_month[j] += revenue * margin


_IN_1D, _IN_2D, _IN_3D = (types.Array(types.float32, n, "C", readonly=True) for n in (1, 2, 3))
_IN_2D_64 = types.Array(types.float64, 2, "C", readonly=True)
_OUT_2D, _OUT_3D = (types.Array(types.float32, n, "C") for n in (2, 3))
_SIGNATURE = types.void(
    types.intp, types.intp,  # the chunk: draws start … stop − 1
    *[_IN_2D_64] * 6, _IN_2D, _IN_2D, _IN_2D,  # baseline: what it grows from (float64), churn and survival
    _IN_3D, _IN_3D, types.Array(types.intp, 1, "C", readonly=True),  # lifts, group of each segment
    _IN_2D, _IN_2D, _IN_2D, _IN_2D, _IN_1D, _IN_1D,  # coefficients, discount, margin
    types.boolean, _IN_2D, _IN_2D, _IN_2D, _IN_2D,  # gain/loss churn: whether, extras and positions
    _OUT_2D, _OUT_2D, _OUT_2D, _OUT_2D, _OUT_3D, _OUT_3D, _OUT_3D, _OUT_3D,  # sums, monthly arrays
)


@numba.njit(_SIGNATURE, cache=True, **_COMPILE)
def _run(start, stop, customers0, survival64, new0, new_growth, half_arpu0, arpu_growth, churn, survival,
         inverse_survival, csat, nps, group_of, retention_csat, retention_nps, arpu_csat, acq_nps, discount, margin,
         asymmetric, csat_extra, nps_extra, csat_position, nps_position, revenue_pv, revenue_total, revenue_by_month, margin_by_month, customers_out, revenue_out, gain_out, new_out):
    """All segments and months of the draws start … stop − 1. A monthly output with one row per
    month (customers: months + 1) is kept; with one row it holds the customers' increment after
    the last month (customers) or nothing (the others: scratch is used). Without ``asymmetric``
    the loss arrays are not read (any of the right shape will do)."""
    n_segments = churn.shape[0]
    horizon, n_groups, _ = csat.shape
    width = stop - start
    draws = slice(start, stop)
    kept = customers_out.shape[0] == horizon + 1
    keep_gain, keep_new = gain_out.shape[0] == horizon, new_out.shape[0] == horizon
    state = np.empty((3, width))  # the baseline's customers, new customers and ARPU / 2 in the current month
    change = np.empty(width, dtype=FLOAT)
    scratch = np.empty((3, width), dtype=FLOAT)
    largest = np.zeros((2, n_groups, width), dtype=np.int32)  # bits of the largest |lift| over the months
    for g in range(n_groups):
        for m in range(horizon):
            _largest_into(csat[m, g, draws], largest[0, g])
            _largest_into(nps[m, g, draws], largest[1, g])
    customers, new, half_arpu = state[0], state[1], state[2]
    no_revenue, no_gain, no_new = scratch[0], scratch[1], scratch[2]
    for s in range(n_segments):  # views made once per segment: each costs two atomic reference counts
        g = group_of[s]
        rc, rn, ac, qn = retention_csat[s, draws], retention_nps[s, draws], arpu_csat[s, draws], acq_nps[s, draws]
        xc, xn, uc, un = csat_extra[s, draws], nps_extra[s, draws], csat_position[s, draws], nps_position[s, draws]
        near = not _beyond_near(largest[0, g], largest[1, g], rc, rn, ac, qn, xc, xn)
        customers[:] = customers0[s, draws]
        new[:] = new0[s, draws]
        half_arpu[:] = half_arpu0[s, draws]
        change[:] = 0.0
        if kept:
            customers_out[0, s, draws] = 0.0
        s64, gn, ga = survival64[s, draws], new_growth[s, draws], arpu_growth[s, draws]
        p0, s0, inverse = churn[s, draws], survival[s, draws], inverse_survival[s, draws]
        pv, total, segment_margin = revenue_pv[s, draws], revenue_total[s, draws], margin[s]
        for m in range(horizon):
            revenue_row = revenue_out[m, s, draws] if kept else no_revenue
            gain_row = gain_out[m, s, draws] if keep_gain else no_gain
            new_row = new_out[m, s, draws] if keep_new else no_new
            csat_m, nps_m = csat[m, g, draws], nps[m, g, draws]
            if asymmetric and near:
                _month_near_loss(customers, new, half_arpu, s64, gn, ga, p0, s0, inverse, csat_m, nps_m, rc, rn, ac,
                                 qn, xc, xn, uc, un, change, revenue_row, gain_row, new_row)
            elif asymmetric:
                _month_any_loss(customers, new, half_arpu, s64, gn, ga, p0, s0, inverse, csat_m, nps_m, rc, rn, ac,
                                qn, xc, xn, uc, un, change, revenue_row, gain_row, new_row)
            elif near:
                _month_near(customers, new, half_arpu, s64, gn, ga, p0, s0, inverse, csat_m, nps_m, rc, rn, ac, qn,
                            xc, xn, uc, un, change, revenue_row, gain_row, new_row)
            else:
                _month_any(customers, new, half_arpu, s64, gn, ga, p0, s0, inverse, csat_m, nps_m, rc, rn, ac, qn,
                           xc, xn, uc, un, change, revenue_row, gain_row, new_row)
            if kept:
                customers_out[m + 1, s, draws] = change
            _add_month(discount[m], segment_margin, revenue_row, pv, total, revenue_by_month[m, draws],
                       margin_by_month[m, draws])
        if not kept:
            customers_out[0, s, draws] = change


def threads() -> int:
    """The threads a large call runs on (see :func:`set_threads`)."""
    return _threads


def set_threads(count: int) -> None:
    """Run large calls on ``count`` threads (≥ 1): the calling one and ``count`` − 1 workers.
    The default is ``CXROI_SIM_THREADS``, else 2 (or 1 on a machine with one core)."""
    global _threads
    if count < 1:
        raise ValueError(f"threads must be at least 1, not {count}")
    _threads = count


def _workers() -> ThreadPoolExecutor:
    """The ``threads() − 1`` worker threads, made on first use and again when their number changes."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != threads() - 1:
            if _pool is not None:
                _pool[1].shutdown(wait=False)
            _pool = threads() - 1, ThreadPoolExecutor(max_workers=threads() - 1, thread_name_prefix="cxroi-fused")
        return _pool[1]


def _forget_workers() -> None:
    """In a forked child: the parent's worker threads do not exist there, make new ones."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


_threads = max(1, int(os.environ.get("CXROI_SIM_THREADS") or min(2, os.cpu_count() or 1)))
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()
os.register_at_fork(after_in_child=_forget_workers)
#: below this many segment-months × draws a call runs on the calling thread alone (handing work to
#: another thread costs some 50 µs, the kernel about 2 ns per segment-month and draw)
_THREADED_SIZE = 200_000
_CHUNK_DRAWS = 1024  #: draws per piece of work: small enough that a thread held up costs little


def fused_increments(pack: BaselinePack, lifts: Lifts, coefficients: Coefficients, levers: frozenset[str],
                     discount: np.ndarray, margin: np.ndarray, keep: bool = False) -> Increments:
    """What :func:`cxroi.sim.kernel.numpy_increments` returns for the same arguments, computed by
    the compiled kernel, on up to :func:`threads` threads for a large call: the draws are cut
    into chunks that the calling thread and the workers take in turn (every draw's numbers are
    computed alike whichever thread takes it, so the result does not depend on the threads)."""
    n_segments, n_draws = pack.churn.shape
    horizon = pack.horizon
    _check_shapes(pack, lifts, coefficients, discount, margin)
    zero = np.zeros((n_segments, n_draws), dtype=FLOAT)

    def effect(values: np.ndarray, lever: str) -> np.ndarray:
        return np.ascontiguousarray(values, dtype=FLOAT) if lever in levers else zero

    def monthly(kept: bool) -> np.ndarray:
        return np.empty((horizon if kept else 1, n_segments, n_draws), dtype=FLOAT)

    sums = [np.zeros(shape, dtype=FLOAT) for shape in [(n_segments, n_draws)] * 2 + [(horizon, n_draws)] * 2]
    customers = np.empty((horizon + 1 if keep else 1, n_segments, n_draws), dtype=FLOAT)
    revenue = monthly(keep)
    gain, new = monthly(keep and "retention" in levers), monthly(keep and "acquisition" in levers)
    groups = np.clip(lifts.group_of, 0, lifts.csat.shape[1] - 1).astype(np.intp)  # as np.take(mode="clip")
    arguments = (pack.customers, pack.survival64, pack.new, pack.new_growth, pack.half_arpu, pack.arpu_growth,
                 pack.churn, pack.survival, pack.inverse_survival, _contiguous(lifts.csat), _contiguous(lifts.nps),
                 groups, effect(coefficients.retention_csat, "retention"),
                 effect(coefficients.retention_nps, "retention"), effect(coefficients.arpu_csat, "arpu"),
                 effect(coefficients.acq_nps, "acquisition"), _contiguous(discount), _contiguous(margin),
                 *_loss_arguments(coefficients, levers, zero), *sums,
                 customers, revenue, gain, new)
    _in_chunks(n_draws, n_segments * horizon * n_draws, lambda start, stop: _run(start, stop, *arguments))
    end = customers[-1].copy() if keep else customers[0]
    return Increments(*sums, end, revenue if keep else None, customers if keep else None,
                      gain if keep and "retention" in levers else None,
                      new if keep and "acquisition" in levers else None)


def _in_chunks(n_draws: int, size: int, work: Callable[[int, int], None]) -> None:
    """``work(start, stop)`` over the draws 0 … ``n_draws`` − 1 in chunks, on the calling thread
    and, for a call of ``size`` ≥ _THREADED_SIZE, the workers of :func:`_workers`; each thread takes
    the next chunk not taken, so one held up by other programs leaves its share to the others."""
    count = threads()
    if count == 1 or size < _THREADED_SIZE:
        work(0, n_draws)
        return
    chunks = max(count, -(-n_draws // _CHUNK_DRAWS))
    bounds = np.linspace(0, n_draws, chunks + 1).astype(int).tolist()
    taken = itertools.count()  # next() on it is atomic under the GIL

    def take() -> None:
        while (i := next(taken)) < chunks:
            work(bounds[i], bounds[i + 1])

    pool = _workers()
    helpers = [pool.submit(take) for _ in range(count - 1)]
    take()
    for helper in helpers:
        if not helper.cancel():  # one that has not started has nothing left to do
            helper.result()


def _loss_arguments(coefficients: Coefficients, levers: frozenset[str], zero: np.ndarray) -> tuple:
    """The kernel's gain/loss arguments: whether, then the CSAT and NPS extras and positions
    (zeros, not read, for symmetric effects or without the retention lever)."""
    c = coefficients
    if not (c.asymmetric and "retention" in levers):
        return False, zero, zero, zero, zero
    return True, *map(_contiguous, (c.retention_csat_loss_extra, c.retention_nps_loss_extra, c.csat_position,
                                    c.nps_position))


def _contiguous(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=FLOAT)


def _check_shapes(pack: BaselinePack, lifts: Lifts, coefficients: Coefficients, discount: np.ndarray,
                  margin: np.ndarray) -> None:
    """The compiled kernel does not check indices: refuse arrays that do not fit together."""
    horizon, (n_segments, n_draws) = pack.horizon, pack.churn.shape
    expected = {
        "lifts.csat": ((horizon, lifts.nps.shape[1], n_draws), lifts.csat.shape),
        "lifts.nps": ((horizon, lifts.csat.shape[1], n_draws), lifts.nps.shape),
        "lifts.group_of": ((n_segments,), lifts.group_of.shape),
        "discount": ((horizon,), discount.shape),
        "margin": ((n_segments,), margin.shape),
        **{f"segment constants {i}": ((n_segments, n_draws), values.shape) for i, values in enumerate(
            (pack.customers, pack.survival64, pack.new, pack.new_growth, pack.half_arpu, pack.arpu_growth,
             pack.survival, pack.inverse_survival, *(v for v in vars(coefficients).values() if v is not None)))},
    }
    wrong = [f"{name} is {actual}, expected {shape}" for name, (shape, actual) in expected.items() if actual != shape]
    if wrong or lifts.csat.shape[1] == 0:
        raise ValueError("scenario kernel inputs do not fit: " + "; ".join(wrong or ["no lift groups"]))
