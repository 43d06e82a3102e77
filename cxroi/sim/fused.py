"""The scenario increments of :func:`cxroi.sim.kernel.numpy_increments` in one compiled pass.

Same equations, same float32 arithmetic of the increments as the numpy reference (see
:mod:`cxroi.sim.kernel`); what differs is how the work is laid out:

* the draws are cut into chunks, each computed on its own (every draw's numbers depend on that
  draw alone), so a large call runs on :func:`threads` threads — the calling one and workers —
  that take the next chunk not yet taken; a thread held up by other programs leaves its share
  to the others;
* within a chunk, blocks of _BLOCK (256) draws: for each block and segment, the segment's
  per-draw constants are copied into rows of one small local array, whose 23 rows of 1 kB stay
  in the L1 cache while the segment's months run on them (the rows of all 4 000 draws, 16 kB
  each, do not: they came from the L2 cache every month); the block's lifts and monthly sums
  stay in the L2 cache across its segments. In each month one loop over the block's draws
  computes the three channels, the customer recursion and the revenue increment without
  intermediate arrays, and a second short loop adds the month to the running sums (present
  value, horizon total, all-segment and margin-weighted monthly sums). Two loops, because LLVM
  does not vectorise one loop that writes all those arrays (it cannot check that many for
  overlap). Arrays other than the block's rows are read at an unsigned index (the block's
  first draw + j), which LLVM vectorises; at a signed one it must allow for a negative index
  wrapping around, and does not;
* the baseline is not read but grown as it goes from what :class:`~cxroi.sim.kernel.BaselinePack`
  stores per segment and draw (customers, new customers and ARPU of month 1, growth factors),
  in float32 (its error bound is in BaselinePack's docstring: under 5e-6 relative over 60 months;
  growing it in float64 cost a fifth of the kernel's time in conversions and wider loads): a
  stored baseline is 35 MB for 4 000 draws × 12 segments × 60 months, whose reading cost as much
  as this and which two threads would share the memory bus for;
* expm1 is a polynomial here: numba's ``math.expm1`` calls libm once per number and cannot be
  vectorised (30 ms a run). r + r²/2! + … + rⁿ/n! is exact to float32 rounding up to a reach that
  grows with n (_REACH: degree 5 to |r| ≤ 0.1, 7 to 0.3, 9 to 0.69 < ln 2). A first pass over
  the draws (:func:`_bound`, in chunks like the kernel's) bounds every effect a segment sees by
  |coefficient| × the largest |lift| of each draw over the months; the segment then runs on the
  lowest-degree polynomial whose reach covers the bound over *all* draws of the call, or on the
  range-reduced expm1 beyond 0.69 (x = k·ln 2 + r, expm1 x = 2^k·expm1 r + 2^k − 1). Chosen
  over all draws, not per chunk, so that neither the chunks nor the threads change a number. One
  degree per segment for its three channels: a month's loop per combination of degrees would
  make dozens of variants to compile;
* gain/loss churn effects (see :mod:`cxroi.sim.kernel`) add extra·(min(u + L, 0) − min(u, 0))
  per score to the retention effect, u the baseline's distance from the reference and L the
  month's lift (points): a short loop computes that term into a row, which variants of the
  month's loop of their own add; symmetric effects run neither and read none of the loss arrays.
  The bound above counts |extra| with the slope, since min(·, 0) moves by no more than its
  argument.

A lever switched off is computed with zero effects: expm1(0) = 0 exactly, so its channel stays
at the baseline, as in the reference. Results differ from the reference by float32 rounding
order (≈ 1e-7 relative of each increment) and the float32 baseline (≤ 5e-6 relative; both
checked by tests/sim/test_fused.py), and not at all with the number of threads or chunks.

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
_MAGNITUDE = np.int32(0x7FFFFFFF)
_ZERO = FLOAT(0.0)
#: the largest |effect| the polynomials of degree 5, 7 and 9 serve (_expm1_5, …); beyond: _expm1_any.
#: Truncating r + r²/2! + … after rⁿ/n! leaves at most |r|ⁿ⁺¹/(n+1)!·e^|r|, and |expm1 r| ≥ |r|·e^−|r|,
#: so the relative error is below |r|ⁿ/(n+1)!·e^2|r|: 1.7e-8 for n = 5 at 0.1, 9.9e-9 for n = 7 at
#: 0.3, 3.9e-8 for n = 9 at 0.69 — each under float32's half ulp (6.0e-8 relative)
_REACH = (FLOAT(0.1), FLOAT(0.3), FLOAT(0.69))
_ANY = len(_REACH)  #: the tier of the range-reduced expm1


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
def _expm1_5(r):
    """expm1(r) for |r| ≤ 0.1, to float32 rounding (float32 in and out)."""
    return r + r * r * (_C2 + r * (_C3 + r * (_C4 + r * _C5)))


@numba.njit(**_INLINE)
def _expm1_7(r):
    """expm1(r) for |r| ≤ 0.3, to float32 rounding."""
    return r + r * r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * _C7)))))


@numba.njit(**_INLINE)
def _expm1_9(r):
    """expm1(r) for |r| < ln 2, to float32 rounding."""
    return r + r * r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * (_C7 + r * (_C8 + r * _C9)))))))


@numba.njit(**_INLINE)
def _expm1_any(x):
    """expm1(x) for any float32 x: +inf above 88, NaN for NaN."""
    y = min(max(x, _LOWEST), _HIGHEST)
    k = np.trunc(y * _INVERSE_LN2)  # |r| < ln 2
    r = (y - k * _LN2_HIGH) - k * _LN2_LOW
    scale = _float_with_bits(np.int32((np.int32(k) + np.int32(127)) << np.int32(23)))  # 2^k
    result = scale * _expm1_9(r) + (scale - FLOAT(1.0))
    if x <= _HIGHEST:
        return result
    return FLOAT(np.inf) if x > _HIGHEST else x


#: a block's rows (one local array, _BLOCK draws each): the baseline and increment being grown,
#: the month's scratch, the segment's per-draw constants and running sums
(_CUSTOMERS, _NEW, _HALF_ARPU, _CHANGE, _REVENUE, _GAIN, _EXTRA_NEW, _LOSS, _SURVIVAL, _CHURN, _INVERSE_SURVIVAL,
 _RETENTION_CSAT, _RETENTION_NPS, _ARPU_CSAT, _ACQ_NPS, _NEW_GROWTH, _ARPU_GROWTH, _PV, _TOTAL, _CSAT_EXTRA,
 _NPS_EXTRA, _CSAT_POSITION, _NPS_POSITION) = range(23)
_ROWS = 23
#: draws per block: 23 rows of 1 kB stay in the 32 kB L1 cache over the segment's months
_BLOCK = 256


def _month_with(expm1, asymmetric: bool):
    """The loop over a block's draws in one month of one segment, with ``expm1`` and with or
    without the gain/loss term of the retention effect (a variant compiled per function)."""

    @numba.njit(**_INLINE)
    def month(width, first, m, g, rows, csat, nps):
        """Month m for draws first … first + width − 1 (``rows``: the block's; see the reference
        for the equations): the customers' increment from month m to m + 1, the month's revenue
        increment, survival gain and extra new customers into their rows, and the baseline
        advanced to month m + 1. Lifts are read at the unsigned index first + j, which LLVM
        vectorises (a signed one it must check for wrapping around)."""
        for j in range(width):
            k = first + np.uintp(j)
            base, base_new, base_half_arpu = rows[_CUSTOMERS, j], rows[_NEW, j], rows[_HALF_ARPU, j]
            s0 = rows[_SURVIVAL, j]
            base_next = base * s0 + base_new
            before = rows[_CHANGE, j]
            c, n = csat[m, g, k], nps[m, g, k]
            effect = c * rows[_RETENTION_CSAT, j] + n * rows[_RETENTION_NPS, j]
            if asymmetric:
                effect += rows[_LOSS, j]
            w = expm1(effect)
            gain = rows[_CHURN, j] * w / (w + rows[_INVERSE_SURVIVAL, j])
            extra_new = expm1(n * rows[_ACQ_NPS, j]) * base_new
            changed = before * s0 + (before + base) * gain + extra_new
            average = before + changed  # twice the increment of average active customers
            growth = expm1(c * rows[_ARPU_CSAT, j])
            pairs = base + base_next
            rows[_REVENUE, j] = ((pairs + average) * growth + average) * base_half_arpu
            rows[_CHANGE, j] = changed
            rows[_GAIN, j] = gain
            rows[_EXTRA_NEW, j] = extra_new
            rows[_CUSTOMERS, j] = base_next
            rows[_NEW, j] = base_new * rows[_NEW_GROWTH, j]
            rows[_HALF_ARPU, j] = base_half_arpu * rows[_ARPU_GROWTH, j]

    return month


def _by_tier(variants):
    """One month's loop calling the variant of expm1 tier ``tier`` (0, 1, 2, _ANY) of ``variants``
    (numba cannot index a tuple of functions at run time)."""
    degree_5, degree_7, degree_9, range_reduced = variants

    @numba.njit(**_INLINE)
    def month(tier, width, first, m, g, rows, csat, nps):
        if tier == 0:
            degree_5(width, first, m, g, rows, csat, nps)
        elif tier == 1:
            degree_7(width, first, m, g, rows, csat, nps)
        elif tier == 2:
            degree_9(width, first, m, g, rows, csat, nps)
        else:
            range_reduced(width, first, m, g, rows, csat, nps)

    return month


_EXPM1 = (_expm1_5, _expm1_7, _expm1_9, _expm1_any)  #: by tier
_month = _by_tier(tuple(_month_with(f, False) for f in _EXPM1))
_loss_month = _by_tier(tuple(_month_with(f, True) for f in _EXPM1))


@numba.njit(**_INLINE)
def _loss_into(width, first, m, g, rows, csat, nps):
    """The gain/loss term of a month's retention effect: extra·(min(u + L, 0) − min(u, 0)) per
    score (a loop of its own, so that the month's loop reads one row more, not five)."""
    for j in range(width):
        k = first + np.uintp(j)
        u, v = rows[_CSAT_POSITION, j], rows[_NPS_POSITION, j]
        rows[_LOSS, j] = (rows[_CSAT_EXTRA, j] * (min(u + csat[m, g, k], _ZERO) - min(u, _ZERO))
                          + rows[_NPS_EXTRA, j] * (min(v + nps[m, g, k], _ZERO) - min(v, _ZERO)))


@numba.njit(**_INLINE)
def _add_month(width, first, m, discount, margin, rows, revenue_by_month, margin_by_month):
    """Add one month's revenue increments (the block's row) to the running sums."""
    for j in range(width):
        k = first + np.uintp(j)
        revenue = rows[_REVENUE, j]
        rows[_TOTAL, j] += revenue
        rows[_PV, j] += revenue * discount
        revenue_by_month[m, k] += revenue
        margin_by_month[m, k] += revenue * margin


@numba.njit(**_INLINE)
def _read(width, first, s, values, rows, row):
    """Segment s's values of the block's draws into a row."""
    for j in range(width):
        rows[row, j] = values[s, first + np.uintp(j)]


@numba.njit(**_INLINE)
def _write(width, first, s, rows, row, out):
    """A row into segment s's values of the block's draws."""
    for j in range(width):
        out[s, first + np.uintp(j)] = rows[row, j]


@numba.njit(**_INLINE)
def _keep(width, first, m, s, rows, row, out):
    """A row into month m of segment s of a monthly output."""
    for j in range(width):
        out[m, s, first + np.uintp(j)] = rows[row, j]


_IN_1D, _IN_2D, _IN_3D = (types.Array(types.float32, n, "C", readonly=True) for n in (1, 2, 3))
_OUT_2D, _OUT_3D = (types.Array(types.float32, n, "C") for n in (2, 3))
_GROUPS = types.Array(types.intp, 1, "C", readonly=True)


@numba.njit(types.void(types.intp, types.intp, types.boolean, _IN_3D, _GROUPS, *[_IN_2D] * 6,
                       types.Array(types.int32, 1, "C")), cache=True, **_COMPILE)
def _bound(start, stop, asymmetric, largest, group_of, retention_csat, retention_nps, arpu_csat, acq_nps,
           csat_extra, nps_extra, bits):
    """Raise ``bits[s]`` to the bits of a bound on every |effect| (log or logit scale) segment s
    sees in draws start … stop − 1: |coefficient| × the largest |lift| of a draw over the months
    (``largest``: Lifts.largest), and |a·csat + b·nps| ≤ |a|·max|csat| + |b|·max|nps| for the
    retention effect, whose gain/loss term adds at most |extra|·max|lift| per score (min(·, 0)
    moves by no more than its argument). NaN or infinity: above every tier."""
    draws = slice(start, stop)
    for s in range(group_of.shape[0]):
        largest_csat, largest_nps = largest[0, group_of[s], draws], largest[1, group_of[s], draws]
        rc, rn, ac, qn = retention_csat[s, draws], retention_nps[s, draws], arpu_csat[s, draws], acq_nps[s, draws]
        xc, xn = csat_extra[s, draws], nps_extra[s, draws]
        most = np.int32(0)
        for j in range(stop - start):
            lift_csat, lift_nps = largest_csat[j], largest_nps[j]
            a, b = abs(rc[j]), abs(rn[j])
            if asymmetric:
                a, b = a + abs(xc[j]), b + abs(xn[j])
            retention = a * lift_csat + b * lift_nps
            most = max(most, max(_magnitude_bits(retention),  # nested two-way max: vectorised
                                 max(_magnitude_bits(abs(qn[j]) * lift_nps),
                                     _magnitude_bits(abs(ac[j]) * lift_csat))))
        bits[s] = max(bits[s], most)


_SIGNATURE = types.void(
    types.intp, types.intp,  # the chunk: draws start … stop − 1
    types.Array(types.intp, 2, "C", readonly=True),  # per segment: expm1 tier, gain/loss term or not
    *[_IN_2D] * 5, _IN_2D, _IN_2D, _IN_2D,  # baseline: what it grows from, churn and survival
    _IN_3D, _IN_3D, _GROUPS,  # lifts, group of each segment
    *[_IN_2D] * 8, _IN_1D, _IN_1D,  # coefficients, loss extras, positions, discount, margin
    _OUT_2D, _OUT_2D, _OUT_2D, _OUT_2D, _OUT_3D, _OUT_3D, _OUT_3D, _OUT_3D,  # sums, monthly arrays
)


@numba.njit(_SIGNATURE, cache=True, **_COMPILE)
def _run(start, stop, kinds, customers0, new0, new_growth, half_arpu0, arpu_growth, churn, survival,
         inverse_survival, csat, nps, group_of, retention_csat, retention_nps, arpu_csat, acq_nps, csat_extra,
         nps_extra, csat_position, nps_position, discount, margin, revenue_pv, revenue_total, revenue_by_month,
         margin_by_month, customers_out, revenue_out, gain_out, new_out):
    """All segments and months of the draws start … stop − 1, block by block, segment s with the
    expm1 of tier ``kinds[s, 0]`` (0, 1, 2: the polynomial of degree 5, 7, 9; _ANY) and, where
    ``kinds[s, 1]``, the gain/loss term (otherwise the loss arrays are not read). A monthly output
    with one row per month (customers: months + 1) is kept; with one row it holds the customers'
    increment after the last month (customers) or nothing (the others)."""
    n_segments = churn.shape[0]
    horizon = csat.shape[0]
    kept = customers_out.shape[0] == horizon + 1
    keep_gain, keep_new = gain_out.shape[0] == horizon, new_out.shape[0] == horizon
    rows = np.empty((_ROWS, _BLOCK), dtype=FLOAT)
    for block_start in range(start, stop, _BLOCK):
        width = min(_BLOCK, stop - block_start)
        first = np.uintp(block_start)
        for segment in range(n_segments):
            s = np.uintp(segment)
            g, tier, asymmetric = np.uintp(group_of[segment]), kinds[segment, 0], kinds[segment, 1] != 0
            for values, row in ((customers0, _CUSTOMERS), (new0, _NEW), (half_arpu0, _HALF_ARPU),
                                (survival, _SURVIVAL), (churn, _CHURN), (inverse_survival, _INVERSE_SURVIVAL),
                                (retention_csat, _RETENTION_CSAT), (retention_nps, _RETENTION_NPS),
                                (arpu_csat, _ARPU_CSAT), (acq_nps, _ACQ_NPS), (new_growth, _NEW_GROWTH),
                                (arpu_growth, _ARPU_GROWTH)):
                _read(width, first, s, values, rows, row)
            if asymmetric:
                for values, row in ((csat_extra, _CSAT_EXTRA), (nps_extra, _NPS_EXTRA),
                                    (csat_position, _CSAT_POSITION), (nps_position, _NPS_POSITION)):
                    _read(width, first, s, values, rows, row)
            for row in (_CHANGE, _PV, _TOTAL):
                rows[row, :width] = 0.0
            if kept:
                _keep(width, first, np.uintp(0), s, rows, _CHANGE, customers_out)
            segment_margin = margin[segment]
            for month in range(horizon):
                m = np.uintp(month)
                if asymmetric:
                    _loss_into(width, first, m, g, rows, csat, nps)
                    _loss_month(tier, width, first, m, g, rows, csat, nps)
                else:
                    _month(tier, width, first, m, g, rows, csat, nps)
                if kept:
                    _keep(width, first, m + np.uintp(1), s, rows, _CHANGE, customers_out)
                    _keep(width, first, m, s, rows, _REVENUE, revenue_out)
                if keep_gain:
                    _keep(width, first, m, s, rows, _GAIN, gain_out)
                if keep_new:
                    _keep(width, first, m, s, rows, _EXTRA_NEW, new_out)
                _add_month(width, first, m, discount[month], segment_margin, rows, revenue_by_month, margin_by_month)
            _write(width, first, s, rows, _PV, revenue_pv)
            _write(width, first, s, rows, _TOTAL, revenue_total)
            if not kept:
                _keep(width, first, np.uintp(0), s, rows, _CHANGE, customers_out)


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
    c = coefficients
    zero = None if levers >= {"retention", "arpu", "acquisition"} else np.zeros((n_segments, n_draws), dtype=FLOAT)

    def effect(values: np.ndarray, lever: str) -> np.ndarray:
        return _contiguous(values) if lever in levers else zero

    asymmetric = c.asymmetric and "retention" in levers
    # the loss arrays, or any of the right shape (not read)
    loss = tuple(map(_contiguous, (c.retention_csat_loss_extra, c.retention_nps_loss_extra, c.csat_position,
                                   c.nps_position) if asymmetric else (c.retention_csat,) * 4))
    groups = np.clip(lifts.group_of, 0, lifts.csat.shape[1] - 1).astype(np.intp)  # as np.take(mode="clip")
    effects = (_contiguous(lifts.csat), _contiguous(lifts.nps), groups, effect(c.retention_csat, "retention"),
               effect(c.retention_nps, "retention"), effect(c.arpu_csat, "arpu"), effect(c.acq_nps, "acquisition"))
    chunks = _chunks(n_draws, n_segments * horizon * n_draws)
    bits = np.zeros((len(chunks), n_segments), dtype=np.int32)
    _in_chunks(chunks, lambda i, start, stop: _bound(start, stop, asymmetric, lifts.largest, *effects[2:], *loss[:2],
                                                     bits[i]))
    kinds = np.column_stack([tiers(bits.max(axis=0).view(FLOAT)), np.full(n_segments, asymmetric)])

    def monthly(kept: bool) -> np.ndarray:
        return np.empty((horizon if kept else 1, n_segments, n_draws), dtype=FLOAT)

    sums = [np.zeros(shape, dtype=FLOAT) for shape in [(n_segments, n_draws)] * 2 + [(horizon, n_draws)] * 2]
    customers = np.empty((horizon + 1 if keep else 1, n_segments, n_draws), dtype=FLOAT)
    revenue = monthly(keep)
    gain, new = monthly(keep and "retention" in levers), monthly(keep and "acquisition" in levers)
    arguments = (kinds, pack.customers, pack.new, pack.new_growth, pack.half_arpu, pack.arpu_growth, pack.churn,
                 pack.survival, pack.inverse_survival, *effects, *loss, _contiguous(discount), _contiguous(margin),
                 *sums, customers, revenue, gain, new)
    _in_chunks(chunks, lambda i, start, stop: _run(start, stop, *arguments))
    end = customers[-1].copy() if keep else customers[0]
    return Increments(*sums, end, revenue if keep else None, customers if keep else None,
                      gain if keep and "retention" in levers else None,
                      new if keep and "acquisition" in levers else None)


def tiers(bounds: np.ndarray) -> np.ndarray:
    """The expm1 each segment runs on, from a bound on its |effects| over all draws of a call:
    the lowest-degree polynomial whose reach covers it (0, 1, 2: degree 5, 7, 9), else _ANY (NaN
    too). Chosen from all the draws, so that how they are cut into chunks changes no number."""
    tier = np.full(bounds.shape, _ANY, dtype=np.intp)
    for reach in reversed(range(len(_REACH))):
        tier[bounds <= _REACH[reach]] = reach
    return tier


def _chunks(n_draws: int, size: int) -> list[tuple[int, int]]:
    """The draws 0 … ``n_draws`` − 1 cut into pieces of work: one piece on one thread or for a call
    of ``size`` below _THREADED_SIZE, else pieces of about _CHUNK_DRAWS draws (whole blocks), one
    per thread at least."""
    count = threads()
    if count == 1 or size < _THREADED_SIZE:
        return [(0, n_draws)]
    pieces = max(count, -(-n_draws // _CHUNK_DRAWS))
    step = min(_BLOCK, _CHUNK_DRAWS)  # cut where a block ends: only the call's last block is short
    cuts = np.minimum(np.rint(np.linspace(0, n_draws, pieces + 1) / step).astype(int) * step, n_draws)
    cuts[-1] = n_draws
    return [(start, stop) for start, stop in itertools.pairwise(dict.fromkeys(cuts.tolist())) if stop > start]


def _in_chunks(chunks: list[tuple[int, int]], work: Callable[[int, int, int], None]) -> None:
    """``work(i, start, stop)`` for every chunk i, on the calling thread and, for more than one
    chunk, the workers of :func:`_workers`; each thread takes the next chunk not taken, so one held
    up by other programs leaves its share to the others."""
    if len(chunks) == 1:
        work(0, *chunks[0])
        return
    taken = itertools.count()  # next() on it is atomic under the GIL

    def take() -> None:
        while (i := next(taken)) < len(chunks):
            work(i, *chunks[i])

    pool = _workers()
    helpers = [pool.submit(take) for _ in range(threads() - 1)]
    take()
    for helper in helpers:
        if not helper.cancel():  # one that has not started has nothing left to do
            helper.result()


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
            (pack.customers, pack.new, pack.new_growth, pack.half_arpu, pack.arpu_growth, pack.survival, pack.inverse_survival, *(v for v in vars(coefficients).values() if v is not None)))},
    }
    wrong = [f"{name} is {actual}, expected {shape}" for name, (shape, actual) in expected.items() if actual != shape]
    if wrong or lifts.csat.shape[1] == 0:
        raise ValueError("scenario kernel inputs do not fit: " + "; ".join(wrong or ["no lift groups"]))
