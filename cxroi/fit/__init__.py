"""Model fitting: the Bayesian (PyMC) and regression (statsmodels) families, diagnostics,
backtest, health gate and training orchestration. The only package that imports PyMC,
PyTensor, ArviZ or statsmodels — and only inside the modules that need them."""
