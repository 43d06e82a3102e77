"""Panel data: schema and validation, readers, customer-level aggregation, synthetic generator."""
