"""Support for the project's own tests and benchmarks: builders of model artifacts and helpers
that start the app in a real browser. Not used by the product at run time."""
