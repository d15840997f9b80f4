"""Catalog feeds in and out: parse and validate (formats), stage, decide against the live catalog, apply.

`import_catalog` runs the three phases of an `IngestionRun`; `export_catalog` writes the same format.
"""
