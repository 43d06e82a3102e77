"""``python -m cxroi.cli`` runs the command line."""

from cxroi.cli import run

run()
