"""Model reports: :mod:`~cxroi.report.gather` collects the content once (data summary,
diagnostics, predictive checks, backtest comparison, effects with sources, warnings),
:mod:`~cxroi.report.content` assembles it into a :class:`~cxroi.report.document.Report`, and
:mod:`~cxroi.report.render` writes it as a self-contained HTML page and as Markdown."""
