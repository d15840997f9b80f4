"""Deterministic demo data for `manage.py seed_demo`: generators (plain data) and the writers that seed them."""
