"""Catalog feeds in and out: parse and validate (formats), stage, decide against the live catalog and the tenant's
attribute contracts (contracts), then apply, or hold the run for review (held); every run is profiled (profile,
freshness).

`import_catalog` runs the three phases of an `IngestionRun`; `export_catalog` writes the same format.
"""
