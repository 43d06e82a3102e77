"""Training progress: shares, rates and estimates by hand, and a real nutpie sampler counted."""

from __future__ import annotations

import pytest

from cxroi.fit.progress import ProgressLog, pymc_callback, read_latest, wait_counting


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_shares_rates_and_estimates_by_hand(tmp_path):
    clock, path = Clock(), tmp_path / "progress.jsonl"
    log = ProgressLog(path, fits=2, clock=clock)
    clock.now = 10.0
    log.start_fit("fitting the model")
    clock.now = 30.0
    log.draws(1_000, 4_000)  # a quarter of fit 1 of 2: 0.125 of sampling, × 0.95
    line = read_latest(path)
    assert line.fraction == pytest.approx(0.25 / 2 * 0.95, abs=1e-4)  # the file keeps 4 decimals
    assert line.draws_per_s == pytest.approx(1_000 / 20)  # 20 s since the fit began
    assert line.eta_s == pytest.approx(30 * (1 - 0.11875) / 0.11875, abs=0.1)  # elapsed × left / done
    log.start_fit("backtest")
    log.draws(4_000, 4_000)
    assert read_latest(path).fraction == pytest.approx(0.95)
    log.finished()
    assert read_latest(path).fraction == 1.0


def test_without_a_file_nothing_is_written_and_a_torn_line_is_skipped(tmp_path):
    ProgressLog(None).draws(1, 2)  # no error, nowhere to write
    path = tmp_path / "progress.jsonl"
    path.write_text('{"fraction": 0.5, "stage": "s", "elapsed_s": 1.0}\n{"fraction": 0.6, "sta', encoding="utf-8")
    assert read_latest(path).fraction == 0.5
    assert read_latest(tmp_path / "absent.jsonl") is None


def test_pymc_callback_reports_every_percent():
    seen = []
    callback = pymc_callback(400, lambda done, total: seen.append(done))
    for _ in range(400):
        callback()
    assert seen == list(range(4, 401, 4))


@pytest.mark.slow
def test_a_real_nutpie_sampler_is_counted_while_it_runs():
    import numpy as np
    import nutpie
    import pymc as pm

    with pm.Model() as model:
        x = pm.Normal("x", 0, 1, shape=200)
        pm.Normal("y", x, 1, observed=np.zeros(200))
    compiled = nutpie.compile_pymc_model(model)
    sampler = nutpie.sample(compiled, draws=3_000, tune=500, chains=2, cores=1, seed=1, progress_bar=False,
                            blocking=False, save_warmup=False)
    seen = []
    trace = wait_counting(sampler, 2 * 3_500, lambda done, total: seen.append(done), sleep=lambda s: None)
    assert trace.posterior.sizes["draw"] == 3_000
    assert seen[-1] == 7_000 and seen == sorted(seen)  # counts only grow, and end at every draw
    assert len(seen) >= 2  # at least one count while sampling and the final one
